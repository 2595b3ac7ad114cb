/**
 * The exchange behind `tokenExchange` and `accessKeyExchange`: one POST to the vendor's token API, its failures as
 * `TokenIssueError`s. Internal: imported by those two files only, never exported from the package.
 */
import { MAX_TOKEN_BODY } from '../../protocol/limits.js';
import { urlRuleViolation } from '../../protocol/url-rule.js';
import { hasUnexpandedTemplate, isPlaceholderSecret } from '../placeholder-secret.js';
import type { TokenExchangeOptions } from '../exchange-options.js';
import { usableToken, type IssuedToken, type TokenIssuer } from '../user-tokens.js';
import { readBoundedBody } from './bounded-body.js';
import { ownIssueError } from './own-errors.js';
import { causeCode } from './platform-reason.js';

/** For a call that comes without a signal (one made by hand): the handler always passes one, with its deadline. */
const SIGNAL_LESS_TIMEOUT_MS = 5000;

/** `caller` is the public function's name, for its `TypeError`s; `defaultPick` its own default `pick`. */
export function createExchange<User>(
  caller: string,
  options: TokenExchangeOptions<User>,
  defaultPick: (json: unknown) => unknown,
): TokenIssuer<User, IssuedToken> {
  if (typeof options !== 'object' || options === null) throw new TypeError(`${caller}: options must be an object`);
  const url = vendorUrl(caller, options.url);
  const extraHeaders = requestHeaders(caller, options.headers);
  const makeBody = options.body;
  if (makeBody !== undefined && typeof makeBody !== 'function') {
    throw new TypeError(`${caller}: options.body must be a function of the user`);
  }
  // Refused rather than ignored: inside the handler the handler's deadline decides, so a value here would be a
  // deadline that never applies (`timeoutMs: 300` answered 504 after 5 s). The message names what replaces it.
  if ((options as { timeoutMs?: unknown }).timeoutMs !== undefined) {
    throw new TypeError(
      `${caller}: options.timeoutMs is no longer read; set the deadline on the handler, ` +
        'createTokenHandler({ timeoutMs }), or pass { signal: AbortSignal.timeout(ms) } when you call the issuer yourself',
    );
  }
  const pick = options.pick ?? defaultPick;
  if (typeof pick !== 'function') throw new TypeError(`${caller}: options.pick must be a function`);
  const customFetch = options.fetch;
  if (customFetch !== undefined && typeof customFetch !== 'function') {
    throw new TypeError(`${caller}: options.fetch must be a function`);
  }

  return async (user, context) => {
    // The caller's signal carries the deadline (createTokenHandler's aborts after its own timeoutMs); only a call
    // without one gets a timer here. Either way one timer decides, never the first of two.
    const signal = context?.signal ?? AbortSignal.timeout(SIGNAL_LESS_TIMEOUT_MS);
    // The host's own code, so its errors pass through as they are: they are not the vendor's failures.
    const bodyValue: unknown = makeBody ? await makeBody(user) : undefined;
    if (signal.aborted) throw abortError(signal);
    const body = bodyValue === undefined ? undefined : JSON.stringify(bodyValue);

    // Aborts and timeouts can strike while the headers or the body are on their way: both map the same way.
    // The platform's code (`ECONNREFUSED`, `ENOTFOUND`) says why, and names no host, path or query.
    const failure = (error: unknown): unknown => {
      if (signal.aborted) return abortError(signal);
      const code = causeCode(error);
      const why = code === undefined ? '' : ` (${code})`;
      return ownIssueError('vendor-network', `The vendor token API could not be reached${why}.`, { cause: error });
    };

    const headers = new Headers({ Accept: 'application/json' });
    if (body !== undefined) headers.set('Content-Type', 'application/json');
    for (const [name, value] of extraHeaders) headers.set(name, value);

    let response: Response;
    try {
      response = await (customFetch ?? globalThis.fetch)(url, {
        method: 'POST',
        headers,
        ...(body === undefined ? {} : { body }),
        signal,
        // A followed 307/308 would replay the secrets to wherever the Location points; a redirect is a vendor-http
        // error instead.
        redirect: 'manual',
      });
    } catch (error) {
      throw failure(error);
    }

    if (response.status < 200 || response.status > 299) {
      // The body is never read: it may echo the request, and nothing in it is needed.
      void response.body?.cancel().catch(() => {});
      throw ownIssueError('vendor-http', `The vendor token API answered HTTP ${response.status}.`, {
        status: response.status,
      });
    }

    let bytes: Uint8Array | null;
    try {
      bytes = await readBoundedBody(response, MAX_TOKEN_BODY, signal);
    } catch (error) {
      throw failure(error);
    }
    if (bytes === null) {
      // Whatever it is (a page, a dump, an attack), it is no token envelope: read no further, and quote none of it.
      throw ownIssueError('vendor-response', `The vendor token API answered more than ${MAX_TOKEN_BODY} bytes.`, {
        status: response.status,
      });
    }

    let json: unknown;
    try {
      // As response.text() decodes: UTF-8, a BOM dropped, a bad sequence replaced rather than thrown.
      json = JSON.parse(new TextDecoder().decode(bytes));
    } catch {
      // No cause: JSON.parse's SyntaxError quotes the body, and the body may echo a secret.
      throw ownIssueError('vendor-response', 'The vendor token API answered with a body that is not JSON.', {
        status: response.status,
      });
    }

    let picked: unknown;
    try {
      picked = pick(json);
    } catch (error) {
      throw ownIssueError('vendor-response', 'options.pick threw on the vendor token API response.', {
        status: response.status,
        cause: error,
      });
    }
    return usableToken(picked, Date.now(), response.status);
  };
}

