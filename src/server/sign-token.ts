import { SignJWT } from 'jose';
import type { TokenIssueError } from './errors.js';
import { refuseUnknownOptions } from './internal/known-options.js';
import { ownIssueError } from './internal/own-errors.js';
import { platformReason } from './internal/platform-reason.js';
import { ALGORITHMS, signingKey, type KeyForJose, type SigningAlgorithm, type SigningKey } from './signing-key.js';
import type { IssuedToken, TokenIssuer } from './user-tokens.js';

export type { SigningAlgorithm, SigningKey };

export interface SignTokenOptions<User> {
  /** Secret. Never in a token, a response, an error message or a log line. */
  key: SigningKey;
  /** Pinned: the key must be of the kind this algorithm uses, checked at construction. */
  alg: SigningAlgorithm;
  /**
   * The JWS `kid` header: which key the vendor should verify with. Give each key its own id and a vendor that knows
   * several (a JWKS) can accept the old and the new key while you rotate.
   */
  kid?: string;
  /** The `iss` claim: who you are to the vendor. */
  issuer: string;
  /** The `aud` claim: the vendor, so that the token is no good anywhere else. */
  audience: string | string[];
  /** Lifetime in seconds, like `exp` itself. Default 900 (15 minutes), at most 3600. */
  ttl?: number;
  /** The `sub` claim for this user; the only way to set it. */
  subject?: (user: User) => string | Promise<string>;
  /**
   * The vendor's own claims for this user (Metabase: `{resource: {dashboard: 7}, params: {}}`), from the user
   * `authorize` returned. May be async. The registered claims (`iss`, `sub`, `aud`, `exp`, `nbf`, `iat`, `jti`) come
   * from the options only: a claim set naming one of them is a bug in the host, and rejects with a
   * `TokenIssueError` coded `issuer-misconfigured` (as does `claims` returning a non-object, or `subject` a
   * non-string): the handler answers `502 issuer-failed` and logs the code and the problem.
   */
  claims?: (user: User) => Record<string, unknown> | Promise<Record<string, unknown>>;
  /** Milliseconds since the epoch. Default `Date.now`. */
  now?: () => number;
}

const SIGN_TOKEN_OPTIONS: Record<keyof SignTokenOptions<unknown>, true> = {
  key: true,
  alg: true,
  kid: true,
  issuer: true,
  audience: true,
  ttl: true,
  subject: true,
  claims: true,
  now: true,
};

const DEFAULT_TTL_SECONDS = 15 * 60;
const MAX_TTL_SECONDS = 60 * 60;
const REGISTERED_CLAIMS = ['iss', 'sub', 'aud', 'exp', 'nbf', 'iat', 'jti'] as const;

/**
 * Mints the embed token on the host, for vendors that accept tokens signed by the host (Metabase and Superset style):
 * a JWT with `typ: JWT`, `kid` when given, and `iss`, `aud`, `iat`, `exp`, a random `jti`, `sub` and the vendor's
 * claims for the user. Resolves `{token, expiresAt}`.
 *
 * The key is checked with a `TypeError` that names the problem and never the key: the algorithm is one of
 * {@link SigningAlgorithm}, HMAC secrets are at least as long as the hash (32, 48, 64 bytes), RSA keys have at least
 * 2048 bits, and the key is a private key (or secret) of the algorithm's type, so a public key can never be used as an
 * HMAC secret. All of it at construction, except what only WebCrypto's (asynchronous) import of a PKCS#8 PEM can
 * tell, its key type, curve and size: that is checked when the first token is signed, and a key that fails it rejects
 * every call with a `TokenIssueError` coded `issuer-key` whose message is the same. Import a PEM yourself
 * (`key: await importPKCS8(pem, 'RS256')` from jose) to have it checked at start-up instead.
 *
 * @example Metabase-style static embedding (a shared HS256 secret; `kid` for vendors that hold several keys).
 * ```ts
 * signToken({
 *   key: process.env.METABASE_SECRET_KEY!, alg: 'HS256', kid: '2025-06',
 *   issuer: 'https://app.example', audience: 'metabase',
 *   claims: (user: { orgId: string }) => ({ resource: { dashboard: 7 }, params: { org: user.orgId } }),
 * });
 * ```
 */
