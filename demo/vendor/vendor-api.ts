/**
 * The reference vendor's browser client, shared by the bundle widget and the iframe page: it verifies a token against
 * the vendor's JWKS, then loads the widget's data with `Authorization: Bearer`, as a real vendor's SDK would.
 */
import { createRemoteJWKSet, jwtVerify } from 'jose';
import { VENDOR_ALGORITHM, VENDOR_AUDIENCE, VENDOR_ISSUER } from './claims.js';

export type TokenRejectionCode = 'token_expired' | 'token_invalid';

export interface VendorEndpoints {
  keys: ReturnType<typeof createRemoteJWKSet>;
  dataApi: URL;
}

/** What one load with a token came to. `unavailable` is the vendor's fault: no new token would fix it. */
export type WidgetLoad =
  | { outcome: 'ready'; expiresAt: number; tokenId: string | null }
  | { outcome: 'rejected'; code: TokenRejectionCode }
  | { outcome: 'unavailable'; reason: string }
  | { outcome: 'aborted' };

const UNREACHABLE = 'The vendor could not be reached.';

/** Endpoints relative to `base` (the script's or the page's URL), so the vendor works wherever it is mounted. */
export function locateVendor(base: string): VendorEndpoints | null {
  try {
    const root = new URL('.', base);
    return {
      keys: createRemoteJWKSet(new URL('.well-known/jwks.json', root)),
      dataApi: new URL('api/widget-data', root),
    };
  } catch {
    return null;
  }
}

/** Verifies `token`, then loads the widget's data with it. Never throws; `aborted` once `signal` is. */
export async function loadWidgetData(token: string, vendor: VendorEndpoints, signal: AbortSignal): Promise<WidgetLoad> {
  let exp: number;
  let jti: unknown;
  try {
    ({ payload: { exp = 0, jti } } = await jwtVerify(token, vendor.keys, {
      algorithms: [VENDOR_ALGORITHM],
      issuer: VENDOR_ISSUER,
      audience: VENDOR_AUDIENCE,
      requiredClaims: ['exp', 'iat', 'sub'],
    }));
  } catch (error) {
    if (signal.aborted) return { outcome: 'aborted' };
    const code = tokenRejection(error);
    // The key set could not be fetched: a new token would not help, so no rejection (it would only start a loop).
    return code ? { outcome: 'rejected', code } : { outcome: 'unavailable', reason: UNREACHABLE };
  }
  if (signal.aborted) return { outcome: 'aborted' };

  let response: Response;
  try {
    response = await fetch(vendor.dataApi, {
      headers: { Authorization: `Bearer ${token}` },
      signal,
      // The token is the credential; cookies for the vendor's origin have no business here.
      credentials: 'omit',
      cache: 'no-store',
    });
  } catch {
    return signal.aborted ? { outcome: 'aborted' } : { outcome: 'unavailable', reason: UNREACHABLE };
  }
  if (signal.aborted) return { outcome: 'aborted' };
  if (response.status === 401) {
    const code = await apiRejection(response);
    return signal.aborted ? { outcome: 'aborted' } : { outcome: 'rejected', code };
  }
  void response.body?.cancel();
  if (!response.ok) return { outcome: 'unavailable', reason: `The vendor answered HTTP ${response.status}.` };
  return { outcome: 'ready', expiresAt: exp * 1000, tokenId: typeof jti === 'string' ? jti : null };
}

/** jose's verdict on the token itself, or null when verification failed for another reason (the JWKS fetch). */
function tokenRejection(error: unknown): TokenRejectionCode | null {
  const code = typeof error === 'object' && error !== null && 'code' in error ? error.code : undefined;
  if (code === 'ERR_JWT_EXPIRED') return 'token_expired';
  if (typeof code !== 'string') return null;
  if (code.startsWith('ERR_JWT_') || code.startsWith('ERR_JWS_')) return 'token_invalid';
  if (code === 'ERR_JOSE_ALG_NOT_ALLOWED' || code === 'ERR_JOSE_NOT_SUPPORTED') return 'token_invalid';
  if (code === 'ERR_JWKS_NO_MATCHING_KEY' || code === 'ERR_JWKS_MULTIPLE_MATCHING_KEYS') return 'token_invalid';
  return null;
}

async function apiRejection(response: Response): Promise<TokenRejectionCode> {
  try {
    const body: unknown = await response.json();
    const error = typeof body === 'object' && body !== null && 'error' in body ? body.error : undefined;
    const code = typeof error === 'object' && error !== null && 'code' in error ? error.code : undefined;
    return code === 'token_expired' ? 'token_expired' : 'token_invalid';
  } catch {
    return 'token_invalid';
  }
}
