import { describeIssueFailure, thrownKind } from './issue-failure.js';
import { createRateLimiter, type RateLimitOptions, type RateLimitVerdict } from './rate-limit.js';
import { bodyExceeds, checkAllowedOrigins, judgeSite } from './request-guard.js';
import { boundedCache, boundedStore } from './internal/bounded-store.js';
import { refuseUnknownOptions } from './internal/known-options.js';
import { checkSharedStore, isRateLimitVerdict, type SharedTokenStore } from './shared-store.js';
import { createMemoryTokenCache, isTokenCache, type TokenCache } from './token-cache.js';
import { UserTokens, type IssuedToken, type TokenIssuer, type TokenIssuerResult } from './user-tokens.js';

export type { IssuedToken, TokenIssuer, TokenIssuerResult };

export interface TokenHandlerOptions<User> {
  /**
   * The host's own session check. The user it returns is the only source of claims: nothing from the query string
   * or the body reaches `issue`, so a signed-in user cannot ask for someone else's token. `null`/`undefined` → 401.
   */
  authorize: (request: Request) => User | null | undefined | Promise<User | null | undefined>;
  issue: TokenIssuer<User>;
  /**
   * The key under which a user's token is cached and their requests are counted. Default: the user itself when it is
   * a string, else its `id`, else its `sub`. Two users must never share a key: they would share a token.
   */
  userId?: (user: User) => string;
  /**
   * Other origins whose pages may call the endpoint with the user's cookies, such as `https://app.example`. They get
   * CORS headers naming exactly their origin; every other cross-site request is refused with 403. Default: none.
   */
  allowedOrigins?: string[];
  /** Requests per user: `max` per `windowMs` (default 30 a minute), beyond which 429. `false` turns it off. */
  rateLimit?: RateLimitOptions | false;
  /**
   * Where each user's token waits for their next request. Default: in memory (10,000 users); a shared store for
   * several instances; `false` asks the vendor on every request (one call per user at a time, still).
   */
  cache?: TokenCache | false;
  /**
   * A store shared by several instances, such as `redisStore({ client })` from `secure-widget/server/redis`: one
   * cache, one rate limit and one vendor call per user across all of them. The handler keeps its memory cache and its
   * own rate limit beside it, and falls back to them whenever the store fails (logged as `store-failed`, at most once
   * per 30 s). Takes the place of `cache`: pass one or the other.
   */
  store?: SharedTokenStore;
  /** Seconds of life a cached token must have left to be handed out. Default 60, as the element's `refresh-margin`. */
  refreshMargin?: number;
  /**
   * How long `issue` may take before the answer is 504. Default 5000 ms. The one deadline of the vendor call: the
   * signal `issue` gets aborts with a `TimeoutError` when it passes, and an exchange's own `timeoutMs` plays no part.
   */
  timeoutMs?: number;
  /** Milliseconds since the epoch; the clock behind the `Date` header, the cache and the rate limit. Default `Date.now`. */
  now?: () => number;
  /**
   * Default `console`. One line per failed request: the step that failed (the issuer's code, the vendor's HTTP status,
   * and what this library knows of why: a key that did not import and why, the deadline that passed), never a token
   * or a secret. A host's own error is named by its class only, since its message may hold anything.
   */
  logger?: { warn(message: string): void };
}

export type TokenHandlerErrorCode =
  | 'method-not-allowed'
  | 'payload-too-large'
  | 'cross-site'
  | 'unauthorized'
  | 'rate-limited'
  | 'vendor-failed'
  | 'vendor-timeout'
  | 'issuer-failed'
  | 'internal';

const ERROR_MESSAGES: Record<TokenHandlerErrorCode, string> = {
  'method-not-allowed': 'Use GET or POST.',
  'payload-too-large': 'A token request has no body to speak of.',
  'cross-site': 'Token requests from other sites are refused.',
  unauthorized: 'Sign in to load this widget.',
  'rate-limited': 'Too many token requests; try again later.',
  'vendor-failed': 'The widget vendor could not issue a token.',
  'vendor-timeout': 'The widget vendor did not answer in time.',
  'issuer-failed': 'This site could not issue a token.',
  internal: 'Internal server error.',
};

const HANDLER_OPTIONS: Record<keyof TokenHandlerOptions<unknown>, true> = {
  authorize: true,
  issue: true,
  userId: true,
  allowedOrigins: true,
  rateLimit: true,
  cache: true,
  store: true,
  refreshMargin: true,
  timeoutMs: true,
  now: true,
  logger: true,
};
const RATE_LIMIT_OPTIONS: Record<keyof RateLimitOptions, true> = { max: true, windowMs: true, maxUsers: true };

