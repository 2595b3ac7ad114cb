/**
 * `createTokenHandler`'s options, read and checked once, at construction (a precise TypeError for each mistake), into
 * what every request then uses: the host's callbacks, the clock, the log, the user's tokens and the rate limit.
 */
import { createRateLimiter, type RateLimitOptions, type RateLimitVerdict } from './rate-limit.js';
import { checkAllowedOrigins } from './request-guard.js';
import { boundedCache, boundedStore } from './internal/bounded-store.js';
import { refuseUnknownOptions } from './internal/known-options.js';
import { checkSharedStore, isRateLimitVerdict, type SharedTokenStore } from './shared-store.js';
import { createMemoryTokenCache, isTokenCache, type TokenCache } from './token-cache.js';
import { UserTokens, type TokenIssuer } from './user-tokens.js';

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

export interface HandlerSettings<User> {
  authorize: TokenHandlerOptions<User>['authorize'];
  userId: (user: User) => string | undefined;
  allowedOrigins: ReturnType<typeof checkAllowedOrigins>;
  now: () => number;
  /** One line per failed request, through the host's logger; a logger that throws changes no answer. */
  warn(detail: string): void;
  tokens: UserTokens<User>;
  /** The shared verdict when the store gives one; else, as on a single instance, this process's own. */
  takeRateLimit(key: string): Promise<RateLimitVerdict | undefined>;
}

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

const DEFAULT_TIMEOUT_MS = 5000;
const DEFAULT_REFRESH_MARGIN = 60;
// A store that is down fails every request: one line per this many ms says so without flooding the log.
const STORE_FAILED_LOG_INTERVAL_MS = 30_000;

export function readHandlerOptions<User>(options: TokenHandlerOptions<User>): HandlerSettings<User> {
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
    throw new TypeError(
      'createTokenHandler: options.cache must have get(key) and set(key, entry) methods, or be false',
    );
  }
  const cache = custom === false ? null : custom ? boundedCache(custom) : createMemoryTokenCache({ now: options.now });
  if (options.rateLimit !== undefined && options.rateLimit !== false && typeof options.rateLimit !== 'object') {
    throw new TypeError('createTokenHandler: options.rateLimit must be {max, windowMs} or false');
  }
  if (options.rateLimit) {
    refuseUnknownOptions<RateLimitOptions>(
      'createTokenHandler',
      options.rateLimit,
      RATE_LIMIT_OPTIONS,
      'options.rateLimit',
    );
  }
  const allowedOrigins = checkAllowedOrigins(options.allowedOrigins);
  const now = options.now ?? Date.now;
  const logger = options.logger ?? console;
  const userId: (user: User) => string | undefined = options.userId ?? defaultUserId;
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
        'secure-widget/server: store-failed: the shared store did not answer; this instance answers on its own for now',
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

  return { authorize, userId, allowedOrigins, now, warn, tokens, takeRateLimit };
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
