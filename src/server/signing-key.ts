import type { KeyObject } from 'node:crypto';
import { base64url, importJWK, importPKCS8 } from 'jose';
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
 * A signing key: a `KeyObject`, a `CryptoKey` or a private JWK for any algorithm; a PEM private key (PKCS#8) for the
 * asymmetric ones; for HS* also the raw secret as bytes or as a string (its UTF-8 bytes).
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

// The key: checked against the algorithm at construction, imported once.
// Every message below names the problem and never the key, and no error from reading the key becomes a cause: a crash
// log must not end up holding the signing key. No node:crypto either: `secure-widget/server` runs on Deno, Bun and
// Workers too, so a KeyObject is recognised the way jose does, and a PEM is read by a few lines of DER.

type KeyForJose = KeyObject | CryptoKey | Uint8Array;

/**
 * Checks the key against `alg` now, and returns how to get the key jose signs with. PEM and JWK keys are imported on
 * first use (WebCrypto is async, and some runtimes refuse crypto work at module load), then reused.
 */
export function signingKey(input: unknown, alg: SigningAlgorithm): () => Promise<KeyForJose> {
  const spec = ALGORITHMS[alg];
  if (spec.kind === 'hmac') {
    const secret = hmacSecret(input, alg, spec);
    return async () => secret;
  }
  if (typeof input === 'string') {
    const pem = checkPkcs8(input, alg, spec);
    return imported(alg, () => importPKCS8(pem, alg));
  }
  if (isJwk(input)) {
    const jwk = checkPrivateJwk(input, alg, spec);
    return imported(alg, () => importJWK(jwk, alg) as Promise<CryptoKey>);
  }
  const key = privateKeyObject(input, alg, spec);
  return async () => key;
}

function imported(alg: SigningAlgorithm, load: () => Promise<CryptoKey>): () => Promise<KeyForJose> {
  let key: Promise<CryptoKey> | undefined;
  return () =>
    (key ??= load().catch(() => {
      throw new TypeError(`signToken: options.key could not be imported as a ${alg} private key`);
    }));
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

function privateKeyObject(input: unknown, alg: SigningAlgorithm, spec: AlgorithmSpec): KeyObject | CryptoKey {
  if (input instanceof Uint8Array) {
    throw new TypeError(`signToken: options.key for ${alg} must be a private key; bytes are an HMAC secret`);
  }
  if (isKeyObject(input)) return checkKeyObject(input, alg, spec);
  if (isCryptoKey(input)) return checkCryptoKey(input, alg, spec);
  throw new TypeError(
    `signToken: options.key for ${alg} must be a PEM string, KeyObject, CryptoKey or JWK private key`,
  );
}

function checkKeyObject(key: KeyObject, alg: SigningAlgorithm, spec: AlgorithmSpec): KeyObject {
  requirePrivate(key.type, alg);
  const details = key.asymmetricKeyDetails ?? {};
  checkKind(key.asymmetricKeyType, details.namedCurve, alg, spec, NODE_CURVES);
  if (spec.kind === 'rsa' || spec.kind === 'rsa-pss') checkModulus(details.modulusLength, alg);
  return key;
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

function checkPrivateJwk(jwk: JWK, alg: SigningAlgorithm, spec: AlgorithmSpec): JWK {
  if (jwk.kty === 'oct') {
    throw new TypeError(`signToken: options.key for ${alg} must be a private key, not an HMAC secret`);
  }
  requirePrivate(typeof jwk.d === 'string' ? 'private' : 'public', alg);
  checkJwkUse(jwk, alg);
  const type = { RSA: 'rsa', EC: 'ec', OKP: jwk.crv?.toLowerCase() }[jwk.kty as string];
  checkKind(type, jwk.crv, alg, spec, JWK_CURVES);
  if (type === 'rsa') checkModulus(jwkModulusBits(jwk), alg);
  // A copy: jose freezes the JWK it imports, and a later change to the host's object must not bypass these checks.
  return { ...jwk };
}

function jwkModulusBits(jwk: JWK): number | undefined {
  try {
    return typeof jwk.n === 'string' ? unsignedBits(base64url.decode(jwk.n)) : undefined;
  } catch {
    return undefined;
  }
}

/** Reads the key type, curve and RSA modulus from a PKCS#8 PEM, without importing the key. */
function checkPkcs8(pem: string, alg: SigningAlgorithm, spec: AlgorithmSpec): string {
  if (/-----BEGIN (?:RSA )?PUBLIC KEY-----|-----BEGIN CERTIFICATE-----/.test(pem)) requirePrivate('public', alg);
  if (/-----BEGIN ENCRYPTED PRIVATE KEY-----/.test(pem)) {
    throw new TypeError(`signToken: options.key for ${alg} is an encrypted PEM; decrypt it or pass a KeyObject`);
  }
  if (/-----BEGIN (?:RSA|EC) PRIVATE KEY-----/.test(pem)) {
    throw new TypeError(
      `signToken: options.key for ${alg} must be PKCS#8 ("BEGIN PRIVATE KEY"); convert it with openssl pkcs8 -topk8`,
    );
  }
  const body = /-----BEGIN PRIVATE KEY-----([A-Za-z0-9+/=\s]+)-----END PRIVATE KEY-----/.exec(pem)?.[1];
  const unreadable = `signToken: options.key for ${alg} must be a PEM private key (PKCS#8) when it is a string`;
  if (body === undefined) throw new TypeError(unreadable);
  let info: Pkcs8Summary;
  try {
    info = readPkcs8(Uint8Array.from(atob(body.replace(/\s+/g, '')), (char) => char.charCodeAt(0)));
  } catch {
    throw new TypeError(unreadable);
  }
  checkKind(info.type, info.curve, alg, spec, JWK_CURVES);
  if (info.type === 'rsa') checkModulus(info.modulusBits, alg);
  return pem;
}

interface Pkcs8Summary {
  /** As Node names key types: `rsa`, `rsa-pss`, `ec`, `ed25519`. */
  type: string | undefined;
  curve: string | undefined;
  modulusBits: number | undefined;
}

const OID_KEY_TYPES: Record<string, string> = {
  '2a864886f70d010101': 'rsa',
  '2a864886f70d01010a': 'rsa-pss',
  '2a8648ce3d0201': 'ec',
  '2b6570': 'ed25519',
  '2b6571': 'ed448',
};
const OID_CURVES: Record<string, string> = {
  '2a8648ce3d030107': 'P-256',
  '2b81040022': 'P-384',
  '2b81040023': 'P-521',
};

/** PrivateKeyInfo (RFC 5208): SEQUENCE { version, SEQUENCE { algorithm OID, parameters }, OCTET STRING key }. */
function readPkcs8(der: Uint8Array): Pkcs8Summary {
  const info = derChildren(der, derElement(der, 0, 0x30));
  const algorithm = derChildren(der, info[1]!);
  const type = OID_KEY_TYPES[hex(der, algorithm[0]!)];
  const parameters = algorithm[1];
  const curve = parameters && parameters.tag === 0x06 ? OID_CURVES[hex(der, parameters)] : undefined;
  let modulusBits: number | undefined;
  if (type === 'rsa') {
    const key = info[2]!;
    // RSAPrivateKey (RFC 8017 A.1.2): SEQUENCE { version, modulus, … }
    const rsa = derChildren(der, derElement(der, key.start, 0x30));
    modulusBits = unsignedBits(der.subarray(rsa[1]!.start, rsa[1]!.end));
  }
  return { type, curve, modulusBits };
}

interface DerElement {
  tag: number;
  start: number;
  end: number;
  next: number;
}

function derElement(der: Uint8Array, offset: number, tag?: number): DerElement {
  const actual = der[offset];
  let length = der[offset + 1];
  if (actual === undefined || length === undefined || (tag !== undefined && actual !== tag)) {
    throw new Error('unexpected DER');
  }
  let start = offset + 2;
  if (length & 0x80) {
    const bytes = length & 0x7f;
    if (bytes < 1 || bytes > 3) throw new Error('unexpected DER length');
    length = 0;
    for (let i = 0; i < bytes; i++) length = length * 256 + der[start + i]!;
    start += bytes;
  }
  const end = start + length;
  if (end > der.length) throw new Error('truncated DER');
  return { tag: actual, start, end, next: end };
}

function derChildren(der: Uint8Array, parent: DerElement): DerElement[] {
  const children: DerElement[] = [];
  for (let offset = parent.start; offset < parent.end; ) {
    const child = derElement(der, offset);
    children.push(child);
    offset = child.next;
  }
  return children;
}

function hex(der: Uint8Array, element: DerElement): string {
  return Array.from(der.subarray(element.start, element.end), (byte) => byte.toString(16).padStart(2, '0')).join('');
}

/** Bit length of a big-endian unsigned integer (DER may prefix a zero byte). */
function unsignedBits(bytes: Uint8Array): number {
  let i = 0;
  while (i < bytes.length && bytes[i] === 0) i++;
  return i === bytes.length ? 0 : (bytes.length - i - 1) * 8 + (32 - Math.clz32(bytes[i]!));
}

const NODE_CURVES: Record<string, string> = { 'P-256': 'prime256v1', 'P-384': 'secp384r1', 'P-521': 'secp521r1' };
const JWK_CURVES: Record<string, string> = { 'P-256': 'P-256', 'P-384': 'P-384', 'P-521': 'P-521' };

/** `type` as Node names key types (`rsa`, `rsa-pss`, `ec`, `ed25519`); `curve` in the naming `curves` maps to. */
function checkKind(
  type: string | undefined,
  curve: string | undefined,
  alg: SigningAlgorithm,
  spec: AlgorithmSpec,
  curves: Record<string, string>,
): void {
  const fits =
    spec.kind === 'rsa'
      ? type === 'rsa'
      : spec.kind === 'rsa-pss'
        ? // An rsaEncryption key: jose (WebCrypto) cannot import a key restricted to RSA-PSS (id-RSASSA-PSS).
          type === 'rsa'
        : spec.kind === 'ec'
          ? type === 'ec' && curve === curves[spec.curve!]
          : type === 'ed25519';
  if (!fits) throw new TypeError(`signToken: options.key is not ${expectedKey(alg, spec)}`);
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

// Recognised by their tag, as jose does: no node:crypto import, and it works across copies of the module.
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