// The element sends no body; a form or a JSON ping fits in far less. Anything bigger is not a token request.
const MAX_BODY_BYTES = 1024;
const DEFAULT_TIMEOUT_MS = 5000;
const DEFAULT_REFRESH_MARGIN = 60;
const ALLOWED_METHODS = 'GET, POST';
// A store that is down fails every request: one line per this many ms says so without flooding the log.
const STORE_FAILED_LOG_INTERVAL_MS = 30_000;

/**
 * The host backend's token endpoint as a Web-standard handler: refuse what is not a token request from this site,
 * authorize the caller with the host's own session, count their requests, hand out their cached token or get one from
 * the vendor, answer `{"embedToken", "expiresAt"}`. Wrap it with `toNodeListener` for node:http, Express or Vite.
 *
 * The checks run cheapest first, and each refusal happens before the next step's work: a cross-site or oversized
 * request never reaches `authorize`, a signed-out or rate-limited one never reaches the vendor.
 */
export function createTokenHandler<User>(options: TokenHandlerOptions<User>): (request: Request) => Promise<Response> {
  if (typeof options !== 'object' || options === null) {
    throw new TypeError('createTokenHandler: options must be an object');
  }
  refuseUnknownOptions<TokenHandlerOptions<User>>('createTokenHandler', options, HANDLER_OPTIONS);
  const { authorize, issue } = options;
  if (typeof authorize !== 'function') throw new TypeError('createTokenHandler: options.authorize must be a function');
  if (typeof issue !== 'function') throw new TypeError('createTokenHandler: options.issue must be a function');
  for (const name of ['userId', 'now'] as const) {
    if (options[name] !== undefined && typeof options[name] !== 'function') {
      throw new TypeError(`createTokenHandler: options.${name} must be a function`);
    }
  }
  if (options.logger !== undefined && typeof options.logger?.warn !== 'function') {
    throw new TypeError('createTokenHandler: options.logger must have a warn(message) method');
  }
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  if (!Number.isSafeInteger(timeoutMs) || timeoutMs <= 0) {
    throw new TypeError('createTokenHandler: options.timeoutMs must be a positive integer (milliseconds)');
  }
  const refreshMargin = options.refreshMargin ?? DEFAULT_REFRESH_MARGIN;
  if (typeof refreshMargin !== 'number' || !Number.isFinite(refreshMargin) || refreshMargin < 0) {
    throw new TypeError('createTokenHandler: options.refreshMargin must be a number of seconds, 0 or more');
  }
  // A custom cache or store is bounded (internal/bounded-store.ts): one that hangs is one that failed. The memory
  // cache answers at once and needs no timer.
  const store = options.store === undefined ? null : boundedStore(checkSharedStore(options.store));
  if (store !== null && options.cache !== undefined) {
    throw new TypeError(
      'createTokenHandler: pass options.store or options.cache, not both (the store brings the shared cache, and the ' +
        'handler keeps its memory cache in front of it)',
    );
  }
  // undefined (and null, as before) is the memory cache; false is none.
  const custom = options.cache ?? null;
  if (custom !== null && custom !== false && !isTokenCache(custom)) {
    throw new TypeError('createTokenHandler: options.cache must have get(key) and set(key, entry) methods, or be false');
  }
  const cache = custom === false ? null : custom ? boundedCache(custom) : createMemoryTokenCache({ now: options.now });
  if (options.rateLimit !== undefined && options.rateLimit !== false && typeof options.rateLimit !== 'object') {
    throw new TypeError('createTokenHandler: options.rateLimit must be {max, windowMs} or false');
  }
  if (options.rateLimit) {
    refuseUnknownOptions<RateLimitOptions>('createTokenHandler', options.rateLimit, RATE_LIMIT_OPTIONS, 'options.rateLimit');
  }
  const allowedOrigins = checkAllowedOrigins(options.allowedOrigins);
  const now = options.now ?? Date.now;
  const logger = options.logger ?? console;
  const userId = options.userId ?? defaultUserId;
  const limiter = options.rateLimit === false ? null : createRateLimiter(options.rateLimit ?? {}, now);

  const warn = (detail: string): void => {
    try {
      logger.warn(`secure-widget/server: token request failed: ${detail}`);
    } catch {
      // A broken logger must not turn a clean error response into a crash.
    }
  };

  let storeFailureLoggedAt = -Infinity;
  const onStoreError = (): void => {
    const at = now();
    if (at - storeFailureLoggedAt < STORE_FAILED_LOG_INTERVAL_MS) return;
    storeFailureLoggedAt = at;
    try {
      logger.warn(
        "secure-widget/server: store-failed: the shared store did not answer; this instance answers on its own for now",
      );
    } catch {
      // As for warn(): a broken logger changes no answer.
    }
  };

  const tokens = new UserTokens<User>({
    issue,
    cache,
    shared: store,
    refreshMargin,
    timeoutMs,
    now,
    onCacheError: () => warn('cache-failed'),
    onStoreError,
  });

  /** The shared verdict when the store gives one; else, as on a single instance, this process's own. */
  const takeRateLimit = async (key: string): Promise<RateLimitVerdict | undefined> => {
    if (!limiter) return undefined;
    // Counted here always, so that when the store fails this instance's count is what it would have been alone.
    const local = limiter.take(key);
    if (!store?.rateLimit) return local;
    try {
      const shared: unknown = await store.rateLimit.take(key, { ...limiter.limit, now: now() });
      if (isRateLimitVerdict(shared)) return shared;
    } catch {
      // Below: the same as an answer that is no verdict.
    }
    onStoreError();
    return local;
  };

  const json = (status: number, body: unknown, extraHeaders: Record<string, string> = {}): Response =>
    new Response(JSON.stringify(body), {
      status,
      headers: {
        'Content-Type': 'application/json; charset=utf-8',
        // A token is a bearer credential: no shared cache, proxy or back/forward cache may keep it.
        'Cache-Control': 'no-store',
        Pragma: 'no-cache',
        'X-Content-Type-Options': 'nosniff',
        // The element measures the token's remaining life against this header rather than its own clock, and not
        // every runtime adds one, so it is always set from the same clock.
        Date: new Date(now()).toUTCString(),
        ...extraHeaders,
      },
    });

  const fail = (status: number, code: TokenHandlerErrorCode, extraHeaders?: Record<string, string>): Response =>
    json(status, { error: { code, message: ERROR_MESSAGES[code] } }, extraHeaders);

  return async (request) => {
    const site = judgeSite(request, allowedOrigins);
    // Only an allowed origin is named, never a reflected one, and never `*` (which credentials would not work with
    // anyway): the browser lets exactly that page read the answer, errors included.
    const cors: Record<string, string> =
      site.allowed && site.corsOrigin !== null
        ? { 'Access-Control-Allow-Origin': site.corsOrigin, 'Access-Control-Allow-Credentials': 'true', Vary: 'Origin' }
        : {};

    if (request.method === 'OPTIONS') {
      if (!site.allowed) return fail(403, 'cross-site');
      if (site.corsOrigin !== null) {
        return new Response(null, {
          status: 204,
          headers: {
            ...cors,
            'Access-Control-Allow-Methods': ALLOWED_METHODS,
            'Access-Control-Allow-Headers': 'Accept, Content-Type',
            'Access-Control-Max-Age': '600',
            'Cache-Control': 'no-store',
            Pragma: 'no-cache',
            'X-Content-Type-Options': 'nosniff',
          },
        });
      }
    }
    if (request.method !== 'GET' && request.method !== 'POST') {
      return fail(405, 'method-not-allowed', { Allow: ALLOWED_METHODS, ...cors });
    }
    if (await bodyExceeds(request, MAX_BODY_BYTES)) return fail(413, 'payload-too-large', { ...cors, Connection: 'close' });
    if (!site.allowed) return fail(403, 'cross-site');

    let user: User | null | undefined;
    let key: string | undefined;
    try {
      user = await authorize(request);
      if (user !== null && user !== undefined) key = userId(user);
    } catch (error) {
      warn(`internal: authorize or userId threw ${thrownKind(error)} (its message is not logged: it may hold a secret)`);
      return fail(500, 'internal', cors);
    }
    if (user === null || user === undefined) return fail(401, 'unauthorized', cors);
    if (typeof key !== 'string' || key === '') {
      // Without a key the cache could hand one user's token to another: refuse rather than guess.
      warn('user-id-missing: pass options.userId');
      return fail(500, 'internal', cors);
    }

    const verdict = await takeRateLimit(key);
    if (verdict && !verdict.allowed) {
      return fail(429, 'rate-limited', { 'Retry-After': String(Math.ceil(verdict.retryAfterMs / 1000)), ...cors });
    }

    let issued: IssuedToken;
    try {
      issued = await tokens.get(key, user, request.signal);
    } catch (error) {
      // The client went away: nobody reads this answer and the vendor did nothing wrong, so it is not logged.
      const failure = describeIssueFailure(error);
      if (!request.signal.aborted) warn(failure.detail);
      return fail(failure.status, failure.code, cors);
    }

    const { token: embedToken, expiresAt } = issued;
    return json(200, expiresAt === undefined ? { embedToken } : { embedToken, expiresAt }, cors);
  };
}

function defaultUserId(user: unknown): string | undefined {
  if (typeof user === 'string') return user;
  if (typeof user === 'number' && Number.isFinite(user)) return String(user);
  if (typeof user !== 'object' || user === null) return undefined;
  for (const name of ['id', 'sub'] as const) {
    const value = (user as Record<string, unknown>)[name];
    if (typeof value === 'string' && value !== '') return value;
    if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  }
  return undefined;
}
