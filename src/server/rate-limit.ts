export interface RateLimitOptions {
  /** Requests a user may make in one window, in a burst or spread out. Default 30. */
  max?: number;
  /** Default 60,000 (a minute). */
  windowMs?: number;
  /** Most users tracked at once; beyond it the oldest are forgotten. Default 10,000. */
  maxUsers?: number;
}

/** `allowed`, or the milliseconds until the next request would be. */
export type RateLimitVerdict = { allowed: true } | { allowed: false; retryAfterMs: number };

export interface RateLimiter {
  take(key: string): RateLimitVerdict;
  /** The limit this limiter enforces, for a shared limiter to enforce the same one. */
  readonly limit: { max: number; windowMs: number };
}

interface Bucket {
  tokens: number;
  updatedAt: number;
}

const DEFAULTS = { max: 30, windowMs: 60_000, maxUsers: 10_000 } as const;

/**
 * A token bucket per user: `max` requests at once, refilled at `max` per `windowMs`. Unlike a fixed window it has no
 * edge at which a user may make twice the limit in a moment, and unlike a log of timestamps it costs two numbers a
 * user. A user whose bucket is full again is indistinguishable from a new one, so a full map forgets those first.
 */
export function createRateLimiter(options: RateLimitOptions, now: () => number): RateLimiter {
  const max = options.max ?? DEFAULTS.max;
  const windowMs = options.windowMs ?? DEFAULTS.windowMs;
  const maxUsers = options.maxUsers ?? DEFAULTS.maxUsers;
  if (!Number.isSafeInteger(max) || max < 1) {
    throw new TypeError('createTokenHandler: options.rateLimit.max must be a positive integer');
  }
  if (!Number.isSafeInteger(windowMs) || windowMs < 1) {
    throw new TypeError('createTokenHandler: options.rateLimit.windowMs must be a positive integer (milliseconds)');
  }
  if (!Number.isSafeInteger(maxUsers) || maxUsers < 1) {
    throw new TypeError('createTokenHandler: options.rateLimit.maxUsers must be a positive integer');
  }
  const perMs = max / windowMs;
  const buckets = new Map<string, Bucket>();

  const refill = (bucket: Bucket, at: number): number =>
    Math.min(max, bucket.tokens + Math.max(0, at - bucket.updatedAt) * perMs);

  const makeRoom = (at: number): void => {
    for (const [key, bucket] of buckets) if (refill(bucket, at) >= max) buckets.delete(key);
    // Everyone is mid-burst: forget the longest idle (first inserted, since each take re-inserts).
    while (buckets.size >= maxUsers) buckets.delete(buckets.keys().next().value as string);
  };

  return {
    limit: { max, windowMs },
    take(key) {
      const at = now();
      const bucket = buckets.get(key);
      let tokens = bucket ? refill(bucket, at) : max;
      buckets.delete(key);
      if (tokens < 1) {
        buckets.set(key, { tokens, updatedAt: at });
        return { allowed: false, retryAfterMs: Math.ceil((1 - tokens) / perMs) };
      }
      tokens -= 1;
      if (buckets.size >= maxUsers) makeRoom(at);
      buckets.set(key, { tokens, updatedAt: at });
      return { allowed: true };
    },
  };
}
