import { decodeJwt } from 'jose';
import { TokenIssueError } from './errors.js';
import type { CachedToken, TokenCache } from './token-cache.js';

/** Epoch seconds. */
export interface IssuedToken {
  token: string;
  expiresAt?: number;
}

export type TokenIssuer<User> = (user: User, context: { signal: AbortSignal }) => Promise<IssuedToken>;

export interface UserTokensOptions<User> {
  issue: TokenIssuer<User>;
  cache: TokenCache | null;
  /** Seconds: a cached token with less life left than this is not handed out. */
  refreshMargin: number;
  timeoutMs: number;
  now: () => number;
  /** Told when the cache store fails; the request goes on as a miss. */
  onCacheError: () => void;
}

interface Flight {
  promise: Promise<IssuedToken>;
  controller: AbortController;
  waiters: number;
}

/**
 * Each user's token: from the cache while it has life enough, else from one vendor call per user however many of
 * their requests arrive meanwhile (a page with ten widgets and three tabs asks once).
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
    let entry: CachedToken | undefined;
    try {
      entry = await cache.get(key);
    } catch {
      this.#options.onCacheError();
      return undefined;
    }
    return entry && this.#servable(entry) ? entry : undefined;
  }

  /**
   * Only while more than half its life is left, as well as more than the margin: a widget asks for its next token at
   * the latest halfway through (its own margin is capped at half the lifetime), so its next request always finds the
   * entry too old and gets a new token, never the one it is replacing.
   */
  #servable(entry: CachedToken): boolean {
    if (typeof entry?.token !== 'string' || !Number.isFinite(entry.expiresAt) || !Number.isFinite(entry.issuedAt)) {
      return false;
    }
    const left = entry.expiresAt - this.#options.now() / 1000;
    return left > this.#options.refreshMargin && left > (entry.expiresAt - entry.issuedAt) / 2;
  }

  #start(key: string, user: User): Flight {
    const { issue, timeoutMs } = this.#options;
    const controller = new AbortController();
    const flight: Flight = { controller, waiters: 0, promise: undefined as unknown as Promise<IssuedToken> };

    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        const error = new TokenIssueError('vendor-timeout', `The token issuer did not answer within ${timeoutMs} ms.`);
        controller.abort(error);
        reject(error);
      }, timeoutMs);
    });
    // An issuer that ignores its signal still loses the race, so a hung vendor costs a 504, never a hung request.
    flight.promise = Promise.race([
      Promise.resolve().then(() => issue(user, { signal: controller.signal })),
      timeout,
    ])
      .finally(() => clearTimeout(timer))
      .then(usableToken);
    // The flight stays joinable until the token is stored: with a remote store, a request arriving in between would
    // otherwise find neither and call the vendor again.
    flight.promise
      .then((issued) => this.#store(key, issued))
      .catch(() => {})
      .finally(() => {
        if (this.#flights.get(key) === flight) this.#flights.delete(key);
      });
    return flight;
  }

  async #store(key: string, issued: IssuedToken): Promise<void> {
    const { cache, now } = this.#options;
    const { expiresAt } = issued;
    // An opaque token without an expiry cannot be judged fresh later, so it is not kept.
    if (!cache || expiresAt === undefined) return;
    const issuedAt = readJwtIssuedAt(issued.token) ?? Math.floor(now() / 1000);
    try {
      await cache.set(key, { token: issued.token, expiresAt, issuedAt });
    } catch {
      this.#options.onCacheError();
    }
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
 * What an issuer resolved, checked once for every waiter and the cache: a non-empty token, and its expiry from the
 * issuer when that is a time, else from the JWT's `exp`, else none (an opaque token).
 */
function usableToken(issued: IssuedToken): IssuedToken {
  if (typeof issued !== 'object' || issued === null || typeof issued.token !== 'string' || issued.token.trim() === '') {
    throw new TokenIssueError('vendor-response', 'The token issuer resolved without a token.');
  }
  const expiresAt = isEpochSeconds(issued.expiresAt) ? issued.expiresAt : readJwtExpiry(issued.token);
  return expiresAt === undefined ? { token: issued.token } : { token: issued.token, expiresAt };
}

function isEpochSeconds(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value) && value > 0;
}

/** `exp` of a JWT, decoded without verification (the vendor signed it for the vendor); undefined for opaque tokens. */
export function readJwtExpiry(token: string): number | undefined {
  return readClaim(token, 'exp');
}

function readJwtIssuedAt(token: string): number | undefined {
  return readClaim(token, 'iat');
}

function readClaim(token: string, name: 'exp' | 'iat'): number | undefined {
  try {
    const value = decodeJwt(token)[name];
    return isEpochSeconds(value) ? value : undefined;
  } catch {
    return undefined;
  }
}
