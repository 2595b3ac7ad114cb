/**
 * The reference vendor's token verification against RFC 8725 (JWT Best Current Practices), and its access-key check
 * against hostile input. Every crafted token is signed by the vendor's own key (handed in with `signingKeyPair`) unless
 * the row is about the key, so that each row is refused for the one thing it changes and nothing else; the second row
 * proves that the crafting itself yields tokens the vendor accepts.
 */
import assert from 'node:assert/strict';
import { createHmac, createPublicKey } from 'node:crypto';
import type { JsonWebKey } from 'node:crypto';
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import {
  SignJWT,
  UnsecuredJWT,
  calculateJwkThumbprint,
  createRemoteJWKSet,
  decodeProtectedHeader,
  exportJWK,
  generateKeyPair,
} from 'jose';
import type { JWK, JSONWebKeySet, JWTHeaderParameters, SignOptions } from 'jose';
import { createReferenceVendor } from '../../demo/vendor/index.js';
import type { ReferenceVendor } from '../../demo/vendor/index.js';
import {
  CLOCK_TOLERANCE_SECONDS,
  EmbedTokenRejectedError,
  MAX_EMBED_TOKEN_LENGTH,
  MAX_ISSUED_AHEAD_SECONDS,
  verifyEmbedToken,
} from '../../demo/vendor/verify-token.js';

const ORIGIN = 'http://127.0.0.1:1234';
const ACCESS_ID = 'demo-access-id';
const ACCESS_KEY = 'demo-access-key-0123456789abcdef';
// The vendor's clock, frozen: every time claim below is relative to it, nothing sleeps.
const NOW = Date.UTC(2030, 0, 1, 12, 0, 0);
const NOW_S = NOW / 1000;

const INVALID = { code: 'token_invalid', message: 'The token is not valid' } as const;
const EXPIRED = { code: 'token_expired', message: 'The token has expired' } as const;

let vendor: ReferenceVendor;
let vendorKeys: CryptoKeyPair;
let vendorJwk: JWK;
let vendorKid: string;
let attackerKeys: CryptoKeyPair;
let attackerJwk: JWK;
let attackerKid: string;
// A server the attacker controls: jku and x5u point at it, and it must never be asked anything.
let attackerServer: Server;
let attackerUrl: string;
let attackerHits = 0;
// The vendor on a real port, for the widget's path: a remote JWKS fetched over HTTP, as in the browser.
let vendorServer: Server;
let vendorUrl: string;

async function listen(server: Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

before(async () => {
  vendorKeys = await generateKeyPair('ES256');
  vendor = await createReferenceVendor({
    accessId: ACCESS_ID,
    accessKey: ACCESS_KEY,
    now: () => NOW,
    signingKeyPair: vendorKeys,
  });
  [vendorJwk] = (await publishedJwks(vendor)).keys as [JWK];
  vendorKid = vendorJwk.kid!;

  attackerKeys = await generateKeyPair('ES256', { extractable: true });
  const publicJwk = await exportJWK(attackerKeys.publicKey);
  attackerKid = await calculateJwkThumbprint(publicJwk);
  attackerJwk = { ...publicJwk, kid: attackerKid, alg: 'ES256', use: 'sig' };

  attackerServer = createServer((_request, response) => {
    attackerHits++;
    response.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify({ keys: [attackerJwk] }));
  });
  attackerUrl = await listen(attackerServer);

  vendorServer = createServer((request, response) => {
    void vendor.handle(new Request(`${vendorUrl}${request.url}`, { method: request.method })).then(async (answer) => {
      if (!answer) return void response.writeHead(404).end();
      response
        .writeHead(answer.status, Object.fromEntries(answer.headers))
        .end(Buffer.from(await answer.arrayBuffer()));
    });
  });
  vendorUrl = await listen(vendorServer);
});

after(() => {
  attackerServer.close();
  vendorServer.close();
});

async function publishedJwks(from: ReferenceVendor): Promise<JSONWebKeySet> {
  const response = await from.handle(new Request(`${ORIGIN}/vendor/.well-known/jwks.json`));
  return (await response!.json()) as JSONWebKeySet;
}

