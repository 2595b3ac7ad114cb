import { MIN_TOKEN_LIFE } from '../protocol/limits.js';
import { readToken } from '../protocol/token-read.js';
import { expiresAtHint, positiveNumber, tokenFault } from '../protocol/token-rules.js';
import { ownIssueError } from './internal/own-errors.js';
import type { SharedTokenStore } from './shared-store.js';
import type { CachedToken, TokenCache } from './token-cache.js';

/** A token as the built-in issuers resolve it and the handler hands it out: `expiresAt` in epoch seconds. */
export interface IssuedToken {
  token: string;
  expiresAt?: number;
}

/**
 * What an issuer may resolve, as the element's `fetchToken` may: the token itself, or the token with its expiry,
 * `expiresAt` in epoch seconds, epoch milliseconds or an ISO date string, `expiresIn` in seconds from now. A JWT's own
 * `exp` counts too, and the earliest of them wins. A hint that is no time (`NaN`, `0`, a negative `expiresIn`, a date
 * that does not parse) is ignored; no token, a blank one or one over 16 KiB is a `vendor-response` error (502).
 * Whitespace around the token (a trailing newline from a file) is trimmed.
 */
export type TokenIssuerResult = string | { token: string; expiresAt?: number | string; expiresIn?: number };

/**
 * Gets the token for the user `authorize` returned, and resolves it as a string or as
 * `{ token, expiresAt?, expiresIn? }` (see {@link TokenIssuerResult}); the built-in issuers resolve an
 * {@link IssuedToken}, which `Result` says. `signal` aborts when nobody is waiting for the answer any more (an
 * `AbortError`) or when the handler's `timeoutMs` passes (a `TimeoutError`, as from `AbortSignal.timeout`): hand it
 * to `fetch`, and the vendor call stops with the request.
 */
export type TokenIssuer<User, Result extends TokenIssuerResult = TokenIssuerResult> = (
  user: User,
  context: { signal: AbortSignal },
) => Promise<Result>;

export interface UserTokensOptions<User> {
  issue: TokenIssuer<User>;
  /** This process's cache (memory by default), read first. */
  cache: TokenCache | null;
  /** The store shared with other instances, behind `cache`. Its failures fall back to this process alone. */
  shared: Pick<SharedTokenStore, 'cache' | 'singleFlight'> | null;
  /** Seconds: a cached token with less life left than this is not handed out. */
  refreshMargin: number;
  timeoutMs: number;
  now: () => number;
  /** Told when the cache store fails; the request goes on as a miss. */
  onCacheError: () => void;
  /** Told when the shared store fails; the request goes on as on a single instance. */
  onStoreError: () => void;
}

interface Flight {
  promise: Promise<IssuedToken>;
  controller: AbortController;
  waiters: number;
}

/** A shared store that failed: the caller goes on as a single instance would. */
const FAILED = Symbol('store failed');

// While another instance calls the vendor, this one looks for the token it stores: at 10 ms, then 20, 40, and every
// 100 ms at most. A vendor call takes tens to hundreds of ms, so a waiter is rarely more than one pause late.
const FIRST_PAUSE_MS = 10;
const LONGEST_PAUSE_MS = 100;
/**
 * How long a waiter keeps looking through a failing store. One silence of Redis makes a store give up on every command
 * waiting on it at once, and then pause for a second (redis/commands.ts): a waiter that went on alone at the first
 * failure would call the vendor beside the instance it was waiting for, which is calling and will store the token.
 * A store failing for longer than this is down, and the waiter goes on as a single instance would.
 */
const STORE_FAILURE_GRACE_MS = 2_000;

/**
 * Each user's token: from the cache while it has life enough, else from one vendor call per user however many of
 * their requests arrive meanwhile (a page with ten widgets and three tabs asks once). With a shared store, from its
 * cache next, and from one vendor call per user across every instance: the one that claims the call makes it, the
 * others poll the shared cache for its token (below).
 *
 * The vendor call is shared, so no single request's signal may cancel it: it is aborted when every request waiting on
 * it has gone, or when `timeoutMs` passes.
 */
export class UserTokens<User> {
  readonly #options: UserTokensOptions<User>;
  readonly #flights = new Map<string, Flight>();

  constructor(options: UserTokensOptions<User>) {
    this.#options = options;
  }

  async get(key: string, user: User, signal: AbortSignal): Promise<IssuedToken> {
    const cached = await this.#read(key);
    if (cached) return { token: cached.token, expiresAt: cached.expiresAt };

    let flight = this.#flights.get(key);
    if (!flight) {
      flight = this.#start(key, user);
      this.#flights.set(key, flight);
    }
    return this.#wait(key, flight, signal);
  }

