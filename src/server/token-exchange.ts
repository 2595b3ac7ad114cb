import { urlRuleViolation } from '../protocol/url-rule.js';
import { TokenIssueError } from './errors.js';
import { isPlaceholderSecret } from './placeholder-secret.js';
import { readJwtExpiry } from './user-tokens.js';
import type { IssuedToken, TokenIssuer } from './user-tokens.js';

export interface TokenExchangeOptions<User> {
  /**
   * The vendor's token API, called with `POST`: `https:`, or `http:` on a loopback host only (the request carries
   * secrets). Never quoted in an error message, so an API key in its query string stays out of logs too.
   */
  url: string | URL;
  /**
   * Sent with every call, over the defaults `Content-Type: application/json` (with a body) and
   * `Accept: application/json`. Treated as secrets: no error message quotes a value. Values of credential-looking
   * headers (`Authorization`, `Cookie`, any name containing `key`, `token`, `secret`, `auth`, `password`) are refused
   * at construction when empty or a placeholder such as `YOUR_API_KEY`.
   */
  headers?: Record<string, string>;
  /**
   * The JSON body for this user, from the user `authorize` returned (never from the browser's request). May be async.
   * Without it, or when it returns `undefined`, the request has no body.
   */
  body?: (user: User) => unknown;
  /**
   * Finds the token in the vendor's JSON: return the token string, or `{token, expiresAt}` (epoch seconds) for a
   * vendor that states the lifetime of an opaque token beside it. Default `json.token`. A JWT's `exp` is read when no
   * `expiresAt` is given.
   */
  pick?: (json: unknown) => unknown;
  /** Default 5000. */
  timeoutMs?: number;
  /** Default `globalThis.fetch`, looked up per call. */
  fetch?: typeof fetch;
}

const DEFAULT_TIMEOUT_MS = 5000;

/**
 * Gets an embed token from the vendor's token API: `POST url` with `headers` and `body(user)`, then `pick(json)`.
 * Failures are `TokenIssueError`s whose messages never quote the vendor's answer or a secret: `vendor-timeout`,
 * `vendor-network`, `vendor-http` (with `status`; a redirect counts) and `vendor-response`. A caller's abort rejects
 * with the caller's `AbortError`, untouched.
 *
 * @example Qrvey: an API key header, the user and app in the body, the token in `token`.
 * ```ts
 * tokenExchange({
 *   url: `https://${process.env.QRVEY_DOMAIN}/devapi/v4/core/login/token`,
 *   headers: { 'x-api-key': process.env.QRVEY_API_KEY! },
 *   body: (user: { id: string }) => ({ userId: user.id, appId: process.env.QRVEY_APP_ID }),
 * });
 * ```
 */
export function tokenExchange<User = unknown>(options: TokenExchangeOptions<User>): TokenIssuer<User> {
  return createExchange('tokenExchange', options, pickToken);
}

/**
 * The exchange behind `tokenExchange` and `accessKeyExchange`, with the public function's name for its `TypeError`s
 * and its own default `pick`. Not exported from the package.
 */
export function createExchange<User>(
  caller: string,
  options: TokenExchangeOptions<User>,
  defaultPick: (json: unknown) => unknown,
): TokenIssuer<User> {
  if (typeof options !== 'object' || options === null) throw new TypeError(`${caller}: options must be an object`);
  const url = vendorUrl(caller, options.url);
  const extraHeaders = requestHeaders(caller, options.headers);
  const makeBody = options.body;
  if (makeBody !== undefined && typeof makeBody !== 'function') {
    throw new TypeError(`${caller}: options.body must be a function of the user`);
  }
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  if (typeof timeoutMs !== 'number' || !Number.isInteger(timeoutMs) || timeoutMs <= 0) {
    throw new TypeError(`${caller}: options.timeoutMs must be a positive integer (milliseconds)`);
  }
  const pick = options.pick ?? defaultPick;
  if (typeof pick !== 'function') throw new TypeError(`${caller}: options.pick must be a function`);
  const customFetch = options.fetch;
  if (customFetch !== undefined && typeof customFetch !== 'function') {
    throw new TypeError(`${caller}: options.fetch must be a function`);
  }

  return async (user, context) => {
    const callerSignal = context?.signal;
    // The host's own code, so its errors pass through as they are: they are not the vendor's failures.
    const bodyValue: unknown = makeBody ? await makeBody(user) : undefined;
    callerSignal?.throwIfAborted();
    const body = bodyValue === undefined ? undefined : JSON.stringify(bodyValue);

    const timeout = AbortSignal.timeout(timeoutMs);
    const signal = callerSignal ? AbortSignal.any([callerSignal, timeout]) : timeout;

    // Aborts and timeouts can strike while the headers or the body are on their way: both map the same way.
    const failure = (error: unknown): unknown => {
      // The client went away: let the AbortError through untouched so the handler knows nobody is waiting.
      if (callerSignal?.aborted) return error;
      if (timeout.aborted || (error as { name?: unknown } | null)?.name === 'TimeoutError') {
        return new TokenIssueError('vendor-timeout', `The vendor token API did not answer within ${timeoutMs} ms.`, {
          cause: error,
        });
      }
      return new TokenIssueError('vendor-network', 'The vendor token API could not be reached.', { cause: error });
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
      throw new TokenIssueError('vendor-http', `The vendor token API answered HTTP ${response.status}.`, {
        status: response.status,
      });
    }

    let text: string;
    try {
      text = await response.text();
    } catch (error) {
      throw failure(error);
    }

    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      // No cause: JSON.parse's SyntaxError quotes the body, and the body may echo a secret.
      throw new TokenIssueError('vendor-response', 'The vendor token API answered with a body that is not JSON.', {
        status: response.status,
      });
    }

    let picked: unknown;
    try {
      picked = pick(json);
    } catch (error) {
      throw new TokenIssueError('vendor-response', 'options.pick threw on the vendor token API response.', {
        status: response.status,
        cause: error,
      });
    }
    const issued = issuedToken(picked);
    if (issued === undefined) {
      throw new TokenIssueError('vendor-response', 'The vendor token API response has no token.', {
        status: response.status,
      });
    }
    return issued;
  };
}

function pickToken(json: unknown): unknown {
  return typeof json === 'object' && json !== null ? (json as { token?: unknown }).token : undefined;
}

/** What `pick` returned, as an `IssuedToken`; undefined when it holds no usable token or a bad `expiresAt`. */
function issuedToken(picked: unknown): IssuedToken | undefined {
  let token: unknown = picked;
  let expiresAt: unknown;
  if (typeof picked === 'object' && picked !== null) {
    ({ token, expiresAt } = picked as { token?: unknown; expiresAt?: unknown });
  }
  if (typeof token !== 'string' || token.trim() === '') return undefined;
  if (expiresAt !== undefined && !(typeof expiresAt === 'number' && Number.isFinite(expiresAt) && expiresAt > 0)) {
    return undefined;
  }
  const issued: IssuedToken = { token };
  const exp = (expiresAt as number | undefined) ?? readJwtExpiry(token);
  if (exp !== undefined) issued.expiresAt = exp;
  return issued;
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
      throw new TypeError(`${option} is empty or a placeholder (like YOUR_API_KEY), not a credential`);
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

// --- the vendor's URL ----------------------------------------------------------------------------------------------

function vendorUrl(caller: string, input: unknown): URL {
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