function widgetData(authorization: string | undefined, from: ReferenceVendor = vendor): Promise<Response> {
  const headers: HeadersInit = authorization === undefined ? {} : { Authorization: authorization };
  return from.handle(new Request(`${ORIGIN}/vendor/api/widget-data`, { headers })) as Promise<Response>;
}

async function assertAccepted(response: Response): Promise<void> {
  assert.equal(response.status, 200, JSON.stringify(await response.clone().json()));
}

async function assertRejected(response: Response, expected: { code: string; message?: string }): Promise<void> {
  assert.equal(response.status, 401);
  assert.equal(response.headers.get('WWW-Authenticate'), 'Bearer error="invalid_token"');
  const { error } = (await response.json()) as { error: { code: string; message: string } };
  assert.equal(error.code, expected.code);
  if (expected.message !== undefined) assert.equal(error.message, expected.message);
}

const segment = (value: unknown): string =>
  Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');

/** `base` with `changes` applied; a change to undefined removes the member. */
function changed(base: Record<string, unknown>, changes: Record<string, unknown>): Record<string, unknown> {
  const result = { ...base, ...changes };
  for (const [name, value] of Object.entries(changes)) if (value === undefined) delete result[name];
  return result;
}

/** The claims the vendor's issuer sets, valid at NOW. */
function claims(changes: Record<string, unknown> = {}): Record<string, unknown> {
  return changed(
    {
      iss: 'reference-vendor',
      aud: 'secure-widget-demo',
      sub: ACCESS_ID,
      iat: NOW_S,
      exp: NOW_S + 900,
      jti: 'crafted',
    },
    changes,
  );
}

function header(changes: Record<string, unknown> = {}): Record<string, unknown> {
  return changed({ alg: 'ES256', kid: vendorKid, typ: 'JWT' }, changes);
}

/** A token as the vendor's issuer would sign it, with the given changes; signed by the vendor's key by default. */
function signed(
  claimChanges: Record<string, unknown> = {},
  headerChanges: Record<string, unknown> = {},
  key: CryptoKey = vendorKeys.privateKey,
  options?: SignOptions,
): Promise<string> {
  return new SignJWT(claims(claimChanges))
    .setProtectedHeader(header(headerChanges) as unknown as JWTHeaderParameters)
    .sign(key, options);
}

/** A compact JWS signed by hand with ES256, for what SignJWT refuses to produce (b64: false, a non-object payload). */
async function signedByHand(
  protectedHeader: Record<string, unknown>,
  payloadSegment: string,
  key = vendorKeys.privateKey,
): Promise<string> {
  const input = `${segment(protectedHeader)}.${payloadSegment}`;
  const signature = await crypto.subtle.sign({ name: 'ECDSA', hash: 'SHA-256' }, key, new TextEncoder().encode(input));
  return `${input}.${Buffer.from(signature).toString('base64url')}`;
}

/** The algorithm-confusion forgery: HS256 keyed with what the verifier publishes (RFC 8725 §2.1). */
function hmacSigned(secret: string, headerChanges: Record<string, unknown> = {}): string {
  const input = `${segment(header({ alg: 'HS256', ...headerChanges }))}.${segment(claims())}`;
  return `${input}.${createHmac('sha256', secret).update(input).digest('base64url')}`;
}

function vendorPublicKeyPem(): string {
  return createPublicKey({ key: vendorJwk as JsonWebKey, format: 'jwk' })
    .export({ type: 'spki', format: 'pem' })
    .toString();
}

interface Row {
  name: string;
  token: () => Promise<string> | string;
  /** 'accepted', or the rejection the data API answers (and the widget's verification throws). */
  expected: 'accepted' | typeof INVALID | typeof EXPIRED;
  /** The token points at the attacker's server: nothing may be fetched from it. */
  pointsAtAttacker?: boolean;
  /** Not an RFC 6750 b64token, so the data API refuses the header before verifying (with its own message). */
  notBearerSyntax?: boolean;
}

