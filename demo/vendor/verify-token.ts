/**
 * What the reference vendor accepts as an embed token, in one place for its data API (Node) and its widget (browser),
 * so the two cannot drift apart. DOM-free, jose only. The checks follow RFC 8725 (JWT Best Current Practices):
 *
 * - the algorithm is pinned to ES256 (§3.1): `alg: none` and an HMAC "signed" with the public key never verify;
 * - the key comes from the vendor's own key set, chosen by a required `kid`; `jku`, `jwk`, `x5u` and `x5c` headers are
 *   never read, so a token cannot name the key that verifies it (§3.10);
 * - `typ` must be the vendor's (§3.11), and an unknown `crit` header is rejected (RFC 7515 §4.1.11);
 * - `iss` and `aud` must be the vendor's (§3.8, §3.9), and `exp`, `iat` and `sub` must be present;
 * - time claims are checked with a small, fixed clock tolerance; a token is bounded in size before it is parsed.
 */
import { jwtVerify } from 'jose';
import type { JWTPayload, JWTVerifyGetKey } from 'jose';
import { VENDOR_ALGORITHM, VENDOR_AUDIENCE, VENDOR_ISSUER, VENDOR_TOKEN_TYPE } from './claims.js';

export type TokenRejectionCode = 'token_expired' | 'token_invalid';

/**
 * Seconds of disagreement between the issuer's clock and the verifier's that `exp` and `nbf` forgive. Small: a token
 * lives minutes, and every second forgiven is a second an expired token still works.
 */
export const CLOCK_TOLERANCE_SECONDS = 5;

/**
 * How far ahead of the verifier's clock `iat` may be. Wider than the tolerance on purpose: `exp` already bounds how long
 * a token works, so this only catches an issuer clock that is plainly wrong or a token minted for later use, and an
 * honest issuer whose clock runs a minute ahead must not be locked out.
 */
export const MAX_ISSUED_AHEAD_SECONDS = 300;

/**
 * The longest token accepted, in characters. Ours are about 450; the cap keeps a caller from making us decode and parse
 * whatever an Authorization header can hold.
 */
export const MAX_EMBED_TOKEN_LENGTH = 8192;

export interface EmbedTokenClaims {
  subject: string;
  /** NumericDate (seconds since epoch). */
  issuedAt: number;
  /** NumericDate (seconds since epoch). */
  expiresAt: number;
  /** The `jti`, or null when the token has none. */
  tokenId: string | null;
  /** The `appId` claim of a Qrvey-style token, or null when the token has none. */
  appId: string | null;
}

export interface VerifyEmbedTokenOptions {
  /** The verifier's clock, ms since epoch; default Date.now(). */
  now?: number;
}

/** The token was looked at and refused. Its message is one of two generic ones: the detail helps only an attacker. */
export class EmbedTokenRejectedError extends Error {
  override readonly name = 'EmbedTokenRejectedError';
  readonly code: TokenRejectionCode;

  constructor(code: TokenRejectionCode, options?: ErrorOptions) {
    super(code === 'token_expired' ? 'The token has expired' : 'The token is not valid', options);
    this.code = code;
  }
}

/**
 * Resolves the token's claims, or rejects with an EmbedTokenRejectedError (`token_expired` when `exp` has passed,
 * `token_invalid` for everything else). Any other rejection is not a verdict on the token: `keys` could not be had
 * (a remote key set unreachable), which no new token would fix.
 */
export async function verifyEmbedToken(
  token: string,
  keys: JWTVerifyGetKey,
  { now = Date.now() }: VerifyEmbedTokenOptions = {},
): Promise<EmbedTokenClaims> {
  if (typeof keys !== 'function') throw new TypeError('verifyEmbedToken: keys must be a key set from jose');
  if (typeof now !== 'number' || !Number.isFinite(now)) {
    throw new TypeError('verifyEmbedToken: now must be a finite number of ms since epoch');
  }
  if (typeof token !== 'string' || token.length === 0 || token.length > MAX_EMBED_TOKEN_LENGTH) {
    throw new EmbedTokenRejectedError('token_invalid');
  }
  let payload: JWTPayload;
  try {
    ({ payload } = await jwtVerify(token, keyByKid(keys), {
      algorithms: [VENDOR_ALGORITHM],
      typ: VENDOR_TOKEN_TYPE,
      issuer: VENDOR_ISSUER,
      audience: VENDOR_AUDIENCE,
      requiredClaims: ['exp', 'iat', 'sub'],
      clockTolerance: CLOCK_TOLERANCE_SECONDS,
      currentDate: new Date(now),
    }));
  } catch (error) {
    if (error instanceof EmbedTokenRejectedError) throw error;
    const code = rejectionCode(error);
    if (code === null) throw error;
    throw new EmbedTokenRejectedError(code, { cause: error });
  }
  // jose has checked that exp and iat are numbers; sub it only requires to be present.
  const { sub, iat, exp, jti, appId } = payload as {
    sub: unknown;
    iat: number;
    exp: number;
    jti?: unknown;
    appId?: unknown;
  };
  if (typeof sub !== 'string' || sub.length === 0) throw new EmbedTokenRejectedError('token_invalid');
  // jose checks iat only against maxTokenAge, which would also cap every token's age at one number; exp does that here.
  if (iat > now / 1000 + MAX_ISSUED_AHEAD_SECONDS) throw new EmbedTokenRejectedError('token_invalid');
  return {
    subject: sub,
    issuedAt: iat,
    expiresAt: exp,
    tokenId: typeof jti === 'string' ? jti : null,
    appId: typeof appId === 'string' ? appId : null,
  };
}

/**
 * The key set, asked only for a token that names its key: without a kid a set holding an old and a new key (rotation)
 * would have to guess, and the vendor always sets one.
 */
function keyByKid(keys: JWTVerifyGetKey): JWTVerifyGetKey {
  return (protectedHeader, token) => {
    if (typeof protectedHeader.kid !== 'string' || protectedHeader.kid.length === 0) {
      throw new EmbedTokenRejectedError('token_invalid');
    }
    return keys(protectedHeader, token);
  };
}

/** jose's verdict on the token itself, or null when verification failed for another reason (the key set fetch). */
function rejectionCode(error: unknown): TokenRejectionCode | null {
  const code = typeof error === 'object' && error !== null && 'code' in error ? error.code : undefined;
  if (code === 'ERR_JWT_EXPIRED') return 'token_expired';
  if (typeof code !== 'string') return null;
  if (code.startsWith('ERR_JWT_') || code.startsWith('ERR_JWS_')) return 'token_invalid';
  if (code === 'ERR_JOSE_ALG_NOT_ALLOWED' || code === 'ERR_JOSE_NOT_SUPPORTED') return 'token_invalid';
  if (code === 'ERR_JWKS_NO_MATCHING_KEY' || code === 'ERR_JWKS_MULTIPLE_MATCHING_KEYS') return 'token_invalid';
  return null;
}
