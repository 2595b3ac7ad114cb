import { createPrivateKey, type KeyObject } from 'node:crypto';
import { base64url } from 'jose';
import type { JWK } from 'jose';
import { isPlaceholderSecret } from './placeholder-secret.js';

/** The algorithms `signToken` signs with. `none` is not one of them, by design. */
export type SigningAlgorithm =
  | 'HS256'
  | 'HS384'
  | 'HS512'
  | 'RS256'
  | 'RS384'
  | 'RS512'
  | 'PS256'
  | 'PS384'
  | 'PS512'
  | 'ES256'
  | 'ES384'
  | 'ES512'
  | 'EdDSA';

/**
 * A signing key: a `KeyObject`, a `CryptoKey` or a private JWK for any algorithm; a PEM private key for the asymmetric
 * ones (PKCS#8 `BEGIN PRIVATE KEY`, or PKCS#1 `BEGIN RSA PRIVATE KEY` and SEC1 `BEGIN EC PRIVATE KEY`); for HS* also
 * the raw secret as bytes or as a string (its UTF-8 bytes).
 */
export type SigningKey = KeyObject | CryptoKey | JWK | Uint8Array | string;

export interface AlgorithmSpec {
  kind: 'hmac' | 'rsa' | 'rsa-pss' | 'ec' | 'eddsa';
  /** Hash name as WebCrypto spells it. */
  hash?: 'SHA-256' | 'SHA-384' | 'SHA-512';
  /** HMAC: RFC 7518 §3.2, a key at least as long as the hash output. */
  minSecretBytes?: number;
  /** EC: the curve as WebCrypto and JWK spell it. */
  curve?: 'P-256' | 'P-384' | 'P-521';
}

export const ALGORITHMS: Record<SigningAlgorithm, AlgorithmSpec> = {
  HS256: { kind: 'hmac', hash: 'SHA-256', minSecretBytes: 32 },
  HS384: { kind: 'hmac', hash: 'SHA-384', minSecretBytes: 48 },
  HS512: { kind: 'hmac', hash: 'SHA-512', minSecretBytes: 64 },
  RS256: { kind: 'rsa', hash: 'SHA-256' },
  RS384: { kind: 'rsa', hash: 'SHA-384' },
  RS512: { kind: 'rsa', hash: 'SHA-512' },
  PS256: { kind: 'rsa-pss', hash: 'SHA-256' },
  PS384: { kind: 'rsa-pss', hash: 'SHA-384' },
  PS512: { kind: 'rsa-pss', hash: 'SHA-512' },
  ES256: { kind: 'ec', curve: 'P-256' },
  ES384: { kind: 'ec', curve: 'P-384' },
  ES512: { kind: 'ec', curve: 'P-521' },
  EdDSA: { kind: 'eddsa' },
};

const MIN_RSA_BITS = 2048;

// The key: checked against the algorithm at construction, and read once.
// Every message below names the problem and never the key, and no error from reading the key becomes a cause: a crash
// log must not end up holding the signing key. PEM and JWK keys are read by node:crypto's createPrivateKey, the
// platform's own parser rather than one of ours: it is synchronous, so a bad key fails at startup, and Deno and Bun
// provide the same module. jose signs with the KeyObject it gives.

type KeyForJose = KeyObject | CryptoKey | Uint8Array;

/** Checks the key against `alg` now, and returns it as jose signs with it. */
export function signingKey(input: unknown, alg: SigningAlgorithm): KeyForJose {
  const spec = ALGORITHMS[alg];
  if (spec.kind === 'hmac') return hmacSecret(input, alg, spec);
  if (typeof input === 'string') return checkKeyObject(pemKey(input, alg), alg, spec);
  if (isJwk(input)) return checkKeyObject(jwkKey(input, alg), alg, spec);
  if (isKeyObject(input)) return checkKeyObject(input, alg, spec);
  if (isCryptoKey(input)) return checkCryptoKey(input, alg, spec);
  if (input instanceof Uint8Array) {
    throw new TypeError(`signToken: options.key for ${alg} must be a private key; bytes are an HMAC secret`);
  }
  throw new TypeError(
    `signToken: options.key for ${alg} must be a PEM string, KeyObject, CryptoKey or JWK private key`,
  );
}

