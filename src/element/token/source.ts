import { SecureWidgetError, isAbortError } from '../errors.js';
import { MAX_TOKEN_BODY } from '../../protocol/limits.js';
import { grantFromResponse, type ExpiryHints, type TokenGrant } from './grant.js';

/** What `fetchToken` may resolve to (docs/design.md, "Element"). */
export type CustomTokenResult = string | { token: string; expiresAt?: number | string; expiresIn?: number };
export type CustomTokenFetcher = (signal: AbortSignal) => Promise<CustomTokenResult>;

/** One attempt to get a token; the broker decides when to call it and what to do with failures. */
export type TokenLoader = (signal: AbortSignal) => Promise<TokenGrant>;

export const DEFAULT_TIMEOUT = 10_000;

export interface EndpointOptions {
  url: string;
  credentials: RequestCredentials;
  timeout?: number;
}

/**
 * GET the host backend's token endpoint. Every way this can go wrong becomes a SecureWidgetError with its own code;
 * an abort by the caller stays an AbortError so that nobody reports a fetch that nobody needs any more.
 */
export function endpointLoader({ url, credentials, timeout = DEFAULT_TIMEOUT }: EndpointOptions): TokenLoader {
  return async (signal) => {
    const { signal: attempt, timedOut, done, stop } = withTimeout(signal, timeout);
    try {
      let response: Response;
      try {
        response = await fetch(url, {
          credentials,
          signal: attempt,
          // A token must never come from, or be stored in, the HTTP cache.
          cache: 'no-store',
          headers: { Accept: 'application/json, text/plain;q=0.9' },
        });
      } catch (cause) {
        throw fetchFailure(cause, signal, timedOut());
      }
      const receivedAt = Date.now();
      refuseForeignRedirect(response, url);
      const date = Date.parse(response.headers.get('Date') ?? '');
      const serverTime = Number.isFinite(date) ? date : null;
      if (!response.ok) throw httpFailure(response, serverTime);

      let body: string;
      try {
        body = await readLimited(response, stop);
      } catch (cause) {
        throw fetchFailure(cause, signal, timedOut());
      }
      const { token, expiryHints: hints } = parseBody(body, response.headers.get('Content-Type') ?? '');
      return grantFromResponse(token, hints, { receivedAt, serverTime });
    } finally {
      done();
    }
  };
}

/**
 * `fetchToken` replaces the endpoint: same validation and timeout, no server clock to read (so `iat` stands in for
 * it). A rejection that is not ours is taken for a network failure (a host SDK offline), so it is retried.
 */
export function customLoader(fetchToken: CustomTokenFetcher, timeout = DEFAULT_TIMEOUT): TokenLoader {
  return async (signal) => {
    const { signal: attempt, timedOut, done } = withTimeout(signal, timeout);
    let result: CustomTokenResult;
    try {
      // The race makes the timeout hold even for a fetchToken that ignores its signal.
      result = await Promise.race([
        fetchToken(attempt),
        new Promise<never>((_, reject) =>
          attempt.addEventListener('abort', () => reject(attempt.reason), { once: true }),
        ),
      ]);
    } catch (cause) {
      throw fetchFailure(cause, signal, timedOut(), 'fetchToken');
    } finally {
      done();
    }
    const receivedAt = Date.now();
    if (typeof result === 'string') return grantFromResponse(result, {}, { receivedAt, serverTime: null });
    if (result === null || typeof result !== 'object') {
      throw new SecureWidgetError('token-missing', 'fetchToken resolved without a token.');
    }
    return grantFromResponse(result.token, result, { receivedAt, serverTime: null });
  };
}

/**
 * The caller's signal plus a timeout. The timer is a plain setTimeout rather than AbortSignal.timeout so that tests
 * with a fake clock control it, and it is cleared as soon as the attempt settles.
 */
function withTimeout(outer: AbortSignal, timeout: number) {
  const controller = new AbortController();
  let fired = false;
  const abort = () => controller.abort(outer.reason);
  if (outer.aborted) abort();
  else outer.addEventListener('abort', abort, { once: true });
  const timer = setTimeout(() => {
    fired = true;
    controller.abort(new DOMException('The token endpoint did not answer in time.', 'TimeoutError'));
  }, timeout);
  return {
    signal: controller.signal,
    /** Ends the request: a body past its limit is read no further. */
    stop: () => controller.abort(),
    timedOut: () => fired,
    done: () => {
      clearTimeout(timer);
      outer.removeEventListener('abort', abort);
    },
  };
}

function fetchFailure(cause: unknown, outer: AbortSignal, timedOut: boolean, what = 'The token endpoint'): unknown {
  if (outer.aborted) return isAbortError(cause) ? cause : new DOMException('Aborted', 'AbortError');
  if (timedOut) {
    return new SecureWidgetError('endpoint-timeout', `${what} did not answer in time.`, { fatal: false, cause });
  }
  if (cause instanceof SecureWidgetError) return cause;
  return new SecureWidgetError('endpoint-network', `${what} failed to get a token.`, { fatal: false, cause });
}