const rows: Row[] = [
  { name: 'a token the vendor issued', token: () => vendor.issueToken(), expected: 'accepted' },
  { name: 'a crafted token with every claim as the vendor sets it', token: () => signed(), expected: 'accepted' },

  // §2.1, §3.1: the algorithm is the verifier's choice, never the token's.
  { name: 'alg: none (UnsecuredJWT)', token: () => new UnsecuredJWT(claims()).encode(), expected: INVALID },
  {
    name: 'alg: none with the vendor kid and typ',
    token: () => `${segment(header({ alg: 'none' }))}.${segment(claims())}.`,
    expected: INVALID,
  },
  { name: 'alg: None', token: () => `${segment(header({ alg: 'None' }))}.${segment(claims())}.`, expected: INVALID },
  { name: 'alg: NONE', token: () => `${segment(header({ alg: 'NONE' }))}.${segment(claims())}.`, expected: INVALID },
  {
    name: 'HS256 keyed with the vendor public key as PEM',
    token: () => hmacSigned(vendorPublicKeyPem()),
    expected: INVALID,
  },
  {
    name: 'HS256 keyed with the vendor public key as PEM, trimmed',
    token: () => hmacSigned(vendorPublicKeyPem().trim()),
    expected: INVALID,
  },
  {
    name: 'HS256 keyed with the vendor public key as JWK JSON',
    token: () => hmacSigned(JSON.stringify(vendorJwk)),
    expected: INVALID,
  },
  {
    name: 'ES384 from an attacker P-384 key',
    token: async () => signed({}, { alg: 'ES384' }, (await generateKeyPair('ES384')).privateKey),
    expected: INVALID,
  },

  // §3.10: the token never chooses, carries or locates the key that verifies it.
  {
    name: 'ES256 from an attacker key with the vendor kid',
    token: () => signed({}, {}, attackerKeys.privateKey),
    expected: INVALID,
  },
  {
    name: "the attacker's key embedded in a jwk header",
    token: () => signed({}, { kid: attackerKid, jwk: attackerJwk }, attackerKeys.privateKey),
    expected: INVALID,
  },
  {
    name: "the attacker's key embedded in a jwk header, with the vendor kid",
    token: () => signed({}, { jwk: attackerJwk }, attackerKeys.privateKey),
    expected: INVALID,
  },
  {
    name: "jku pointing at the attacker's JWKS",
    token: () => signed({}, { kid: attackerKid, jku: `${attackerUrl}/jwks.json` }, attackerKeys.privateKey),
    expected: INVALID,
    pointsAtAttacker: true,
  },
  {
    name: "jku pointing at the attacker's JWKS, with the vendor kid",
    token: () => signed({}, { jku: `${attackerUrl}/jwks.json` }, attackerKeys.privateKey),
    expected: INVALID,
    pointsAtAttacker: true,
  },
  {
    name: "x5u pointing at the attacker's server",
    token: () => signed({}, { kid: attackerKid, x5u: `${attackerUrl}/cert.pem` }, attackerKeys.privateKey),
    expected: INVALID,
    pointsAtAttacker: true,
  },
  { name: 'an unknown kid', token: () => signed({}, { kid: 'some-other-key' }), expected: INVALID },
  { name: 'no kid', token: () => signed({}, { kid: undefined }), expected: INVALID },

  // §3.11: explicit typing.
  { name: 'typ at+jwt', token: () => signed({}, { typ: 'at+jwt' }), expected: INVALID },
  { name: 'no typ', token: () => signed({}, { typ: undefined }), expected: INVALID },
  {
    name: 'typ application/jwt (the same media type, RFC 7515 §4.1.9)',
    token: () => signed({}, { typ: 'application/jwt' }),
    expected: 'accepted',
  },

  // RFC 7515 §4.1.11: a critical extension the verifier does not understand.
  {
    name: 'an unknown crit header',
    token: () =>
      signed({}, { crit: ['x-vendor-ext'], 'x-vendor-ext': true }, vendorKeys.privateKey, {
        crit: { 'x-vendor-ext': true },
      }),
    expected: INVALID,
  },
  {
    name: 'an unencoded payload (b64: false, RFC 7797)',
    token: () => signedByHand(header({ b64: false, crit: ['b64'] }), JSON.stringify(claims())),
    expected: INVALID,
    notBearerSyntax: true,
  },

  // Required claims.
  { name: 'no exp', token: () => signed({ exp: undefined }), expected: INVALID },
  { name: 'no iat', token: () => signed({ iat: undefined }), expected: INVALID },
  { name: 'no sub', token: () => signed({ sub: undefined }), expected: INVALID },
  { name: 'an empty sub', token: () => signed({ sub: '' }), expected: INVALID },
  { name: 'a numeric sub', token: () => signed({ sub: 42 }), expected: INVALID },
  { name: 'exp as a string', token: () => signed({ exp: String(NOW_S + 900) }), expected: INVALID },

  // Time, with a small fixed tolerance.
  {
    name: 'expired beyond the clock tolerance',
    token: () => signed({ exp: NOW_S - CLOCK_TOLERANCE_SECONDS }),
    expected: EXPIRED,
  },
  { name: 'expired an hour ago', token: () => signed({ iat: NOW_S - 4500, exp: NOW_S - 3600 }), expected: EXPIRED },
  {
    name: 'expired within the clock tolerance',
    token: () => signed({ exp: NOW_S - CLOCK_TOLERANCE_SECONDS + 1 }),
    expected: 'accepted',
  },
  {
    name: 'nbf beyond the clock tolerance',
    token: () => signed({ nbf: NOW_S + CLOCK_TOLERANCE_SECONDS + 1 }),
    expected: INVALID,
  },
  {
    name: 'nbf within the clock tolerance',
    token: () => signed({ nbf: NOW_S + CLOCK_TOLERANCE_SECONDS }),
    expected: 'accepted',
  },
  {
    name: 'iat far in the future',
    token: () => signed({ iat: NOW_S + MAX_ISSUED_AHEAD_SECONDS + 1, exp: NOW_S + MAX_ISSUED_AHEAD_SECONDS + 900 }),
    expected: INVALID,
  },
  {
    name: 'iat a year in the future',
    token: () => signed({ iat: NOW_S + 31_536_000, exp: NOW_S + 31_537_000 }),
    expected: INVALID,
  },
  {
    name: 'iat a minute ahead (an issuer clock running fast)',
    token: () => signed({ iat: NOW_S + 60 }),
    expected: 'accepted',
  },

  // §3.8, §3.9: whose token it is and for whom.
  { name: 'a wrong aud', token: () => signed({ aud: 'another-audience' }), expected: INVALID },
  { name: 'no aud', token: () => signed({ aud: undefined }), expected: INVALID },
  {
    name: 'aud as a list holding ours',
    token: () => signed({ aud: ['other', 'secure-widget-demo'] }),
    expected: 'accepted',
  },
  { name: 'a wrong iss', token: () => signed({ iss: 'https://attacker.example' }), expected: INVALID },
  { name: 'no iss', token: () => signed({ iss: undefined }), expected: INVALID },

  // Integrity and shape.
  {
    name: 'a tampered payload',
    token: async () => {
      const [head, , signature] = (await vendor.issueToken()).split('.');
      return `${head}.${segment(claims({ sub: 'admin' }))}.${signature}`;
    },
    expected: INVALID,
  },
  {
    name: 'a tampered header',
    token: async () => {
      const [, payload, signature] = (await vendor.issueToken()).split('.');
      return `${segment(header({ cty: 'JWT' }))}.${payload}.${signature}`;
    },
    expected: INVALID,
  },
  {
    name: 'a signed payload that is not an object',
    token: () => signedByHand(header(), segment([])),
    expected: INVALID,
  },
  {
    name: 'a signed payload that is not JSON',
    token: () => signedByHand(header(), segment('not json')),
    expected: INVALID,
  },
  {
    name: `a token over ${MAX_EMBED_TOKEN_LENGTH} characters, validly signed`,
    token: async () => {
      const token = await vendor.issueToken({ subject: 'u'.repeat(MAX_EMBED_TOKEN_LENGTH) });
      assert.ok(token.length > MAX_EMBED_TOKEN_LENGTH);
      return token;
    },
    expected: INVALID,
  },
  {
    name: 'a large token within the size cap',
    token: async () => {
      const token = await vendor.issueToken({ subject: 'u'.repeat(5000) });
      assert.ok(token.length > 6000 && token.length <= MAX_EMBED_TOKEN_LENGTH);
      return token;
    },
    expected: 'accepted',
  },
  { name: 'garbage', token: () => 'not-a-jwt', expected: INVALID },
  { name: 'two segments', token: () => `${segment(header())}.${segment(claims())}`, expected: INVALID },
  { name: 'four segments', token: () => `${segment(header())}.${segment(claims())}.AAAA.AAAA`, expected: INVALID },
  { name: 'empty segments', token: () => '..', expected: INVALID },
  { name: 'a header that is not JSON', token: () => `${segment('{alg')}.${segment(claims())}.AAAA`, expected: INVALID },
  {
    name: 'a signature that is not base64url',
    token: async () => `${(await signed()).slice(0, -4)}+/+/`,
    expected: INVALID,
  },
];

