import { calculateJwkThumbprint, exportJWK, generateKeyPair } from 'jose';
import type { JWK } from 'jose';
import { VENDOR_ALGORITHM } from './claims.js';

export interface VendorSigningKey {
  /** Signs embed tokens; never leaves the process. */
  readonly privateKey: CryptoKey;
  readonly kid: string;
  /** What the vendor publishes in its JWKS: the public half only, with its kid. */
  readonly publicJwk: JWK;
}

/**
 * A fresh key pair per process: the demo has no key to leak from the repository, and a restart invalidates every
 * token it ever issued, which is the behaviour a host must survive anyway.
 */
export async function generateVendorSigningKey(): Promise<VendorSigningKey> {
  // Not extractable: WebCrypto always lets the public half be exported, so the private key need not be, and then no
  // code in the process (a debug route, a careless log of exportJWK) can ever turn it into bytes.
  return vendorSigningKey(await generateKeyPair(VENDOR_ALGORITHM, { extractable: false }));
}

/** The vendor's view of a key pair it is handed (tests that must sign tokens the vendor never would). */
export async function vendorSigningKey({ privateKey, publicKey }: CryptoKeyPair): Promise<VendorSigningKey> {
  const publicJwk = await exportJWK(publicKey);
  // A thumbprint kid is stable for the key and needs no registry, and lets a JWKS hold an old and a new key at once.
  const kid = await calculateJwkThumbprint(publicJwk);
  return { privateKey, kid, publicJwk: { ...publicJwk, kid, alg: VENDOR_ALGORITHM, use: 'sig' } };
}

/** Whether `value` is an ES256 key pair the vendor can sign with and publish: checked before it is used. */
export function isVendorKeyPair(value: unknown): value is CryptoKeyPair {
  if (typeof value !== 'object' || value === null) return false;
  const { privateKey, publicKey } = value as Partial<CryptoKeyPair>;
  return (
    isP256Key(privateKey) &&
    privateKey.type === 'private' &&
    privateKey.usages.includes('sign') &&
    isP256Key(publicKey) &&
    publicKey.type === 'public'
  );
}

function isP256Key(key: unknown): key is CryptoKey {
  if (!(key instanceof CryptoKey)) return false;
  const algorithm = key.algorithm as EcKeyAlgorithm;
  return algorithm.name === 'ECDSA' && algorithm.namedCurve === 'P-256';
}