/**
 * A redirect to another origin would launder the token's origin: the answer would come from a server the page never
 * named, over plain http even, which the URL rule refuses when configured directly. Redirects within the endpoint's
 * origin are followed as usual. The body is not read.
 */
function refuseForeignRedirect(response: Response, endpoint: string): void {
  if (!response.redirected || new URL(response.url).origin === new URL(endpoint).origin) return;
  void response.body?.cancel().catch(() => {});
  throw new SecureWidgetError('url-rejected', 'The token endpoint redirected to another origin.');
}

function httpFailure(response: Response, serverTime: number | null): SecureWidgetError {
  const { status } = response;
  // Nobody reads an error body: release the connection.
  void response.body?.cancel().catch(() => {});
  // 408, 429 and 5xx say "not now"; any other status says "not like this", and asking again will not help.
  const transient = status === 408 || status === 429 || status >= 500;
  // An HTTP-date is by the server's clock: measure it from the server's Date, not from a client clock that may be off.
  const retryAfter = parseRetryAfter(response.headers.get('Retry-After'), serverTime ?? Date.now());
  return new SecureWidgetError('endpoint-http', `The token endpoint answered HTTP ${status}.`, {
    fatal: !transient,
    status,
    ...(retryAfter !== null && { retryAfter }),
  });
}

/** `Retry-After` as a delay in ms: delta-seconds or an HTTP date (RFC 9110 §10.2.3). */
export function parseRetryAfter(value: string | null, now = Date.now()): number | null {
  if (!value) return null;
  if (/^\s*\d+\s*$/.test(value)) return Number(value) * 1000;
  // An HTTP-date names its weekday or month; anything else (`-5`, `1.5`) is junk that Date.parse would still accept.
  if (!/[a-z]{3}/i.test(value)) return null;
  const date = Date.parse(value);
  return Number.isFinite(date) ? Math.max(0, date - now) : null;
}

/**
 * The body as text, read no further than MAX_TOKEN_BODY bytes (counted as the server counts its vendor's); a declared
 * length over it is refused unread. The text comes from the browser's own reader (a Blob), while a script reader on a
 * clone only counts bytes and calls `stop` (the request's abort) past the limit. Reading the body itself with a script
 * reader would do, but Chromium then ends the load of a chunked body before the network reports it complete, and
 * DevTools shows a token request that answered 200, and whose token is in use, as canceled (net::ERR_ABORTED).
 */
async function readLimited(response: Response, stop: () => void): Promise<string> {
  if (Number(response.headers.get('Content-Length')) > MAX_TOKEN_BODY) throw tooLarge();
  const counter = response.clone().body?.getReader();
  let received = 0;
  const count = async (): Promise<void> => {
    for (let chunk = await counter!.read(); !chunk.done; chunk = await counter!.read()) {
      if ((received += chunk.value.byteLength) > MAX_TOKEN_BODY) return stop();
    }
  };
  if (counter) count().catch(() => {});
  const body = await response.blob().catch((cause: unknown) => {
    throw received > MAX_TOKEN_BODY ? tooLarge() : cause;
  });
  if (body.size > MAX_TOKEN_BODY) throw tooLarge();
  return body.text();
}

function tooLarge(): SecureWidgetError {
  return new SecureWidgetError('token-malformed', "The token endpoint's answer is too large for a token.");
}

type Json = Record<string, unknown>;
const isObject = (value: unknown): value is Json => typeof value === 'object' && value !== null;

/**
 * The shapes of docs/design.md, "Element": `{embedToken}`, `{token}`, `{data: {embedToken}}` (the vendor's own shape,
 * which hosts often pass through), and a text/plain body that is the token itself.
 * @internal
 */
function parseBody(body: string, contentType: string): { token: unknown; expiryHints: ExpiryHints } {
  const type = contentType.split(';')[0]!.trim().toLowerCase();
  if (type === 'text/plain') return { token: body, expiryHints: {} };
  if (type !== 'application/json' && !type.endsWith('+json')) {
    throw new SecureWidgetError(
      'token-missing',
      `The token endpoint answered ${type || 'without a Content-Type'}, not JSON or text/plain.`,
    );
  }
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch (cause) {
    throw new SecureWidgetError('token-missing', 'The token endpoint answered with invalid JSON.', { cause });
  }
  for (const envelope of [json, isObject(json) ? json.data : undefined]) {
    if (!isObject(envelope)) continue;
    const token = envelope.embedToken ?? envelope.token;
    if (token !== undefined) {
      const { expiresAt, expiresIn } = envelope;
      return {
        token,
        expiryHints: {
          expiresAt: typeof expiresAt === 'number' || typeof expiresAt === 'string' ? expiresAt : null,
          expiresIn: typeof expiresIn === 'number' || typeof expiresIn === 'string' ? expiresIn : null,
        },
      };
    }
  }
  throw new SecureWidgetError('token-missing', 'The token endpoint answered without a token.');
}