describe('the data API verifies embed tokens as RFC 8725 asks', () => {
  for (const row of rows) {
    it(`${row.expected === 'accepted' ? 'accepts' : `answers 401 ${row.expected.code} to`} ${row.name}`, async () => {
      const token = await row.token();
      const response = await widgetData(`Bearer ${token}`);
      if (row.expected === 'accepted') await assertAccepted(response);
      else await assertRejected(response, row.notBearerSyntax ? { code: row.expected.code } : row.expected);
      if (row.pointsAtAttacker) assert.equal(attackerHits, 0, 'nothing is fetched from a URL in the token');
    });
  }

  it('answers 401 token_invalid to an empty or missing Bearer token, without a 500', async () => {
    for (const authorization of [undefined, '', 'Bearer', 'Bearer ', 'Bearer  ', 'bearer', 'Token abc', 'Bearer a b']) {
      await assertRejected(await widgetData(authorization), { code: 'token_invalid' });
    }
  });

  it("never fetched anything from the attacker's server (which does answer)", async () => {
    assert.equal(attackerHits, 0);
    await (await fetch(`${attackerUrl}/jwks.json`)).arrayBuffer();
    assert.equal(attackerHits, 1, 'the counting server counts');
    attackerHits = 0;
  });
});

describe("the widget's verification reaches the same verdicts over a remote JWKS", () => {
  let keys: ReturnType<typeof createRemoteJWKSet>;
  before(() => {
    keys = createRemoteJWKSet(new URL(`${vendorUrl}/vendor/.well-known/jwks.json`));
  });

  for (const row of rows) {
    it(`${row.expected === 'accepted' ? 'accepts' : `rejects with ${row.expected.code}`} ${row.name}`, async () => {
      const token = await row.token();
      const verdict = verifyEmbedToken(token, keys, { now: NOW });
      if (row.expected === 'accepted') {
        const verified = await verdict;
        assert.equal(typeof verified.subject, 'string');
      } else {
        const { code, message } = row.expected;
        await assert.rejects(verdict, (error: unknown) => {
          assert.ok(error instanceof EmbedTokenRejectedError, String(error));
          assert.deepEqual({ code: error.code, message: error.message }, { code, message });
          return true;
        });
      }
      if (row.pointsAtAttacker) assert.equal(attackerHits, 0, 'nothing is fetched from a URL in the token');
    });
  }

  it('lets a key set that cannot be fetched through as it is: not a verdict on the token', async () => {
    const unreachable = createRemoteJWKSet(new URL(`${attackerUrl.replace(/:\d+$/, ':1')}/jwks.json`));
    await assert.rejects(verifyEmbedToken(await signed(), unreachable, { now: NOW }), (error: unknown) => {
      assert.ok(!(error instanceof EmbedTokenRejectedError));
      return true;
    });
  });

  it('checks its options with a TypeError', async () => {
    await assert.rejects(verifyEmbedToken(await signed(), keys, { now: Number.NaN }), TypeError);
    await assert.rejects(verifyEmbedToken(await signed(), {} as never, { now: NOW }), TypeError);
  });

  it("never fetched anything from the attacker's server", () => {
    assert.equal(attackerHits, 0);
  });
});

