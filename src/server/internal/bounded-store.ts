/**
 * Bounds every call into a custom cache or shared store: one that has not settled within STORE_TIMEOUT_MS rejects,
 * and the handler goes on as it does when the store throws (a cache miss; this instance on its own). A store that
 * hangs (a lost connection with no timeout of its own, a KV whose client retries for ever) would otherwise hang every
 * token request with it, with no answer and no log line.
 */
import type { SharedTokenStore } from '../shared-store.js';
import type { TokenCache } from '../token-cache.js';

/** For a store that does not say how long its calls may take: a remote KV answers in tens of ms. */
export const STORE_TIMEOUT_MS = 500;

class StoreTimeoutError extends Error {
  override readonly name = 'StoreTimeoutError';
}

/** `work()`'s promise, or a rejection once `ms` have passed; a call that throws at once rejects at once. */
function within<T>(work: () => T | Promise<T>, ms: number, late?: (value: T) => void): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  let timedOut = false;
  const call = new Promise<T>((resolve) => resolve(work()));
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      // Judged once pending I/O has been read: after an event loop busy for longer than `ms`, timers run before the
      // answer that arrived meanwhile is read. A zero-delay timer set here runs after the loop's next poll phase.
      timer = setTimeout(() => {
        timedOut = true;
        reject(new StoreTimeoutError(`The store did not answer within ${ms} ms.`));
      }, 0);
      timer.unref?.();
    }, ms);
    // The process may exit while a store hangs: this timer must not keep it alive.
    timer.unref?.();
  });
  // What settles after the deadline is nobody's answer; a late claim still has to be let go (`late`).
  call.then(
    (value) => timedOut && late?.(value),
    () => {},
  );
  return Promise.race([call, deadline]).finally(() => clearTimeout(timer));
}

export function boundedCache(cache: TokenCache, ms = STORE_TIMEOUT_MS): TokenCache {
  return {
    get: (key) => within(() => cache.get(key), ms),
    set: (key, entry) => within(() => cache.set(key, entry), ms),
  };
}

/** `ms` defaults to the store's own `timeoutMs` when it times its calls out itself (the Redis store), else 500. */
export function boundedStore(store: SharedTokenStore, ms = store.timeoutMs ?? STORE_TIMEOUT_MS): SharedTokenStore {
  const { rateLimit, singleFlight } = store;
  return {
    timeoutMs: ms,
    cache: boundedCache(store.cache, ms),
    ...(rateLimit && { rateLimit: { take: (key, limit) => within(() => rateLimit.take(key, limit), ms) } }),
    ...(singleFlight && {
      singleFlight: {
        claim: (key, ttlMs) =>
          within(
            () => singleFlight.claim(key, ttlMs),
            ms,
            // A claim won after this instance stopped waiting: give it back, rather than make the others wait ttlMs.
            (release) => {
              if (typeof release === 'function') release().catch(() => {});
            },
          ).then((release) => (typeof release === 'function' ? () => within(() => release(), ms) : release)),
      },
    }),
  };
}
