import { calculateJwkThumbprint, exportJWK, generateKeyPair } from 'jose';
import type { JSONWebKeySet } from 'jose';
import { VENDOR_ALGORITHM } from './claims.js';

export interface VendorSigningKey {
  /** Signs embed tokens; never leaves the process. */
  readonly privateKey: CryptoKey;
  readonly kid: string;
  /** What the vendor publishes: the public half only. */
  readonly jwks: JSONWebKeySet;
}

/**
 * A fresh key pair per process: the demo has no key to leak from the repository, and a restart invalidates every
 * token it ever issued, which is the behaviour a host must survive anyway.
 */
export async function generateVendorSigningKey(): Promise<VendorSigningKey> {
  // Not extractable: WebCrypto always lets the public half be exported, so the private key need not be, and then no
  // code in the process (a debug route, a careless log of exportJWK) can ever turn it into bytes.
  const { privateKey, publicKey } = await generateKeyPair(VENDOR_ALGORITHM, { extractable: false });
  const publicJwk = await exportJWK(publicKey);
  // A thumbprint kid is stable for the key and needs no registry, and lets a JWKS hold an old and a new key at once.
  const kid = await calculateJwkThumbprint(publicJwk);
  return {
    privateKey,
    kid,
    jwks: { keys: [{ ...publicJwk, kid, alg: VENDOR_ALGORITHM, use: 'sig' }] },
  };
}
