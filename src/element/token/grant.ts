import { type ReadToken, readToken } from '../../protocol/token-read.js';
import { expiresAtHint, positiveNumber } from '../../protocol/token-rules.js';
import { SecureWidgetError } from '../errors.js';
import { MIN_TOKEN_LIFE } from '../../protocol/limits.js';

/**
 * A token and what the browser may know about it. The browser cannot verify a token, only schedule around it.
 * @internal
 */
export interface TokenGrant {
  readonly token: string;
  /** When the token expires, in ms since the epoch by the LOCAL clock; null when nothing says (opaque token). */
  readonly expiresAt: number | null;
  /** How long the token lives in all (exp − iat), in ms; caps the refresh margin at half of it. */
  readonly lifetime: number | null;
}

/** Expiry hints a response may carry beside the token (docs/design.md, "Element"). */
export interface ExpiryHints {
  /** Epoch seconds, epoch ms, or an ISO date. */
  expiresAt?: number | string | null;
  /** Seconds from now (a number, or a string of one). */
  expiresIn?: number | string | null;
}

/** @internal */
export interface Arrival {
  /** Local clock when the response arrived. */
  receivedAt: number;
  /** The server's clock at that moment (the response's `Date` header), when readable. */
  serverTime: number | null;
}

/**
 * A token read by the shared rules (protocol/token-rules.ts), or the element's error for the rule it broke:
 * `token-missing` for no token, `token-malformed` naming the rule for the rest (docs/element.md's error table).
 */
function readClaims(value: unknown): ReadToken {
  const read = readToken(value);
  if ('token' in read) return read;
  if (read.fault === 'missing')
    throw new SecureWidgetError('token-missing', 'The token endpoint answered without a token.');
  throw new SecureWidgetError('token-malformed', `The token is malformed (${read.fault}).`, { cause: read.cause });
}

function expired(): SecureWidgetError {
  return new SecureWidgetError('token-expired', `The token has expired, or expires within ${MIN_TOKEN_LIFE / 1000} s.`);
}

/**
 * A token from the endpoint, scheduled by the SERVER's clock (docs/design.md, "Token lifecycle"): its remaining life is
 * `exp` minus the server's time (the `Date` header, else `iat`), added to the local arrival time. A client clock hours
 * off then changes nothing, because the local clock is only ever used to measure an interval.
 */
export function grantFromResponse(token: unknown, hints: ExpiryHints, arrival: Arrival): TokenGrant {
  const { token: value, jwtClaims: claims } = readClaims(token);
  const serverNow = arrival.serverTime ?? (claims.iat != null ? claims.iat * 1000 : arrival.receivedAt);

  const remaining: number[] = [];
  if (claims.exp != null) remaining.push(claims.exp * 1000 - serverNow);
  const expiresIn = positiveNumber(hints.expiresIn);
  if (expiresIn !== null) remaining.push(expiresIn * 1000);
  const hinted = expiresAtHint(hints.expiresAt);
  if (hinted !== null) remaining.push(hinted - serverNow);

  if (remaining.length === 0) return { token: value, expiresAt: null, lifetime: null };
  const life = Math.min(...remaining);
  if (life < MIN_TOKEN_LIFE) throw expired();
  const lifetime = claims.exp != null && claims.iat != null ? (claims.exp - claims.iat) * 1000 : life;
  return { token: value, expiresAt: arrival.receivedAt + life, lifetime };
}

/**
 * A token rendered into the page by the server. There is no response to read the server's time from, so take the
 * earlier of two estimates: `exp` by the local clock, and now + (exp − iat). A page served stale from a cache then
 * fetches a fresh token instead of injecting a dead one, and a client clock far behind cannot stretch its life.
 */
export function grantFromMarkup(token: string, now: number): TokenGrant {
  const { token: value, jwtClaims: claims } = readClaims(token);
  if (claims.exp == null) return { token: value, expiresAt: null, lifetime: null };
  const byLocalClock = claims.exp * 1000;
  const lifetime = claims.iat != null ? (claims.exp - claims.iat) * 1000 : null;
  const expiresAt = lifetime !== null ? Math.min(byLocalClock, now + lifetime) : byLocalClock;
  if (expiresAt - now < MIN_TOKEN_LIFE) throw expired();
  return { token: value, expiresAt, lifetime };
}

/** When the next token must be fetched: `margin` before expiry, but never earlier than half-way through its life. */
export function refreshTime(grant: TokenGrant, margin: number): number | null {
  if (grant.expiresAt === null) return null;
  const cap = grant.lifetime !== null ? grant.lifetime / 2 : margin;
  return grant.expiresAt - Math.min(margin, cap);
}

export function isFresh(grant: TokenGrant | null, now: number): grant is TokenGrant {
  return grant !== null && (grant.expiresAt === null || grant.expiresAt > now);
}
