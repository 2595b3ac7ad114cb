import { decodeJwt } from 'jose';
import { MAX_TOKEN_LENGTH } from '../../protocol/limits.js';
import { SecureWidgetError } from '../errors.js';
import { positiveNumber } from '../positive-number.js';
import { MIN_REFRESH_DELAY } from './deadline.js';

/** A token and what the browser may know about it. The browser cannot verify a token, only schedule around it. */
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

export interface Arrival {
  /** Local clock when the response arrived. */
  receivedAt: number;
  /** The server's clock at that moment (the response's `Date` header), when readable. */
  serverTime: number | null;
}


// A JWS in compact form: three base64url parts, the first a JSON object (`{"` encodes as `eyJ`). A JWE (five parts)
// and dotted opaque formats (`v1.abc.def`) are opaque to us.
const JWS_COMPACT = /^eyJ[\w-]*\.[\w-]+\.[\w-]*$/;
// base64, base64url, hex, UUIDs and prefixed forms like `v2:…`: the characters bearer tokens are made of
// (RFC 6750 b64token plus `:`). Whitespace, quotes and angle brackets mean we were handed something else.
const TOKEN_CHARACTERS = /^[\w\-.~+/=:]+$/;

interface Claims {
  exp: number | null;
  iat: number | null;
}

/** Checks the shape of a token and reads its `exp`/`iat` without trusting them (they only drive scheduling). */
function readClaims(token: unknown): { token: string; claims: Claims | null } {
  if (typeof token !== 'string' || token.trim() === '') {
    throw new SecureWidgetError('token-missing', 'The token endpoint answered without a token.');
  }
  const value = token.trim();
  if (value.length > MAX_TOKEN_LENGTH) {
    throw new SecureWidgetError('token-malformed', `The token is longer than ${MAX_TOKEN_LENGTH} characters.`);
  }
  if (!TOKEN_CHARACTERS.test(value)) {
    throw new SecureWidgetError('token-malformed', 'The token contains characters no token has.');
  }
  if (!JWS_COMPACT.test(value)) return { token: value, claims: null };
  let payload: Record<string, unknown>;
  try {
    payload = decodeJwt(value);
  } catch (cause) {
    throw new SecureWidgetError('token-malformed', 'The token looks like a JWT but does not decode.', { cause });
  }
  const exp = numericClaim(payload.exp, 'exp');
  const iat = numericClaim(payload.iat, 'iat');
  return { token: value, claims: { exp, iat } };
}

function numericClaim(value: unknown, name: string): number | null {
  if (value === undefined) return null;
  if (typeof value === 'number' && Number.isFinite(value)) return value;
  throw new SecureWidgetError('token-malformed', `The token's "${name}" claim is not a number.`);
}

/** Epoch ms from an `expiresAt` hint: epoch seconds (the common case), epoch ms, or an ISO date; null for junk. */
function hintTime(value: number | string): number | null {
  if (typeof value === 'string' && !/^\s*\d+(\.\d+)?\s*$/.test(value)) return positiveNumber(Date.parse(value));
  const number = positiveNumber(value);
  // Epoch seconds stay below 1e11 until the year 5138; epoch ms passed that in 1973.
  return number === null ? null : number < 1e11 ? number * 1000 : number;
}

function expired(): SecureWidgetError {
  return new SecureWidgetError(
    'token-expired',
    `The token has expired, or expires within ${MIN_REFRESH_DELAY / 1000} s.`,
  );
}

/** A JWT whose `exp` is not after its `iat` never had a life: no schedule can be built on it. */
function checkLifetime(claims: Claims | null): void {
  if (claims?.exp != null && claims.iat != null && claims.exp <= claims.iat) {
    throw new SecureWidgetError('token-malformed', 'The token\'s "exp" is not after its "iat".');
  }
}

/**
 * A token from the endpoint, scheduled by the SERVER's clock (docs/design.md, "Token lifecycle"): its remaining life is
 * `exp` minus the server's time (the `Date` header, else `iat`), added to the local arrival time. A client clock hours
 * off then changes nothing, because the local clock is only ever used to measure an interval.
 */
export function grantFromResponse(token: unknown, hints: ExpiryHints, arrival: Arrival): TokenGrant {
  const { token: value, claims } = readClaims(token);
  checkLifetime(claims);
  const serverNow = arrival.serverTime ?? (claims?.iat != null ? claims.iat * 1000 : arrival.receivedAt);

  const remaining: number[] = [];
  if (claims?.exp != null) remaining.push(claims.exp * 1000 - serverNow);
  const expiresIn = positiveNumber(hints.expiresIn);
  if (expiresIn !== null) remaining.push(expiresIn * 1000);
  const hinted = hints.expiresAt != null ? hintTime(hints.expiresAt) : null;
  if (hinted !== null) remaining.push(hinted - serverNow);

  if (remaining.length === 0) return { token: value, expiresAt: null, lifetime: null };
  const life = Math.min(...remaining);
  if (life < MIN_REFRESH_DELAY) throw expired();
  const lifetime = claims?.exp != null && claims.iat != null ? (claims.exp - claims.iat) * 1000 : life;
  return { token: value, expiresAt: arrival.receivedAt + life, lifetime };
}

/**
 * A token rendered into the page by the server. There is no response to read the server's time from, so take the
 * earlier of two estimates: `exp` by the local clock, and now + (exp − iat). A page served stale from a cache then
 * fetches a fresh token instead of injecting a dead one, and a client clock far behind cannot stretch its life.
 */
export function grantFromMarkup(token: string, now: number): TokenGrant {
  const { token: value, claims } = readClaims(token);
  checkLifetime(claims);
  if (claims?.exp == null) return { token: value, expiresAt: null, lifetime: null };
  const byLocalClock = claims.exp * 1000;
  const lifetime = claims.iat != null ? (claims.exp - claims.iat) * 1000 : null;
  const expiresAt = lifetime !== null ? Math.min(byLocalClock, now + lifetime) : byLocalClock;
  if (expiresAt - now < MIN_REFRESH_DELAY) throw expired();
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
