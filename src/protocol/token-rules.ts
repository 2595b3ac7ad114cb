/**
 * What a token is, for every side: the element refuses what its endpoint answers by these rules, the frame helper
 * what comes over the port, and the server what its issuer resolves, so that the server never hands out a token the
 * element would refuse (test/node/token-rules.property.test.ts). Each side turns a fault into its own error.
 */
import { MAX_TOKEN_LENGTH } from './limits.js';

/** Why a value is not a token. */
export type TokenFault =
  | 'missing'
  | 'too-long'
  | 'characters'
  | 'jwt-undecodable'
  | 'claim-not-number'
  | 'exp-not-after-iat';

/**
 * The characters bearer tokens are made of: RFC 6750's b64token plus `:` (base64, base64url, hex, UUIDs, `v2:…`).
 * Whitespace, quotes or angle brackets mean an HTML page or an error message was served as the token. All ASCII, so
 * a token's length in characters is its length in bytes.
 */
const TOKEN_CHARACTERS = /^[\w\-.~+/=:]+$/;

/**
 * A JWS in compact form: three base64url parts, the first a JSON object (`{"` encodes as `eyJ`). A JWE (five parts)
 * and dotted opaque formats (`v1.abc.def`) are opaque tokens.
 */
export const JWS_COMPACT = /^eyJ[\w-]*\.[\w-]+\.[\w-]*$/;

/** Why `value` (trimmed, as every side takes it) is no token; null when it is one. */
export function tokenFault(value: unknown): TokenFault | null {
  const token = typeof value === 'string' ? value.trim() : '';
  if (token === '') return 'missing';
  if (token.length > MAX_TOKEN_LENGTH) return 'too-long';
  return TOKEN_CHARACTERS.test(token) ? null : 'characters';
}

/**
 * Why a decoded JWT payload gives its token no life, or null: `exp` and `iat` are absent or finite numbers, and `exp`
 * is after `iat`. A JWT whose `exp` is not after its `iat` never had a life: no schedule can be built on it.
 */
export function claimsFault({ exp, iat }: Record<string, unknown>): TokenFault | null {
  for (const claim of [exp, iat]) {
    if (claim !== undefined && !(typeof claim === 'number' && Number.isFinite(claim))) return 'claim-not-number';
  }
  return typeof exp === 'number' && typeof iat === 'number' && exp <= iat ? 'exp-not-after-iat' : null;
}

/**
 * A number from markup or from a response, or null when it is junk: empty, not a number, not finite, zero or
 * negative. Every such value in this library is a duration or a time, where zero makes no sense, so junk means "not
 * set" and the default applies (`refresh-margin=""` is the default margin, not 0; `expiresIn: ""` is no hint, not an
 * expired token). A numeric string counts as its number: an `expiresIn` hint is this, in seconds.
 */
export function positiveNumber(value: unknown): number | null {
  const number = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
  return typeof number === 'number' && Number.isFinite(number) && number > 0 ? number : null;
}

/**
 * Epoch ms from an `expiresAt` hint: epoch seconds (the common case), epoch ms, as a number or a numeric string, or
 * an ISO date; null for junk.
 */
export function expiresAtHint(value: unknown): number | null {
  if (typeof value === 'string' && !/^\s*\d+(\.\d+)?\s*$/.test(value)) return positiveNumber(Date.parse(value));
  const number = positiveNumber(value);
  // Epoch seconds stay below 1e11 until the year 5138; epoch ms passed that in 1973.
  return number === null ? null : number < 1e11 ? number * 1000 : number;
}