  async #read(key: string): Promise<CachedToken | undefined> {
    const { cache } = this.#options;
    if (!cache) return undefined;
    try {
      const entry = await cache.get(key);
      // Inside the try: an entry from a custom store is outside input too, and reading it may throw (a getter).
      return entry && this.#servable(entry) ? entry : undefined;
    } catch {
      this.#options.onCacheError();
      return undefined;
    }
  }

  async #readShared(key: string): Promise<CachedToken | undefined | typeof FAILED> {
    const { shared } = this.#options;
    if (!shared) return FAILED;
    try {
      const entry = await shared.cache.get(key);
      return entry && this.#servable(entry)
        ? { token: entry.token, expiresAt: entry.expiresAt, issuedAt: entry.issuedAt }
        : undefined;
    } catch {
      this.#options.onStoreError();
      return FAILED;
    }
  }

  /**
   * Only while more than half its life is left, as well as more than the margin: a widget asks for its next token at
   * the latest halfway through (its own margin is capped at half the lifetime), so its next request always finds the
   * entry too old and gets a new token, never the one it is replacing.
   */
  #servable(entry: CachedToken): boolean {
    // A shared store hands back whatever was written to it, by anyone: only a token the handler could have stored
    // (one the element takes: protocol/token-rules.ts) goes out, exactly as it was stored.
    const token = entry?.token;
    if (
      tokenFault(token) ||
      token !== token.trim() ||
      !Number.isFinite(entry.expiresAt) ||
      !Number.isFinite(entry.issuedAt)
    ) {
      return false;
    }
    const left = entry.expiresAt - this.#options.now() / 1000;
    return left > this.#options.refreshMargin && left > (entry.expiresAt - entry.issuedAt) / 2;
  }

  #start(key: string, user: User): Flight {
    const controller = new AbortController();
    // Settles once the token is stored: until then the flight stays joinable, since with a remote store a request
    // arriving in between would otherwise find neither and call the vendor again.
    let stored: Promise<void> = Promise.resolve();
    const promise = this.#obtain(key, user, controller, (storing) => (stored = storing));
    const flight: Flight = { controller, waiters: 0, promise };
    promise
      .catch(() => {})
      .then(() => stored)
      .finally(() => {
        if (this.#flights.get(key) === flight) this.#flights.delete(key);
      });
    return flight;
  }

  /** This process's one call for the user: from the shared cache, after another instance's vendor call, or its own. */
  async #obtain(
    key: string,
    user: User,
    controller: AbortController,
    storing: (stored: Promise<void>) => void,
  ): Promise<IssuedToken> {
    const { shared, timeoutMs } = this.#options;
    const alone = (): Promise<IssuedToken> => this.#issue(key, user, controller, false, storing);
    if (!shared) return alone();
    let found = await this.#readShared(key);
    if (found === FAILED) return alone();
    if (found) return this.#adopt(key, found);
    const { singleFlight } = shared;
    if (!singleFlight) return this.#issue(key, user, controller, true, storing);

    // Polling rather than a pub/sub message: it needs no second connection, no subscription to restore after a
    // reconnect and no message that can be missed, and it costs only while another instance is calling the vendor.
    // The wait is bounded: the claim lapses after timeoutMs, whereupon this instance takes the call over.
    const giveUpAt = performance.now() + timeoutMs + LONGEST_PAUSE_MS * 2;
    let pause = FIRST_PAUSE_MS;
    // Set once another instance's claim was seen: from then on a failing store is waited through, for a while.
    let failingSince: number | null = null;
    let waiting = false;
    /** After a store failure: whether to go on alone now (no other instance known to call, or the store is down). */
    const goAlone = (): boolean => {
      const at = performance.now();
      failingSince ??= at;
      return !waiting || at - failingSince >= STORE_FAILURE_GRACE_MS || at >= giveUpAt;
    };
    for (;;) {
      let release: (() => Promise<void>) | null | undefined;
      try {
        release = await singleFlight.claim(key, timeoutMs);
        if (release !== null && typeof release !== 'function') {
          this.#options.onStoreError();
          return alone();
        }
      } catch {
        this.#options.onStoreError();
        if (goAlone()) return alone();
        release = undefined;
      }
      if (release) {
        const done = release;
        const unlock = (): void => {
          done().catch(() => this.#options.onStoreError());
        };
        // The last holder may have stored its token and let go between this instance's read and its claim.
        found = await this.#readShared(key);
        if (found !== undefined && found !== FAILED) {
          unlock();
          return this.#adopt(key, found);
        }
        // Let go once the token is in the shared cache, where the waiting instances look for it (or the call failed).
        return this.#issue(key, user, controller, found !== FAILED, (stored) => storing(stored.finally(unlock)));
      }
      if (release === null) {
        waiting = true;
        failingSince = null;
      }
      if (performance.now() >= giveUpAt) return alone();
      await pauseFor(pause, controller.signal);
      pause = Math.min(pause * 2, LONGEST_PAUSE_MS);
      found = await this.#readShared(key);
      if (found === FAILED) {
        if (goAlone()) return alone();
      } else if (found) {
        return this.#adopt(key, found);
      } else {
        failingSince = null;
      }
    }
  }

  /** A token another instance stored: kept in this process's cache too, so that the next request is a local hit. */
  async #adopt(key: string, entry: CachedToken): Promise<IssuedToken> {
    const { cache } = this.#options;
    try {
      await cache?.set(key, entry);
    } catch {
      this.#options.onCacheError();
    }
    return { token: entry.token, expiresAt: entry.expiresAt };
  }

  /** The vendor call, under the one deadline, and its token stored (`share`: in the shared cache too). */
  #issue(
    key: string,
    user: User,
    controller: AbortController,
    share: boolean,
    storing: (stored: Promise<void>) => void,
  ): Promise<IssuedToken> {
    const { issue, timeoutMs, now } = this.#options;
    // The one deadline of the vendor call: the issuer's signal carries it, so an exchange runs no timer of its own.
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        const message = `The token issuer did not answer within ${timeoutMs} ms.`;
        reject(ownIssueError('vendor-timeout', message));
        // A TimeoutError, as `AbortSignal.timeout` aborts with: what the exchanges, and any fetch, know as a timeout.
        controller.abort(new DOMException(message, 'TimeoutError'));
      }, timeoutMs);
    });
    // An issuer that ignores its signal still loses the race, so a hung vendor costs a 504, never a hung request.
    const issued = Promise.race([Promise.resolve().then(() => issue(user, { signal: controller.signal })), timeout])
      .finally(() => clearTimeout(timer))
      .then((result) => usableToken(result, now()));
    storing(issued.then((token) => this.#store(key, token, share)).catch(() => {}));
    return issued;
  }

  async #store(key: string, issued: IssuedToken, share: boolean): Promise<void> {
    const { cache, shared, now } = this.#options;
    const { expiresAt } = issued;
    // An opaque token without an expiry cannot be judged fresh later, so it is not kept.
    if (expiresAt === undefined) return;
    // The token passed readToken when it was issued (usableToken); its `iat`, if it has one, dates the entry.
    const read = readToken(issued.token);
    const issuedAt = ('token' in read ? read.jwtClaims.iat : undefined) ?? Math.floor(now() / 1000);
    const entry: CachedToken = { token: issued.token, expiresAt, issuedAt };
    const local = (async () => {
      try {
        await cache?.set(key, entry);
      } catch {
        this.#options.onCacheError();
      }
    })();
    if (share && shared) {
      try {
        await shared.cache.set(key, entry);
      } catch {
        this.#options.onStoreError();
      }
    }
    await local;
  }

  #wait(key: string, flight: Flight, signal: AbortSignal): Promise<IssuedToken> {
    flight.waiters += 1;
    return new Promise<IssuedToken>((resolve, reject) => {
      const leave = (): void => {
        flight.waiters -= 1;
        if (flight.waiters === 0) {
          // Nobody is left to read the answer. The next request starts afresh rather than joining a cancelled call.
          if (this.#flights.get(key) === flight) this.#flights.delete(key);
          flight.controller.abort(signal.reason);
        }
        reject(signal.reason);
      };
      if (signal.aborted) {
        leave();
        return;
      }
      signal.addEventListener('abort', leave, { once: true });
      flight.promise.then(
        (issued) => {
          signal.removeEventListener('abort', leave);
          resolve(issued);
        },
        (error: unknown) => {
          signal.removeEventListener('abort', leave);
          reject(error);
        },
      );
    });
  }
}