function hmacSecret(input: unknown, alg: SigningAlgorithm, spec: AlgorithmSpec): KeyForJose {
  const minBytes = spec.minSecretBytes!;
  const tooShort = `signToken: options.key for ${alg} must be a secret of at least ${minBytes} bytes (RFC 7518 §3.2)`;
  const notASecret = `signToken: options.key for ${alg} must be a secret, not a public or private key`;

  if (typeof input === 'string' || input instanceof Uint8Array) {
    const bytes = typeof input === 'string' ? new TextEncoder().encode(input) : new Uint8Array(input);
    const text = typeof input === 'string' ? input : new TextDecoder().decode(bytes);
    // Algorithm confusion: a PEM or JWK text used as an HMAC secret lets anyone who has the public key forge tokens.
    if (/-----BEGIN [A-Z0-9 ]+-----/.test(text) || /^\s*\{[\s\S]*"kty"/.test(text)) throw new TypeError(notASecret);
    if (typeof input === 'string' && isPlaceholderSecret(input)) {
      throw new TypeError(`signToken: options.key for ${alg} is a placeholder (like change-me), not a secret`);
    }
    if (bytes.length < minBytes) throw new TypeError(tooShort);
    return bytes;
  }
  if (isKeyObject(input)) {
    if (input.type !== 'secret') throw new TypeError(notASecret);
    if ((input.symmetricKeySize ?? 0) < minBytes) throw new TypeError(tooShort);
    return input;
  }
  if (isCryptoKey(input)) {
    const algorithm = input.algorithm as HmacKeyAlgorithm;
    if (input.type !== 'secret' || algorithm.name !== 'HMAC') throw new TypeError(notASecret);
    if (algorithm.hash?.name !== spec.hash) {
      throw new TypeError(`signToken: options.key for ${alg} must be an HMAC CryptoKey with hash ${spec.hash}`);
    }
    if (algorithm.length < minBytes * 8) throw new TypeError(tooShort);
    requireSignUsage(input, alg);
    return input;
  }
  if (isJwk(input)) {
    if (input.kty !== 'oct' || typeof input.k !== 'string') throw new TypeError(notASecret);
    checkJwkUse(input, alg);
    let secret: Uint8Array;
    try {
      secret = base64url.decode(input.k);
    } catch {
      throw new TypeError(`signToken: options.key for ${alg} is a JWK whose "k" is not base64url`);
    }
    if (secret.length < minBytes) throw new TypeError(tooShort);
    return secret;
  }
  throw new TypeError(
    `signToken: options.key for ${alg} must be a string, Uint8Array, KeyObject, CryptoKey or JWK secret`,
  );
}

function checkKeyObject(key: KeyObject, alg: SigningAlgorithm, spec: AlgorithmSpec): KeyObject {
  requirePrivate(key.type, alg);
  const type = key.asymmetricKeyType;
  const { namedCurve, modulusLength } = key.asymmetricKeyDetails ?? {};
  const fits =
    spec.kind === 'rsa' || spec.kind === 'rsa-pss'
      ? // rsaEncryption for PS* too: jose (WebCrypto) cannot import a key restricted to RSA-PSS (id-RSASSA-PSS).
        type === 'rsa'
      : spec.kind === 'ec'
        ? type === 'ec' && namedCurve === NODE_CURVES[spec.curve!]
        : type === 'ed25519';
  if (!fits) throw new TypeError(`signToken: options.key is not ${expectedKey(alg, spec)}`);
  if (type === 'rsa') checkModulus(modulusLength, alg);
  return key;
}

const NODE_CURVES: Record<string, string> = { 'P-256': 'prime256v1', 'P-384': 'secp384r1', 'P-521': 'secp521r1' };

/**
 * A PEM private key, as the platform reads it. When it cannot, the PEM's label alone says which mistake it was: the
 * platform's error is about the key's bytes, so it is neither quoted nor kept as a cause.
 */
function pemKey(pem: string, alg: SigningAlgorithm): KeyObject {
  try {
    return createPrivateKey(pem);
  } catch {
    if (/-----BEGIN (?:RSA )?PUBLIC KEY-----|-----BEGIN CERTIFICATE-----/.test(pem)) requirePrivate('public', alg);
    if (/-----BEGIN ENCRYPTED PRIVATE KEY-----|Proc-Type: 4,ENCRYPTED/.test(pem)) {
      throw new TypeError(`signToken: options.key for ${alg} is an encrypted PEM; decrypt it or pass a KeyObject`);
    }
    throw new TypeError(`signToken: options.key for ${alg} must be a PEM private key when it is a string`);
  }
}

function jwkKey(jwk: JWK, alg: SigningAlgorithm): KeyObject {
  if (jwk.kty === 'oct') {
    throw new TypeError(`signToken: options.key for ${alg} must be a private key, not an HMAC secret`);
  }
  requirePrivate(typeof jwk.d === 'string' ? 'private' : 'public', alg);
  checkJwkUse(jwk, alg);
  try {
    return createPrivateKey({ key: jwk, format: 'jwk' });
  } catch {
    throw new TypeError(`signToken: options.key for ${alg} is a JWK that is not a whole private key`);
  }
}

function checkCryptoKey(key: CryptoKey, alg: SigningAlgorithm, spec: AlgorithmSpec): CryptoKey {
  requirePrivate(key.type, alg);
  const algorithm = key.algorithm as KeyAlgorithm & { hash?: { name?: string }; namedCurve?: string };
  const fits =
    spec.kind === 'rsa'
      ? algorithm.name === 'RSASSA-PKCS1-v1_5' && algorithm.hash?.name === spec.hash
      : spec.kind === 'rsa-pss'
        ? algorithm.name === 'RSA-PSS' && algorithm.hash?.name === spec.hash
        : spec.kind === 'ec'
          ? algorithm.name === 'ECDSA' && algorithm.namedCurve === spec.curve
          : algorithm.name === 'Ed25519';
  if (!fits) throw new TypeError(`signToken: options.key is not ${expectedKey(alg, spec)}`);
  if (spec.kind === 'rsa' || spec.kind === 'rsa-pss') {
    checkModulus((key.algorithm as RsaHashedKeyAlgorithm).modulusLength, alg);
  }
  requireSignUsage(key, alg);
  return key;
}

function requirePrivate(type: string, alg: SigningAlgorithm): void {
  if (type === 'secret') {
    throw new TypeError(`signToken: options.key for ${alg} must be a private key, not an HMAC secret`);
  }
  if (type !== 'private') {
    throw new TypeError(`signToken: options.key for ${alg} is a public key; signing needs the private key`);
  }
}

function expectedKey(alg: SigningAlgorithm, spec: AlgorithmSpec): string {
  switch (spec.kind) {
    case 'rsa':
      return `an RSA private key (as a CryptoKey: RSASSA-PKCS1-v1_5 with ${spec.hash}) for ${alg}`;
    case 'rsa-pss':
      return `an RSA private key, not restricted to RSA-PSS (as a CryptoKey: RSA-PSS with ${spec.hash}) for ${alg}`;
    case 'ec':
      return `an EC private key on ${spec.curve} for ${alg}`;
    default:
      return `an Ed25519 private key for ${alg}`;
  }
}

function checkModulus(bits: number | undefined, alg: SigningAlgorithm): void {
  if (typeof bits !== 'number' || bits < MIN_RSA_BITS) {
    throw new TypeError(`signToken: options.key for ${alg} must be an RSA key of at least ${MIN_RSA_BITS} bits`);
  }
}

function requireSignUsage(key: CryptoKey, alg: SigningAlgorithm): void {
  if (!key.usages.includes('sign')) {
    throw new TypeError(`signToken: options.key for ${alg} is a CryptoKey without the "sign" usage`);
  }
}

/** A JWK that says what it is for must say it is for this: `alg`, `use` and `key_ops` when present. */
function checkJwkUse(jwk: JWK, alg: SigningAlgorithm): void {
  if (jwk.alg !== undefined && jwk.alg !== alg) {
    throw new TypeError(`signToken: options.key is a JWK for another algorithm than ${alg}`);
  }
  if (jwk.use !== undefined && jwk.use !== 'sig') {
    throw new TypeError('signToken: options.key is a JWK whose use is not "sig"');
  }
  if (Array.isArray(jwk.key_ops) && !jwk.key_ops.includes('sign')) {
    throw new TypeError('signToken: options.key is a JWK whose key_ops do not include "sign"');
  }
}

// Recognised by their tag, as jose recognises them: what passes here is what jose signs with.
function isKeyObject(value: unknown): value is KeyObject {
  return (value as { [Symbol.toStringTag]?: unknown } | null)?.[Symbol.toStringTag] === 'KeyObject';
}

function isCryptoKey(value: unknown): value is CryptoKey {
  return (
    (value as { [Symbol.toStringTag]?: unknown } | null)?.[Symbol.toStringTag] === 'CryptoKey' ||
    (typeof CryptoKey === 'function' && value instanceof CryptoKey)
  );
}

function isJwk(value: unknown): value is JWK {
  return typeof value === 'object' && value !== null && typeof (value as { kty?: unknown }).kty === 'string';
}