describe('key rotation keeps issued tokens valid until they expire', () => {
  it('publishes the new key beside the old one and signs with the new one', async () => {
    const rotating = await createReferenceVendor({ accessId: ACCESS_ID, accessKey: ACCESS_KEY, now: () => NOW });
    const [original] = (await publishedJwks(rotating)).keys;
    const before = await rotating.issueToken();

    await rotating.rotateSigningKey();
    const jwks = await publishedJwks(rotating);
    assert.equal(jwks.keys.length, 2);
    const [current, previous] = jwks.keys;
    assert.deepEqual(previous, original);
    assert.notEqual(current?.kid, original?.kid);
    assert.equal(current?.alg, 'ES256');
    assert.equal(current && 'd' in current, false, 'the private scalar must not be published');

    const afterRotation = await rotating.issueToken();
    assert.equal(decodeProtectedHeader(afterRotation).kid, current?.kid);
    await assertAccepted(await widgetData(`Bearer ${before}`, rotating));
    await assertAccepted(await widgetData(`Bearer ${afterRotation}`, rotating));

    // The access-key exchange signs with the new key too.
    const exchanged = await rotating.handle(
      new Request(`${ORIGIN}/vendor/api/widget-access-keys/token`, {
        method: 'POST',
        body: JSON.stringify({ accessId: ACCESS_ID, accessKey: ACCESS_KEY }),
      }),
    );
    const { data } = (await exchanged!.json()) as { data: { embedToken: string } };
    assert.equal(decodeProtectedHeader(data.embedToken).kid, current?.kid);
  });

  it('retires the oldest key, and its tokens, at the next rotation', async () => {
    const rotating = await createReferenceVendor({ accessId: ACCESS_ID, accessKey: ACCESS_KEY, now: () => NOW });
    const first = await rotating.issueToken();
    await rotating.rotateSigningKey();
    const second = await rotating.issueToken();
    await rotating.rotateSigningKey();
    const third = await rotating.issueToken();

    const kids = (await publishedJwks(rotating)).keys.map((key) => key.kid);
    assert.deepEqual(kids, [decodeProtectedHeader(third).kid, decodeProtectedHeader(second).kid]);
    await assertRejected(await widgetData(`Bearer ${first}`, rotating), INVALID);
    await assertAccepted(await widgetData(`Bearer ${second}`, rotating));
    await assertAccepted(await widgetData(`Bearer ${third}`, rotating));
  });

  it("still expires the old key's tokens on time", async () => {
    let now = NOW;
    const rotating = await createReferenceVendor({ accessId: ACCESS_ID, accessKey: ACCESS_KEY, now: () => now });
    const old = await rotating.issueToken({ ttlSeconds: 60 });
    await rotating.rotateSigningKey();
    now += (60 + CLOCK_TOLERANCE_SECONDS) * 1000;
    await assertRejected(await widgetData(`Bearer ${old}`, rotating), EXPIRED);
  });
});