/**
 * What an issuer resolved (a {@link TokenIssuerResult}), as an `IssuedToken`: checked once for every waiter and the
 * cache, and by the exchanges for what their `pick` returns. `now` in ms; `status` is the vendor's, for the exchanges.
 */
export function usableToken(result: unknown, now: number, status?: number): IssuedToken {
  const { token, expiresAt, expiresIn } = (
    typeof result === 'string' ? { token: result } : typeof result === 'object' && result !== null ? result : {}
  ) as Record<string, unknown>;
  // The rules the element applies (protocol/token-rules.ts): a token it would refuse stays out of the cache and the
  // response, and the host's log says which rule it broke.
  const read = readToken(token);
  if ('fault' in read) {
    const message =
      read.fault === 'missing'
        ? 'The token issuer resolved without a token.'
        : `The token issuer resolved a token the element would refuse (${read.fault}).`;
    throw ownIssueError('vendor-response', message, { status });
  }
  const { token: value, jwtClaims: claims } = read;
  const life = positiveNumber(expiresIn);
  const hinted = expiresAtHint(expiresAt);
  const times = [
    claims.exp,
    hinted === null ? undefined : hinted / 1000,
    life === null ? undefined : now / 1000 + life,
  ];
  const known = times.filter((time) => time !== undefined);
  if (known.length === 0) return { token: value };
  // The earliest, as the element takes it: a JWT is never handed out, or cached, past its own `exp`.
  const expiry = Math.floor(Math.min(...known));
  if (expiry * 1000 - now < MIN_TOKEN_LIFE) {
    const message = `The token issuer resolved a token that has expired, or expires within ${MIN_TOKEN_LIFE / 1000} s.`;
    throw ownIssueError('vendor-response', message, { status });
  }
  return { token: value, expiresAt: expiry };
}

/** Resolves after `ms`, or rejects with the signal's reason as soon as it aborts (nobody waits any more). */
function pauseFor(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) {
      reject(signal.reason);
      return;
    }
    const stop = (): void => {
      clearTimeout(timer);
      reject(signal.reason);
    };
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', stop);
      resolve();
    }, ms);
    signal.addEventListener('abort', stop, { once: true });
  });
}
