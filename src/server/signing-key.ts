import { base64url, importJWK, importPKCS8 } from 'jose';
import type { JWK, KeyObject } from 'jose';
import { platformReason } from './internal/platform-reason.js';
import { hasUnexpandedTemplate, isPlaceholderSecret } from './placeholder-secret.js';

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
 * A signing key: a `CryptoKey`, a private JWK or (on Node) a `KeyObject` for any algorithm; a PKCS#8 PEM private key
 * (`BEGIN PRIVATE KEY`) for the asymmetric ones; for HS* also the raw secret as bytes or as a string (its UTF-8 bytes).
 * `KeyObject` is jose's structural type, so that the declarations name no `node:` module.
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

// The key: checked against the algorithm, read once, and never quoted. Every message below names the problem and never
// the key, and no error from reading the key becomes a cause: a crash log must not end up holding the signing key.
//
// PEM and JWK keys are read by WebCrypto, through jose's importers: the platform's own parser rather than one of
// ours, and the same on Node, Deno, Bun and workerd (node:crypto's createPrivateKey is not there on workerd without
// a compatibility flag). WebCrypto is asynchronous, so the checks are split: what the text shows (a PEM's label, a
// JWK's members, its curve and its RSA modulus) is checked at construction and fails the deploy; what only the
// import can tell (a PKCS#8 PEM's key type, curve and size) is checked when the first token is signed, and fails that
// request as `issuer-key`, with this same message in the handler's log line.

/** What jose signs with. `KeyObject` is Node's, recognised by its tag (jose signs with it where Node is). */
export type KeyForJose = KeyObject | CryptoKey | Uint8Array;

/** The key, imported on first use and kept; rejects with a `TypeError` that names the problem, never the key. */
export type SigningKeyLoader = () => Promise<KeyForJose>;

/** What Node's `KeyObject` tells about itself: what the checks read, without naming `node:crypto`. */
interface KeyObjectDetails {
  type: string;
  asymmetricKeyType?: string;
  asymmetricKeyDetails?: { modulusLength?: number; namedCurve?: string };
  symmetricKeySize?: number;
}

/** Checks the key against `alg` now, as far as its text and type show, and returns how jose gets it. */
export function signingKey(input: unknown, alg: SigningAlgorithm): SigningKeyLoader {
  const spec = ALGORITHMS[alg];
  if (spec.kind === 'hmac') return resolved(hmacSecret(input, alg, spec));
  if (typeof input === 'string') return once(pemImport(input, alg, spec));
  if (isJwk(input)) return once(jwkImport(input, alg, spec));
  if (isKeyObject(input)) return resolved(checkKeyObject(input, alg, spec));
  if (isCryptoKey(input)) return resolved(checkCryptoKey(input, alg, spec));
  if (input instanceof Uint8Array) {
    throw new TypeError(`signToken: options.key for ${alg} must be a private key; bytes are an HMAC secret`);
  }
  throw new TypeError(
    `signToken: options.key for ${alg} must be a PEM string, CryptoKey, JWK or KeyObject private key`,
  );
}

function resolved(key: KeyForJose): SigningKeyLoader {
  return () => Promise.resolve(key);
}

/** Imports on the first call only, and not before: workerd allows no crypto at a module's top level. */
function once(load: () => Promise<KeyForJose>): SigningKeyLoader {
  let key: Promise<KeyForJose> | undefined;
  return () => (key ??= load());
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
      throw new TypeError(
        `signToken: options.key for ${alg} is a placeholder or an unexpanded template (like change-me or ` +
          '${SIGNING_SECRET}), not a secret',
      );
    }
    if (bytes.length < minBytes) throw new TypeError(tooShort);
    return bytes;
  }
  if (isKeyObject(input)) {
    const key = input as KeyObjectDetails;
    if (key.type !== 'secret') throw new TypeError(notASecret);
    if ((key.symmetricKeySize ?? 0) < minBytes) throw new TypeError(tooShort);
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
    `signToken: options.key for ${alg} must be a string, Uint8Array, CryptoKey, JWK or KeyObject secret`,
  );
}

function checkKeyObject(input: KeyObject, alg: SigningAlgorithm, spec: AlgorithmSpec): KeyObject {
  const key = input as KeyObjectDetails;
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
  return input;
}

const NODE_CURVES: Record<string, string> = { 'P-256': 'prime256v1', 'P-384': 'secp384r1', 'P-521': 'secp521r1' };

// Only a PKCS#8 block is read: the label alone says what else a PEM is, so no byte of it need be parsed here.
const PKCS8_BLOCK = /-----BEGIN PRIVATE KEY-----[\s\S]*?-----END PRIVATE KEY-----/;

/**
 * A PEM private key: its label checked now, the key itself imported by WebCrypto on first use. When the import fails
 * the platform's reason is named (`DataError`), never the bytes it was about.
 */