export function signToken<User = unknown>(options: SignTokenOptions<User>): TokenIssuer<User, IssuedToken> {
  if (typeof options !== 'object' || options === null) throw new TypeError('signToken: options must be an object');
  refuseUnknownOptions<SignTokenOptions<User>>('signToken', options, SIGN_TOKEN_OPTIONS);
  const { alg } = options;
  if (typeof alg !== 'string' || !Object.hasOwn(ALGORITHMS, alg)) {
    // `none` lands here too: an unsigned token is a token anyone can mint.
    throw new TypeError(`signToken: options.alg must be one of ${Object.keys(ALGORITHMS).join(', ')}`);
  }
  const loadKey = signingKey(options.key, alg);
  const kid = options.kid;
  if (kid !== undefined && (typeof kid !== 'string' || kid.trim() === '')) {
    throw new TypeError('signToken: options.kid must be a non-empty string');
  }
  const issuer = nonEmptyString(options.issuer, 'issuer');
  const audience = audienceOf(options.audience);
  const ttl = options.ttl ?? DEFAULT_TTL_SECONDS;
  if (typeof ttl !== 'number' || !Number.isInteger(ttl) || ttl <= 0 || ttl > MAX_TTL_SECONDS) {
    throw new TypeError(`signToken: options.ttl must be a whole number of seconds from 1 to ${MAX_TTL_SECONDS}`);
  }
  const { subject, claims, now = Date.now } = options;
  if (subject !== undefined && typeof subject !== 'function') {
    throw new TypeError('signToken: options.subject must be a function of the user');
  }
  if (claims !== undefined && typeof claims !== 'function') {
    throw new TypeError('signToken: options.claims must be a function of the user');
  }
  if (typeof now !== 'function') throw new TypeError('signToken: options.now must be a function');
  const header = kid === undefined ? { alg, typ: 'JWT' } : { alg, typ: 'JWT', kid };

  return async (user, context) => {
    const payload = claims ? await claims(user) : {};
    if (typeof payload !== 'object' || payload === null || Array.isArray(payload)) {
      throw misconfigured('options.claims must return an object');
    }
    const registered = REGISTERED_CLAIMS.find((name) => Object.hasOwn(payload, name));
    if (registered) {
      throw misconfigured(`options.claims must not set "${registered}"; it comes from signToken's options`);
    }
    const sub = subject ? await subject(user) : undefined;
    if (subject && (typeof sub !== 'string' || sub === '')) {
      throw misconfigured('options.subject must return a non-empty string');
    }
    context?.signal?.throwIfAborted();
    let key: KeyForJose;
    try {
      key = await loadKey();
    } catch (error) {
      // A TypeError signing-key.ts wrote: it names the problem and never the key, so the log line may carry it.
      const message = error instanceof TypeError ? error.message : `signToken: options.key for ${alg} did not import`;
      throw ownIssueError('issuer-key', message);
    }

    const iat = Math.floor(now() / 1000);
    const exp = iat + ttl;
    const jwt = new SignJWT(payload)
      .setProtectedHeader(header)
      .setIssuer(issuer)
      .setAudience(audience)
      .setIssuedAt(iat)
      .setExpirationTime(exp)
      .setJti(crypto.randomUUID());
    if (sub !== undefined) jwt.setSubject(sub);
    let token: string;
    try {
      token = await jwt.sign(key);
    } catch (error) {
      // No cause: what the platform says about a key stays out of crash logs; its short reason goes in the message.
      throw ownIssueError('issuer-signing', `signToken: signing with the ${alg} key failed (${platformReason(error)})`);
    }
    return { token, expiresAt: exp };
  };
}

/**
 * The host's own functions broke the contract, which only a call can show. Not a `TypeError`: the handler logs the
 * code and this message of a `TokenIssueError` it wrote, and answers `502 issuer-failed`.
 */
function misconfigured(problem: string): TokenIssueError {
  return ownIssueError('issuer-misconfigured', `signToken: ${problem}`);
}

function nonEmptyString(value: unknown, name: string): string {
  if (typeof value !== 'string' || value.trim() === '') {
    throw new TypeError(`signToken: options.${name} must be a non-empty string`);
  }
  return value;
}

function audienceOf(value: unknown): string | string[] {
  if (Array.isArray(value)) {
    if (value.length === 0 || !value.every((entry) => typeof entry === 'string' && entry.trim() !== '')) {
      throw new TypeError('signToken: options.audience must be a non-empty string or array of non-empty strings');
    }
    return [...value];
  }
  return nonEmptyString(value, 'audience');
}
