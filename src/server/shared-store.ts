/**
 * What several instances of the token handler share, so that a user's token, rate limit and vendor call are one
 * across all of them rather than one per process. `secure-widget/server/redis` is the store this library ships; the
 * interfaces are here, in the core, so that the handler never needs `redis` (an optional peer) to run.
 */
import type { RateLimitVerdict } from './rate-limit.js';
import { isTokenCache, type TokenCache } from './token-cache.js';

/**
 * A store shared by every instance. The handler keeps its own memory in front of it and behind it: tokens are read
 * from this process's memory first, and every call into the store that throws or rejects falls back to what a single
 * instance does on its own (its memory cache, its own rate limit, its own single flight). A store must therefore
 * settle every call quickly (the Redis store times each command out after 200 ms) and throw rather than guess.
 */
export interface SharedTokenStore {
  /** Each user's token, for every instance. Entries are outside input: the handler serves only what it could have stored. */
  readonly cache: TokenCache;
  /** One rate limit per user across all instances. Without it each instance counts on its own. */
  readonly rateLimit?: SharedRateLimiter;
  /** One vendor call per user across all instances. Without it, one per user per instance. */
  readonly singleFlight?: SharedSingleFlight;
  /**
   * For a store that times its own calls out: the longest any one call may take, in ms (the Redis store: three
   * commands, for a script that Redis lost). The handler then gives each call this long; without it, 500 ms.
   */
  readonly timeoutMs?: number;
}

export interface SharedRateLimiter {
  /**
   * Takes one request from the user's bucket of `max` per `windowMs` (a token bucket, as in memory), atomically for
   * every instance. `now` is the handler's clock, in ms since the epoch.
   */
  take(key: string, limit: { max: number; windowMs: number; now: number }): Promise<RateLimitVerdict>;
}

export interface SharedSingleFlight {
  /**
   * Claims the user's vendor call for at most `ttlMs`: resolves a function that releases the claim when this instance
   * has it, `null` when another instance does. A claim that is never released (its instance died) lapses after
   * `ttlMs`, and a waiting instance takes over.
   */
  claim(key: string, ttlMs: number): Promise<(() => Promise<void>) | null>;
}

/** Validates `options.store` up front; every message names the member that is wrong. */
export function checkSharedStore(value: unknown): SharedTokenStore {
  const name = 'createTokenHandler: options.store';
  if (typeof value !== 'object' || value === null) {
    throw new TypeError(
      `${name} must be a shared store such as redisStore({ client }) from secure-widget/server/redis`,
    );
  }
  const { cache, rateLimit, singleFlight, timeoutMs } = value as Record<string, unknown>;
  const has = (object: unknown, method: string): boolean =>
    typeof object === 'object' && object !== null && typeof (object as Record<string, unknown>)[method] === 'function';
  if (!isTokenCache(cache)) {
    throw new TypeError(`${name}.cache must have get(key) and set(key, entry) methods`);
  }
  if (timeoutMs !== undefined && !(Number.isSafeInteger(timeoutMs) && (timeoutMs as number) > 0)) {
    throw new TypeError(`${name}.timeoutMs must be a positive integer (milliseconds), or be left out`);
  }
  if (rateLimit !== undefined && !has(rateLimit, 'take')) {
    throw new TypeError(`${name}.rateLimit must have a take(key, limit) method, or be left out`);
  }
  if (singleFlight !== undefined && !has(singleFlight, 'claim')) {
    throw new TypeError(`${name}.singleFlight must have a claim(key, ttlMs) method, or be left out`);
  }
  return value as SharedTokenStore;
}

/** A shared limiter's answer, if it is one; anything else is the store failing. */
export function isRateLimitVerdict(value: unknown): value is RateLimitVerdict {
  if (typeof value !== 'object' || value === null) return false;
  const { allowed, retryAfterMs } = value as Record<string, unknown>;
  if (allowed === true) return true;
  return allowed === false && typeof retryAfterMs === 'number' && Number.isFinite(retryAfterMs) && retryAfterMs > 0;
}
