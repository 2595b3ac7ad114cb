import { randomUUID } from 'node:crypto';
import { SignJWT } from 'jose';
import { VENDOR_ALGORITHM, VENDOR_AUDIENCE, VENDOR_ISSUER, VENDOR_TOKEN_TYPE } from './claims.js';
import type { VendorSigningKey } from './keys.js';

export interface EmbedTokenRequest {
  subject: string;
  ttlSeconds: number;
  /** ms since epoch: the vendor's clock, so tests can mint tokens that are already expired. */
  now: number;
  /** The Qrvey-style token API's `appId` claim: which of the customer's applications the token opens. */
  appId?: string;
}

export function signEmbedToken(
  key: VendorSigningKey,
  { subject, ttlSeconds, now, appId }: EmbedTokenRequest,
): Promise<string> {
  const iat = Math.floor(now / 1000);
  return (
    new SignJWT(appId === undefined ? {} : { appId })
      .setProtectedHeader({ alg: VENDOR_ALGORITHM, kid: key.kid, typ: VENDOR_TOKEN_TYPE })
      .setIssuer(VENDOR_ISSUER)
      .setAudience(VENDOR_AUDIENCE)
      .setSubject(subject)
      .setIssuedAt(iat)
      .setExpirationTime(iat + ttlSeconds)
      // A unique id lets tests tell one token from the next even when both were minted in the same second.
      .setJti(randomUUID())
      .sign(key.privateKey)
  );
}
