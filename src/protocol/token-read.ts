/**
 * A token read by the rules of token-rules.ts, its JWT claims decoded: what the element schedules by and the server
 * caches by. Apart from token-rules.ts because it decodes with jose, which the frame helper (that checks a token's
 * shape only) does not carry.
 */
import { decodeJwt } from 'jose';
import { claimsFault, JWS_COMPACT, type TokenFault, tokenFault } from './token-rules.js';

/** A JWT's `exp` and `iat` in epoch seconds (checked numbers where present); none for an opaque token. */
export interface TokenClaims {
  exp?: number;
  iat?: number;
}

/** @internal A token that passed every rule: trimmed, with its claims. */
export interface ReadToken {
  token: string;
  jwtClaims: TokenClaims;
}

/** @internal Why a value is not a token, with the decoding error as `cause` for a JWT that does not decode. */
export interface RefusedToken {
  fault: TokenFault;
  cause?: unknown;
}

/**
 * Reads `value` by every rule above, as each side takes a token: trimmed, its claims decoded without verification
 * (the vendor signed the token for the vendor; the claims only drive scheduling and caching).
 */
export function readToken(value: unknown): ReadToken | RefusedToken {
  const shapeFault = tokenFault(value);
  if (shapeFault) return { fault: shapeFault };
  const token = (value as string).trim();
  if (!JWS_COMPACT.test(token)) return { token, jwtClaims: {} };
  let payload: Record<string, unknown>;
  try {
    payload = decodeJwt(token);
  } catch (cause) {
    return { fault: 'jwt-undecodable', cause };
  }
  const fault = claimsFault(payload);
  if (fault) return { fault };
  return { token, jwtClaims: payload as TokenClaims };
}
