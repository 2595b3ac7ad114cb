/**
 * The reference vendor's browser client, shared by the bundle widget and the iframe page: it verifies a token against
 * the vendor's JWKS, then loads the widget's data with `Authorization: Bearer`, as a real vendor's SDK would.
 */
import { createRemoteJWKSet } from 'jose';
import { EmbedTokenRejectedError, verifyEmbedToken } from './verify-token.js';
import type { EmbedTokenClaims, TokenRejectionCode } from './verify-token.js';

export type { TokenRejectionCode };

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
  let claims: EmbedTokenClaims;
  try {
    // The same checks as the data API's, on this browser's clock.
    claims = await verifyEmbedToken(token, vendor.keys, { now: Date.now() });
  } catch (error) {
    if (signal.aborted) return { outcome: 'aborted' };
    // The key set could not be fetched: a new token would not help, so no rejection (it would only start a loop).
    if (!(error instanceof EmbedTokenRejectedError)) return { outcome: 'unavailable', reason: UNREACHABLE };
    return { outcome: 'rejected', code: error.code };
  }
  if (signal.aborted) return { outcome: 'aborted' };
  // The clock tolerance forgives the issuer's clock, not the widget's: a token past exp here would show its card for a
  // moment, then expire on the first tick of the expiry timer.
  if (claims.expiresAt * 1000 <= Date.now()) return { outcome: 'rejected', code: 'token_expired' };

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
  return { outcome: 'ready', expiresAt: claims.expiresAt * 1000, tokenId: claims.tokenId };
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