/**
 * Why the call stopped. A deadline passing (a `TimeoutError`, from the handler or `AbortSignal.timeout`) is the
 * vendor's failure, `vendor-timeout`; any other abort is the caller giving up, and its own reason goes back untouched
 * so that the handler knows nobody is waiting.
 */
function abortError(signal: AbortSignal): unknown {
  const reason: unknown = signal.reason;
  if ((reason as { name?: unknown } | null)?.name !== 'TimeoutError') return reason;
  return ownIssueError('vendor-timeout', 'The vendor token API did not answer in time.', { cause: reason });
}

function requestHeaders(caller: string, input: unknown): Array<[string, string]> {
  const headers: Array<[string, string]> = [];
  if (input === undefined) return headers;
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    throw new TypeError(`${caller}: options.headers must be an object of header names to string values`);
  }
  for (const [name, value] of Object.entries(input)) {
    // Checked here rather than by fetch: the platform's own TypeError quotes an invalid value, secret or not.
    const option = `${caller}: options.headers["${safeName(name)}"]`;
    if (typeof value !== 'string') throw new TypeError(`${option} must be a string`);
    try {
      new Headers([[name, value]]);
    } catch {
      throw new TypeError(`${option} is not a valid header name and value`);
    }
    if (isCredentialHeader(name) && isPlaceholderSecret(value)) {
      throw new TypeError(
        `${option} is empty, a placeholder or an unexpanded template (like YOUR_API_KEY or \${API_KEY}), not a credential`,
      );
    }
    headers.push([name, value]);
  }
  return headers;
}

/** A header name goes into a message only if it is a valid token: an invalid one might be a pasted secret. */
function safeName(name: string): string {
  return /^[!#$%&'*+\-.^_`|~0-9A-Za-z]{1,64}$/.test(name) ? name : '…';
}

function isCredentialHeader(name: string): boolean {
  return /^(?:authorization|proxy-authorization|cookie)$|key|token|secret|auth|passw/i.test(name);
}

function vendorUrl(caller: string, input: unknown): URL {
  // `https://${QRVEY_DOMAIN}/…` parses (`$`, `{` and `}` may stand in a host name) and would fail on every request.
  if (typeof input === 'string' && hasUnexpandedTemplate(input)) {
    throw new TypeError(`${caller}: options.url holds an unexpanded template (like \${VENDOR_DOMAIN})`);
  }
  let url: URL;
  try {
    if (typeof input !== 'string' && !(input instanceof URL)) throw new TypeError();
    url = new URL(input);
  } catch {
    throw new TypeError(`${caller}: options.url must be an absolute URL`);
  }
  // Secrets cross the network with the request: plain http only where they never leave the machine.
  const violation = urlRuleViolation(url);
  if (violation) throw new TypeError(`${caller}: options.url ${violation}`);
  return url;
}