describe('the access-key check answers 400 or 401, never 500', () => {
  const GENERIC_401 = { error: { code: 'invalid_credentials', message: 'Invalid access credentials' } };
  const MAX_BODY_BYTES = 4096;

  function exchange(body: string, from: ReferenceVendor = vendor): Promise<Response> {
    return from.handle(
      new Request(`${ORIGIN}/vendor/api/widget-access-keys/token`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body,
      }),
    ) as Promise<Response>;
  }

  async function assertInvalidCredentials(response: Response, submittedKey: string): Promise<void> {
    assert.equal(response.status, 401);
    const text = await response.text();
    assert.deepEqual(JSON.parse(text), GENERIC_401);
    if (submittedKey.length > 0) assert.ok(!text.includes(submittedKey), 'the key is never echoed');
  }

  const wrongKeys: [string, string][] = [
    ['an empty key', ''],
    ['a one-character key', 'x'],
    ['the key minus its last character', ACCESS_KEY.slice(0, -1)],
    ['the key plus one character', `${ACCESS_KEY}f`],
    ['the key twice', ACCESS_KEY.repeat(2)],
    ['the key with different case', ACCESS_KEY.toUpperCase()],
    ['the key with a trailing NUL', `${ACCESS_KEY}\u0000`],
    ['a key of accented letters', 'démo-accès-clé-0123456789abcdéf'],
    ['a key of emoji', '🔑'.repeat(16)],
    ['a key with a lone surrogate', `${ACCESS_KEY.slice(0, -1)}\ud800`],
  ];
  for (const [name, accessKey] of wrongKeys) {
    it(`answers 401 to ${name}`, async () => {
      await assertInvalidCredentials(await exchange(JSON.stringify({ accessId: ACCESS_ID, accessKey })), accessKey);
    });
  }

  it('answers 401 to a huge key that still fits the body cap', async () => {
    const prefix = JSON.stringify({ accessId: ACCESS_ID, accessKey: '' });
    const accessKey = 'k'.repeat(MAX_BODY_BYTES - prefix.length);
    const body = JSON.stringify({ accessId: ACCESS_ID, accessKey });
    assert.equal(Buffer.byteLength(body), MAX_BODY_BYTES);
    await assertInvalidCredentials(await exchange(body), accessKey);
  });

  it('answers 401 to a huge id with the right key', async () => {
    await assertInvalidCredentials(
      await exchange(JSON.stringify({ accessId: 'i'.repeat(3000), accessKey: ACCESS_KEY })),
      ACCESS_KEY,
    );
  });

  it('answers 400 bad_request to a key or id that is not a string', async () => {
    for (const value of [0, 1234, null, true, [], [ACCESS_KEY], {}, { toString: ACCESS_KEY }]) {
      for (const body of [
        { accessId: ACCESS_ID, accessKey: value },
        { accessId: value, accessKey: ACCESS_KEY },
      ]) {
        const response = await exchange(JSON.stringify(body));
        assert.equal(response.status, 400, JSON.stringify(body));
        assert.equal(((await response.json()) as { error: { code: string } }).error.code, 'bad_request');
      }
    }
  });

  it('answers 400 to a body that is not UTF-8', async () => {
    const response = await vendor.handle(
      new Request(`${ORIGIN}/vendor/api/widget-access-keys/token`, {
        method: 'POST',
        body: new Uint8Array([0x7b, 0xff, 0xfe, 0x7d]),
      }),
    );
    assert.equal(response?.status, 400);
  });

  it('matches a unicode key exactly: the same code points, not a look-alike', async () => {
    const accessKey = 'clé-🔑-\ufffd';
    const unicode = await createReferenceVendor({ accessId: ACCESS_ID, accessKey, now: () => NOW });
    assert.equal((await exchange(JSON.stringify({ accessId: ACCESS_ID, accessKey }), unicode)).status, 200);
    // é decomposed (NFD) looks the same and is another key.
    await assertInvalidCredentials(
      await exchange(JSON.stringify({ accessId: ACCESS_ID, accessKey: accessKey.normalize('NFD') }), unicode),
      '',
    );
    // A lone surrogate would become U+FFFD on the way to UTF-8: compared as UTF-16, it stays a different key.
    await assertInvalidCredentials(
      await exchange(`{"accessId":"${ACCESS_ID}","accessKey":"clé-🔑-\\ud800"}`, unicode),
      '',
    );
  });

  it(`answers 413 payload_too_large to a body over ${MAX_BODY_BYTES} bytes, counting bytes, not characters`, async () => {
    const prefix = JSON.stringify({ accessId: ACCESS_ID, accessKey: '' });
    const oneByteOver = JSON.stringify({
      accessId: ACCESS_ID,
      accessKey: 'k'.repeat(MAX_BODY_BYTES - prefix.length + 1),
    });
    const multibyte = JSON.stringify({ accessId: ACCESS_ID, accessKey: '€'.repeat(1500) });
    assert.ok(multibyte.length < MAX_BODY_BYTES && Buffer.byteLength(multibyte) > MAX_BODY_BYTES);
    for (const body of [oneByteOver, multibyte]) {
      const response = await exchange(body);
      assert.equal(response.status, 413);
      assert.deepEqual(await response.json(), {
        error: { code: 'payload_too_large', message: `Request body must be at most ${MAX_BODY_BYTES} bytes` },
      });
    }
  });
});
