import { decodeJwt } from 'jose';
import { MAX_TOKEN_LENGTH } from '../protocol/limits.js';
import { TokenIssueError } from './errors.js';
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
    try {
      const entry = await cache.get(key);
      // Inside the try: an entry from a custom store is outside input too, and reading it may throw (a getter).
      return entry && this.#servable(entry) ? entry : undefined;
    } catch {
      this.#options.onCacheError();
      return undefined;
    }
  }

  /**
   * Only while more than half its life is left, as well as more than the margin: a widget asks for its next token at
   * the latest halfway through (its own margin is capped at half the lifetime), so its next request always finds the
   * entry too old and gets a new token, never the one it is replacing.
   */
  #servable(entry: CachedToken): boolean {
    // A shared store hands back whatever was written to it, by anyone: only a token the handler could have stored
    // (so never a blank one, nor one over 16 KiB) goes out.
    if (!isTokenText(entry?.token) || !Number.isFinite(entry.expiresAt) || !Number.isFinite(entry.issuedAt)) {
      return false;
    }
    const left = entry.expiresAt - this.#options.now() / 1000;
    return left > this.#options.refreshMargin && left > (entry.expiresAt - entry.issuedAt) / 2;
  }

  #start(key: string, user: User): Flight {
    const { issue, timeoutMs, now } = this.#options;
    const controller = new AbortController();
    const flight: Flight = { controller, waiters: 0, promise: undefined as unknown as Promise<IssuedToken> };

    // The one deadline of the vendor call: the issuer's signal carries it, so an exchange runs no timer of its own.
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        const message = `The token issuer did not answer within ${timeoutMs} ms.`;
        reject(new TokenIssueError('vendor-timeout', message));
        // A TimeoutError, as `AbortSignal.timeout` aborts with: what the exchanges, and any fetch, know as a timeout.
        controller.abort(new DOMException(message, 'TimeoutError'));
      }, timeoutMs);
    });
    // An issuer that ignores its signal still loses the race, so a hung vendor costs a 504, never a hung request.
    flight.promise = Promise.race([
      Promise.resolve().then(() => issue(user, { signal: controller.signal })),
      timeout,
    ])
      .finally(() => clearTimeout(timer))
      .then((result) => usableToken(result, now()));
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
 * What an issuer resolved (a {@link TokenIssuerResult}), as an `IssuedToken`: checked once for every waiter and the
 * cache, and by the exchanges for what their `pick` returns. `now` in ms; `status` is the vendor's, for the exchanges.
 */
export function usableToken(result: unknown, now: number, status?: number): IssuedToken {
  const { token, expiresAt, expiresIn } = (
    typeof result === 'string' ? { token: result } : typeof result === 'object' && result !== null ? result : {}
  ) as Record<string, unknown>;
  const value = typeof token === 'string' ? token.trim() : '';
  if (value === '') {
    throw new TokenIssueError('vendor-response', 'The token issuer resolved without a token.', { status });
  }
  // The element would refuse it; refused here, it stays out of the cache and the response too.
  if (!isTokenText(value)) {
    const message = `The token issuer resolved a token longer than ${MAX_TOKEN_LENGTH} characters.`;
    throw new TokenIssueError('vendor-response', message, { status });
  }
  const life = positive(expiresIn);
  const times = [readJwtExpiry(value), hintSeconds(expiresAt), life === undefined ? undefined : now / 1000 + life];
  const known = times.filter((time) => time !== undefined);
  // The earliest, as the element takes it: a JWT is never handed out, or cached, past its own `exp`.
  return known.length === 0 ? { token: value } : { token: value, expiresAt: Math.floor(Math.min(...known)) };
}

/** What the handler hands out as a token: trimmed, not empty, at most MAX_TOKEN_LENGTH characters. */
function isTokenText(value: unknown): value is string {
  return typeof value === 'string' && value !== '' && value === value.trim() && value.length <= MAX_TOKEN_LENGTH;
}

/** Epoch seconds from an `expiresAt` hint, read as the element reads it: epoch seconds, epoch ms or an ISO date. */
function hintSeconds(value: unknown): number | undefined {
  if (typeof value === 'string') return positive(Date.parse(value) / 1000);
  // Epoch seconds stay below 1e11 until the year 5138; epoch ms passed that in 1973.
  if (typeof value === 'number' && value >= 1e11) return positive(value / 1000);
  return positive(value);
}

/** A finite number above zero, else undefined: what is left of a time or a duration once junk is ignored. */
function positive(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isFinite(value) && value > 0 ? value : undefined;
}

/** `exp` of a JWT, decoded without verification (the vendor signed it for the vendor); undefined for opaque tokens. */
function readJwtExpiry(token: string): number | undefined {
  return readClaim(token, 'exp');
}

function readJwtIssuedAt(token: string): number | undefined {
  return readClaim(token, 'iat');
}

function readClaim(token: string, name: 'exp' | 'iat'): number | undefined {
  try {
    return positive(decodeJwt(token)[name]);
  } catch {
    return undefined;
  }
}
