import { TokenIssueError } from './errors.js';
import { readJwtExpiry } from './token-handler.js';
import type { IssuedToken, TokenIssuer } from './token-handler.js';

export interface AccessKeyExchangeOptions {
  /** The vendor's token API: `https:`, or `http:` on a loopback host only (the access key travels in the body). */
  url: string | URL;
  accessId: string;
  /** Secret. Sent to `url` only; never in a response, an error message or a log line. */
  accessKey: string;
  /** Default 5000. */
  timeoutMs?: number;
  /** Where the token is in the vendor's JSON. Default `json.data.embedToken`. */
  pick?: (json: unknown) => unknown;
  /** Default `globalThis.fetch`, looked up per call. */
  fetch?: typeof fetch;
}

const DEFAULT_TIMEOUT_MS = 5000;

/**
 * Exchanges an access id and key for an embed token: `POST url {accessId, accessKey}` → `{data: {embedToken}}`
 * (the Returning.AI flow). Every user gets the same kind of token, so the user is ignored.
 */
export function accessKeyExchange(options: AccessKeyExchangeOptions): TokenIssuer<unknown> {
  if (typeof options !== 'object' || options === null) {
    throw new TypeError('accessKeyExchange: options must be an object');
  }
  const url = vendorUrl(options.url);
  const accessId = requireCredential(options.accessId, 'accessId');
  const accessKey = requireCredential(options.accessKey, 'accessKey');
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  if (typeof timeoutMs !== 'number' || !Number.isInteger(timeoutMs) || timeoutMs <= 0) {
    throw new TypeError('accessKeyExchange: options.timeoutMs must be a positive integer (milliseconds)');
  }
  const pick = options.pick ?? pickEmbedToken;
  if (typeof pick !== 'function') throw new TypeError('accessKeyExchange: options.pick must be a function');
  const customFetch = options.fetch;
  if (customFetch !== undefined && typeof customFetch !== 'function') {
    throw new TypeError('accessKeyExchange: options.fetch must be a function');
  }
  const body = JSON.stringify({ accessId, accessKey });

  return async (_user, context) => {
    const callerSignal = context?.signal;
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

    let response: Response;
    try {
      response = await (customFetch ?? globalThis.fetch)(url, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
        body,
        signal,
        // A followed 307/308 would replay the access key to wherever the Location points; a redirect is a
        // vendor-http error instead.
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
      // No cause: JSON.parse's SyntaxError quotes the body, and the body may echo the access key.
      throw new TokenIssueError('vendor-response', 'The vendor token API answered with a body that is not JSON.', {
        status: response.status,
      });
    }

    let token: unknown;
    try {
      token = pick(json);
    } catch (error) {
      throw new TokenIssueError('vendor-response', 'options.pick threw on the vendor token API response.', {
        status: response.status,
        cause: error,
      });
    }
    if (typeof token !== 'string' || token.trim() === '') {
      throw new TokenIssueError('vendor-response', 'The vendor token API response has no token.', {
        status: response.status,
      });
    }

    const issued: IssuedToken = { token };
    const expiresAt = readJwtExpiry(token);
    if (expiresAt !== undefined) issued.expiresAt = expiresAt;
    return issued;
  };
}

function pickEmbedToken(json: unknown): unknown {
  if (typeof json !== 'object' || json === null) return undefined;
  const data = (json as { data?: unknown }).data;
  if (typeof data !== 'object' || data === null) return undefined;
  return (data as { embedToken?: unknown }).embedToken;
}

function requireCredential(value: unknown, name: 'accessId' | 'accessKey'): string {
  // The message names the option and never quotes it: a misplaced secret must not end up in a crash log.
  if (typeof value !== 'string' || value.trim() === '') {
    throw new TypeError(`accessKeyExchange: options.${name} must be a non-empty string`);
  }
  return value;
}

function vendorUrl(input: unknown): URL {
  let url: URL;
  try {
    if (typeof input !== 'string' && !(input instanceof URL)) throw new TypeError();
    url = new URL(input);
  } catch {
    throw new TypeError('accessKeyExchange: options.url must be an absolute URL');
  }
  // The access key crosses the network in the request body: plain http only where it never leaves the machine.
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && isLoopbackHost(url.hostname))) {
    throw new TypeError('accessKeyExchange: options.url must be https:, or http: on a loopback host');
  }
  if (url.username !== '' || url.password !== '') {
    throw new TypeError('accessKeyExchange: options.url must not contain credentials');
  }
  return url;
}

/** `hostname` as the URL parser normalises it: lower case, IPv4 in dotted decimal, IPv6 in brackets. */
function isLoopbackHost(hostname: string): boolean {
  if (hostname === 'localhost' || hostname.endsWith('.localhost')) return true;
  if (hostname === '[::1]') return true;
  return /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(hostname);
}