function pemImport(text: string, alg: SigningAlgorithm, spec: AlgorithmSpec): () => Promise<CryptoKey> {
  if (hasUnexpandedTemplate(text)) {
    throw new TypeError(
      `signToken: options.key for ${alg} is an unexpanded template (like \${SIGNING_KEY}), not a key`,
    );
  }
  // A PEM pasted into a one-line variable (`.env`, a dashboard) often keeps its line breaks as the two characters \n.
  const pem = /[\r\n]/.test(text.trim()) ? text : text.replace(/\\n/g, '\n');
  const label = /-----BEGIN ([A-Z0-9 ]+)-----/.exec(pem)?.[1];
  if (label === undefined) {
    throw new TypeError(`signToken: options.key for ${alg} must be a PEM private key when it is a string`);
  }
  if (/PUBLIC KEY$/.test(label) || label === 'CERTIFICATE') requirePrivate('public', alg);
  if (label === 'ENCRYPTED PRIVATE KEY' || /Proc-Type: 4,ENCRYPTED/.test(pem)) {
    throw new TypeError(`signToken: options.key for ${alg} is an encrypted PEM; decrypt it or pass a CryptoKey`);
  }
  if (label === 'RSA PRIVATE KEY' || label === 'EC PRIVATE KEY') {
    const rsa = label === 'RSA PRIVATE KEY';
    const fits = rsa ? spec.kind === 'rsa' || spec.kind === 'rsa-pss' : spec.kind === 'ec';
    if (!fits) throw new TypeError(`signToken: options.key is not ${expectedKey(alg, spec)}`);
    throw new TypeError(
      `signToken: options.key for ${alg} is a ${rsa ? 'PKCS#1' : 'SEC1'} PEM ("BEGIN ${label}"), which WebCrypto ` +
        'does not read: convert it to PKCS#8 ("BEGIN PRIVATE KEY") with `openssl pkcs8 -topk8 -nocrypt -in key.pem`',
    );
  }
  const block = PKCS8_BLOCK.exec(pem)?.[0];
  if (label !== 'PRIVATE KEY' || block === undefined) {
    throw new TypeError(`signToken: options.key for ${alg} must be a PKCS#8 PEM private key ("BEGIN PRIVATE KEY")`);
  }
  return async () => {
    let key: CryptoKey;
    try {
      key = (await importPKCS8(block, alg, { extractable: false })) as CryptoKey;
    } catch (error) {
      const reason = platformReason(error);
      throw new TypeError(`signToken: options.key is not ${expectedKey(alg, spec)} (the import failed: ${reason})`);
    }
    return checkCryptoKey(key, alg, spec);
  };
}

/** A private JWK: its members, curve and RSA modulus checked now, the key imported by WebCrypto on first use. */
function jwkImport(input: JWK, alg: SigningAlgorithm, spec: AlgorithmSpec): () => Promise<CryptoKey> {
  if (input.kty === 'oct') {
    throw new TypeError(`signToken: options.key for ${alg} must be a private key, not an HMAC secret`);
  }
  requirePrivate(typeof input.d === 'string' ? 'private' : 'public', alg);
  checkJwkUse(input, alg);
  const fits =
    spec.kind === 'rsa' || spec.kind === 'rsa-pss'
      ? input.kty === 'RSA'
      : spec.kind === 'ec'
        ? input.kty === 'EC' && input.crv === spec.curve
        : input.kty === 'OKP' && input.crv === 'Ed25519';
  if (!fits) throw new TypeError(`signToken: options.key is not ${expectedKey(alg, spec)}`);
  const members = input.kty === 'RSA' ? RSA_PRIVATE_MEMBERS : input.kty === 'EC' ? ['x', 'y', 'd'] : ['x', 'd'];
  const notWhole = `signToken: options.key for ${alg} is a JWK that is not a whole private key`;
  if (!members.every((name) => typeof (input as Record<string, unknown>)[name] === 'string')) {
    throw new TypeError(notWhole);
  }
  if (input.kty === 'RSA') checkModulus(modulusBits(input.n!, notWhole), alg);
  // A copy: what the host does to its object afterwards changes nothing here.
  const jwk: JWK = { ...input };
  return async () => {
    let key: CryptoKey;
    try {
      key = (await importJWK(jwk, alg, { extractable: false })) as CryptoKey;
    } catch (error) {
      throw new TypeError(`${notWhole} (the import failed: ${platformReason(error)})`);
    }
    return checkCryptoKey(key, alg, spec);
  };
}

// RFC 7518 §6.3.2: WebCrypto imports an RSA private key with all of its CRT members, or not at all.
const RSA_PRIVATE_MEMBERS = ['n', 'e', 'd', 'p', 'q', 'dp', 'dq', 'qi'];

/** The size of an RSA modulus in bits, from a JWK's `n` (base64url, big-endian). */
function modulusBits(n: string, notWhole: string): number {
  let bytes: Uint8Array;
  try {
    bytes = base64url.decode(n);
  } catch {
    throw new TypeError(notWhole);
  }
  const first = bytes.findIndex((byte) => byte !== 0);
  if (first === -1) return 0;
  return (bytes.length - first - 1) * 8 + (32 - Math.clz32(bytes[first]!));
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
