import { refuseUnknownOptions } from './internal/known-options.js';

/** A vendor token kept for one user. Times are epoch seconds, as in a JWT. */
export interface CachedToken {
  token: string;
  expiresAt: number;
  /** When the vendor issued it (`iat`, else when it arrived): with `expiresAt`, the token's whole lifetime. */
  issuedAt: number;
}

/**
 * Where `createTokenHandler` keeps each user's token between requests. The default lives in the process's memory; a
 * deployment with several instances can plug in a shared store (Redis, Memcached, a KV namespace) so that every
 * instance hands out the same token. A store should drop an entry at its `expiresAt` (a Redis `EXAT`, say); the
 * handler never serves an expired or nearly expired entry either way.
 *
 * Keys are the handler's user ids. Entries are bearer credentials: keep the store private to the host's backend.
 * A store that throws or rejects is treated as a miss, so an unreachable cache costs a vendor call, not an outage.
 */
export interface TokenCache {
  get(key: string): CachedToken | undefined | Promise<CachedToken | undefined>;
  set(key: string, entry: CachedToken): void | Promise<void>;
}

/** Has the two methods of a `TokenCache` (what a store is made of is checked once, when the handler is made). */
export function isTokenCache(value: unknown): value is TokenCache {
  const cache = value as Partial<TokenCache> | null | undefined;
  return typeof cache?.get === 'function' && typeof cache.set === 'function';
}

export interface MemoryTokenCacheOptions {
  /** Most users held at once; the least recently used goes first. Default 10,000. */
  maxEntries?: number;
  /** Milliseconds since the epoch. Default `Date.now`. */
  now?: () => number;
}

const DEFAULT_MAX_ENTRIES = 10_000;
// A full cache looks for expired entries at most this often, so a burst of new users costs one scan, not one each.
const SWEEP_INTERVAL_MS = 1_000;

/**
 * The default `TokenCache`: a bounded map in this process's memory. Expired entries are dropped when read and swept
 * when the map is full, before the least recently used entry is evicted; no timer runs, so nothing keeps a
 * process alive or leaks in a serverless runtime.
 */
export function createMemoryTokenCache(options: MemoryTokenCacheOptions = {}): TokenCache {
  if (typeof options !== 'object' || options === null) {
    throw new TypeError('createMemoryTokenCache: options must be an object');
  }
  refuseUnknownOptions<MemoryTokenCacheOptions>('createMemoryTokenCache', options, { maxEntries: true, now: true });
  const maxEntries = options.maxEntries ?? DEFAULT_MAX_ENTRIES;
  if (!Number.isSafeInteger(maxEntries) || maxEntries < 1) {
    throw new TypeError('createMemoryTokenCache: options.maxEntries must be a positive integer');
  }
  const now = options.now ?? Date.now;
  if (typeof now !== 'function') throw new TypeError('createMemoryTokenCache: options.now must be a function');

  // A Map iterates in insertion order: re-inserting on every read keeps the least recently used entry first.
  const entries = new Map<string, CachedToken>();
  let lastSweep = -Infinity;

  const expired = (entry: CachedToken): boolean => entry.expiresAt * 1000 <= now();

  return {
    get(key) {
      const entry = entries.get(key);
      if (entry === undefined) return undefined;
      entries.delete(key);
      if (expired(entry)) return undefined;
      entries.set(key, entry);
      return entry;
    },
    set(key, entry) {
      entries.delete(key);
      if (entries.size >= maxEntries && now() - lastSweep >= SWEEP_INTERVAL_MS) {
        lastSweep = now();
        for (const [storedKey, stored] of entries) if (expired(stored)) entries.delete(storedKey);
      }
      while (entries.size >= maxEntries) entries.delete(entries.keys().next().value as string);
      entries.set(key, entry);
    },
  };
}
