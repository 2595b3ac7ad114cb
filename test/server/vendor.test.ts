import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import {
  SignJWT,
  calculateJwkThumbprint,
  createLocalJWKSet,
  decodeJwt,
  decodeProtectedHeader,
  exportJWK,
  generateKeyPair,
  jwtVerify,
} from 'jose';
import type { JSONWebKeySet } from 'jose';
import { createReferenceVendor } from '../../demo/vendor/index.js';
import type { ReferenceVendor } from '../../demo/vendor/index.js';

const ORIGIN = 'http://127.0.0.1:1234';
const ACCESS_ID = 'demo-access-id';
const ACCESS_KEY = 'demo-access-key-0123456789abcdef';

let vendor: ReferenceVendor;

before(async () => {
  vendor = await createReferenceVendor({ accessId: ACCESS_ID, accessKey: ACCESS_KEY });
});

async function handle(path: string, init?: RequestInit): Promise<Response> {
  const response = await vendor.handle(new Request(`${ORIGIN}${path}`, init));
  assert.ok(response, `expected a response for ${path}`);
  return response;
}

function requestToken(body: unknown): Promise<Response> {
  return handle('/vendor/api/widget-access-keys/token', {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
}

async function publishedJwks(): Promise<JSONWebKeySet> {
  return (await (await handle('/vendor/.well-known/jwks.json')).json()) as JSONWebKeySet;
}

function widgetData(authorization?: string): Promise<Response> {
  return handle(
    '/vendor/api/widget-data',
    authorization === undefined ? {} : { headers: { Authorization: authorization } },
  );
}

/** The JSON the server wrote into frame.html for its script to read. */
function inlinedConfig(html: string): unknown {
  const match = /<script type="application\/json" id="vendor-config">([^<]*)<\/script>/.exec(html);
  assert.ok(match, 'frame.html inlines its config');
  return JSON.parse(match[1]!);
}

function assertJsonNoStore(response: Response): void {
  assert.equal(response.headers.get('Content-Type'), 'application/json; charset=utf-8');
  assert.equal(response.headers.get('Cache-Control'), 'no-store');
}

describe('token API exchanges access credentials for an embed token', () => {
  it('answers {data: {embedToken}} with an ES256 JWT that verifies against the published JWKS', async () => {
    const startedAt = Math.floor(Date.now() / 1000);
    const response = await requestToken({ accessId: ACCESS_ID, accessKey: ACCESS_KEY });
    assert.equal(response.status, 200);
    assertJsonNoStore(response);
    const body = (await response.json()) as { data: { embedToken: string } };
    assert.deepEqual(Object.keys(body), ['data']);
    assert.deepEqual(Object.keys(body.data), ['embedToken']);

    const jwks = await publishedJwks();
    const { payload, protectedHeader } = await jwtVerify(body.data.embedToken, createLocalJWKSet(jwks), {
      algorithms: ['ES256'],
      issuer: 'reference-vendor',
      audience: 'secure-widget-demo',
    });
    assert.equal(protectedHeader.alg, 'ES256');
    assert.equal(protectedHeader.typ, 'JWT');
    assert.equal(protectedHeader.kid, jwks.keys[0]?.kid);
    assert.equal(payload.iss, vendor.issuer);
    assert.equal(payload.aud, vendor.audience);
    assert.equal(payload.sub, ACCESS_ID);
    assert.ok(payload.iat !== undefined && payload.iat >= startedAt && payload.iat <= startedAt + 2);
    assert.equal(payload.exp! - payload.iat, 900);
    assert.match(String(payload.jti), /^[0-9a-f-]{36}$/);
  });

  it('gives every token its own jti', async () => {
    const tokens = await Promise.all([vendor.issueToken(), vendor.issueToken()]);
    assert.notEqual(decodeJwt(tokens[0]).jti, decodeJwt(tokens[1]).jti);
  });

  it('honours ttlSeconds and the vendor clock', async () => {
    const now = Date.UTC(2030, 0, 1);
    const clocked = await createReferenceVendor({ accessId: 'a', accessKey: 'k', ttlSeconds: 60, now: () => now });
    const response = await clocked.handle(
      new Request(`${ORIGIN}/vendor/api/widget-access-keys/token`, {
        method: 'POST',
        body: JSON.stringify({ accessId: 'a', accessKey: 'k' }),
      }),
    );
    const { data } = (await response!.json()) as { data: { embedToken: string } };
    const claims = decodeJwt(data.embedToken);
    assert.equal(claims.iat, now / 1000);
    assert.equal(claims.exp, now / 1000 + 60);
  });

  it('rejects a wrong key with a generic 401 that echoes nothing', async () => {
    const wrongKey = 'demo-access-key-0123456789abcdeX';
    const response = await requestToken({ accessId: ACCESS_ID, accessKey: wrongKey });
    assert.equal(response.status, 401);
    assertJsonNoStore(response);
    const text = await response.text();
    assert.deepEqual(JSON.parse(text), {
      error: { code: 'invalid_credentials', message: 'Invalid access credentials' },
    });
    assert.ok(!text.includes(wrongKey));
    assert.ok(!text.includes(ACCESS_ID));
  });

  it('rejects a wrong id with the same 401', async () => {
    const response = await requestToken({ accessId: 'someone-else', accessKey: ACCESS_KEY });
    assert.equal(response.status, 401);
    assert.deepEqual(await response.json(), {
      error: { code: 'invalid_credentials', message: 'Invalid access credentials' },
    });
  });

  it('answers a wrong-length key with 401, not 500', async () => {
    for (const accessKey of ['', 'x', `${ACCESS_KEY}${ACCESS_KEY}`]) {
      const response = await requestToken({ accessId: ACCESS_ID, accessKey });
      assert.equal(response.status, 401, `key of length ${accessKey.length}`);
    }
  });

  it('answers 400 bad_request to missing fields and malformed JSON, without quoting the body', async () => {
    const bodies = [
      { accessId: ACCESS_ID },
      { accessKey: ACCESS_KEY },
      { accessId: 1, accessKey: ACCESS_KEY },
      [],
      null,
    ];
    for (const body of bodies) {
      const response = await requestToken(body);
      assert.equal(response.status, 400, JSON.stringify(body));
      assert.equal(((await response.json()) as { error: { code: string } }).error.code, 'bad_request');
    }
    const malformed = `{"accessId": "${ACCESS_ID}", "accessKey": "${ACCESS_KEY}"`;
    const response = await requestToken(malformed);
    assert.equal(response.status, 400);
    assertJsonNoStore(response);
    const text = await response.text();
    assert.equal((JSON.parse(text) as { error: { code: string } }).error.code, 'bad_request');
    assert.ok(!text.includes(ACCESS_KEY));
  });

  it('answers 400 to an empty body', async () => {
    const response = await handle('/vendor/api/widget-access-keys/token', { method: 'POST' });
    assert.equal(response.status, 400);
  });

  it('answers 413 to a body over 4 KiB, with or without Content-Length', async () => {
    const oversized = JSON.stringify({ accessId: ACCESS_ID, accessKey: 'k'.repeat(5000) });
    const streamed = await requestToken(oversized);
    assert.equal(streamed.status, 413);
    assertJsonNoStore(streamed);
    assert.equal(((await streamed.json()) as { error: { code: string } }).error.code, 'payload_too_large');

    const declared = await handle('/vendor/api/widget-access-keys/token', {
      method: 'POST',
      headers: { 'Content-Length': '5000' },
      body: oversized,
    });
    assert.equal(declared.status, 413);
  });

  it('answers 405 with Allow: POST to other methods', async () => {
    const response = await handle('/vendor/api/widget-access-keys/token');
    assert.equal(response.status, 405);
    assert.equal(response.headers.get('Allow'), 'POST');
    assertJsonNoStore(response);
  });
});

describe('JWKS publishes the public key only', () => {
  it('serves one ES256 signing key with kid, readable from any origin', async () => {
    const response = await handle('/vendor/.well-known/jwks.json');
    assert.equal(response.status, 200);
    assert.equal(response.headers.get('Access-Control-Allow-Origin'), '*');
    assert.equal(response.headers.get('Cache-Control'), 'public, max-age=300');
    assert.equal(response.headers.get('Content-Type'), 'application/json; charset=utf-8');
    const jwks = (await response.json()) as JSONWebKeySet;
    assert.equal(jwks.keys.length, 1);
    const [key] = jwks.keys;
    assert.equal(key?.kty, 'EC');
    assert.equal(key?.crv, 'P-256');
    assert.equal(key?.alg, 'ES256');
    assert.equal(key?.use, 'sig');
    assert.equal(typeof key?.kid, 'string');
    assert.equal(key && 'd' in key, false, 'the private scalar must not be published');
  });

  it('uses the kid of the key that signs', async () => {
    const [key] = (await publishedJwks()).keys;
    assert.equal(decodeProtectedHeader(await vendor.issueToken()).kid, key?.kid);
  });
});

describe('widget.js serves the bundle widget', () => {
  it('answers JavaScript that defines demo-widget, loadable with crossorigin', async () => {
    const response = await handle('/vendor/widget.js');
    assert.equal(response.status, 200);
    assert.equal(response.headers.get('Content-Type'), 'text/javascript; charset=utf-8');
    assert.equal(response.headers.get('Access-Control-Allow-Origin'), '*');
    assert.equal(response.headers.get('Cache-Control'), 'no-cache');
    const script = await response.text();
    assert.ok(script.includes('demo-widget'));
    assert.ok(script.includes('ReturningAIWidget'));

    const etag = response.headers.get('ETag');
    assert.ok(etag);
    const revalidated = await handle('/vendor/widget.js', { headers: { 'If-None-Match': etag } });
    assert.equal(revalidated.status, 304);
  });
});

describe('frame.html serves the iframe page', () => {
  it('answers a small HTML page that loads frame.js by a relative URL', async () => {
    const response = await handle('/vendor/frame.html?community-id=42&user-id=u1');
    assert.equal(response.status, 200);
    assert.equal(response.headers.get('Content-Type'), 'text/html; charset=utf-8');
    assert.equal(response.headers.get('Cache-Control'), 'no-store');
    assert.equal(response.headers.get('X-Content-Type-Options'), 'nosniff');
    const html = await response.text();
    assert.match(html, /^<!doctype html>/i);
    assert.match(html, /<meta charset="utf-8">/);
    assert.match(html, /<title>[^<]+<\/title>/);
    assert.match(html, /<script type="module" src="frame.js"><\/script>/);
    // The query string is for the script to read; the server never echoes it into the page.
    assert.ok(!html.includes('u1'));
  });

  it('lets only the host page on the request port frame it, by default', async () => {
    const response = await handle('/vendor/frame.html');
    const policy = response.headers.get('Content-Security-Policy') ?? '';
    const frameAncestors = policy
      .split(';')
      .map((directive) => directive.trim())
      .find((d) => d.startsWith('frame-ancestors '));
    assert.equal(frameAncestors, 'frame-ancestors http://localhost:1234');
    assert.deepEqual(inlinedConfig(await response.text()), { allowedOrigins: ['http://localhost:1234'] });
  });

  it('follows the port of each request', async () => {
    const response = await vendor.handle(new Request('http://127.0.0.1:5678/vendor/frame.html'));
    assert.match(
      response?.headers.get('Content-Security-Policy') ?? '',
      /frame-ancestors http:\/\/localhost:5678(;|$)/,
    );
    assert.deepEqual(inlinedConfig(await response!.text()), { allowedOrigins: ['http://localhost:5678'] });
  });

  it('lists allowedHostOrigins in frame-ancestors and in the page config', async () => {
    const allowedHostOrigins = ['https://shop.example', 'http://localhost:3000'];
    const configured = await createReferenceVendor({ accessId: 'a', accessKey: 'k', allowedHostOrigins });
    const response = await configured.handle(new Request(`${ORIGIN}/vendor/frame.html`));
    assert.match(
      response?.headers.get('Content-Security-Policy') ?? '',
      /(^|; )frame-ancestors https:\/\/shop\.example http:\/\/localhost:3000(;|$)/,
    );
    assert.deepEqual(inlinedConfig(await response!.text()), { allowedOrigins: allowedHostOrigins });
    // A copy was kept: changing the caller's array afterwards widens nothing.
    allowedHostOrigins.push('https://evil.example');
    const again = await configured.handle(new Request(`${ORIGIN}/vendor/frame.html`));
    assert.ok(!(again?.headers.get('Content-Security-Policy') ?? '').includes('evil'));
  });

  it('keeps the page to its own scripts', async () => {
    const policy = (await handle('/vendor/frame.html')).headers.get('Content-Security-Policy') ?? '';
    assert.match(policy, /(^|; )script-src 'self'(;|$)/);
    assert.match(policy, /(^|; )object-src 'none'(;|$)/);
  });

  it('answers HEAD without a body and 405 to other methods', async () => {
    const head = await handle('/vendor/frame.html', { method: 'HEAD' });
    assert.equal(head.status, 200);
    assert.equal(head.headers.get('Content-Type'), 'text/html; charset=utf-8');
    assert.equal(await head.text(), '');
    const post = await handle('/vendor/frame.html', { method: 'POST' });
    assert.equal(post.status, 405);
    assert.equal(post.headers.get('Allow'), 'GET, HEAD');
  });
});

describe('frame.js serves the iframe page script', () => {
  it('answers an ES module with the same headers as widget.js', async () => {
    const response = await handle('/vendor/frame.js');
    assert.equal(response.status, 200);
    assert.equal(response.headers.get('Content-Type'), 'text/javascript; charset=utf-8');
    assert.equal(response.headers.get('Access-Control-Allow-Origin'), '*');
    assert.equal(response.headers.get('Cache-Control'), 'no-cache');
    assert.equal(response.headers.get('X-Content-Type-Options'), 'nosniff');
    const script = await response.text();
    // Module syntax (import.meta) where the widget is a classic script: it must parse as a module, not as a script.
    assert.ok(script.includes('import.meta.url'));
    assert.ok(script.includes('secure-widget:hello'));
    assert.ok(script.includes('vendor-config'));
    assert.throws(() => new Function(script), SyntaxError, 'a module, not a classic script');

    const etag = response.headers.get('ETag');
    assert.ok(etag);
    assert.notEqual(etag, (await handle('/vendor/widget.js')).headers.get('ETag'));
    const revalidated = await handle('/vendor/frame.js', { headers: { 'If-None-Match': etag } });
    assert.equal(revalidated.status, 304);
  });
});

describe('widget-data API accepts only a valid bearer token', () => {
  it('answers 200 with the token subject and times for a fresh token', async () => {
    const token = await vendor.issueToken({ subject: 'u1' });
    const response = await widgetData(`Bearer ${token}`);
    assert.equal(response.status, 200);
    assertJsonNoStore(response);
    assert.equal(response.headers.get('Access-Control-Allow-Origin'), '*');
    const body = (await response.json()) as { subject: string; issuedAt: number; expiresAt: number };
    const claims = decodeJwt(token);
    assert.deepEqual(body, { subject: 'u1', issuedAt: claims.iat, expiresAt: claims.exp });
  });

  async function assertRejected(response: Response, code: string): Promise<void> {
    assert.equal(response.status, 401);
    assertJsonNoStore(response);
    assert.equal(response.headers.get('Access-Control-Allow-Origin'), '*');
    assert.equal(response.headers.get('WWW-Authenticate'), 'Bearer error="invalid_token"');
    assert.equal(((await response.json()) as { error: { code: string } }).error.code, code);
  }

  it('answers 401 token_expired to an expired token', async () => {
    const token = await vendor.issueToken({ now: Date.now() - 3_600_000 });
    await assertRejected(await widgetData(`Bearer ${token}`), 'token_expired');
  });

  it('forgives a few seconds of clock skew but no more', async () => {
    const justExpired = await vendor.issueToken({ ttlSeconds: 60, now: Date.now() - 62_000 });
    assert.equal((await widgetData(`Bearer ${justExpired}`)).status, 200);
    const longExpired = await vendor.issueToken({ ttlSeconds: 60, now: Date.now() - 70_000 });
    await assertRejected(await widgetData(`Bearer ${longExpired}`), 'token_expired');
  });

  it('answers 401 token_invalid to a tampered signature', async () => {
    const token = await vendor.issueToken();
    const [header, payload, signature] = token.split('.') as [string, string, string];
    const flipped = `${signature[0] === 'A' ? 'B' : 'A'}${signature.slice(1)}`;
    await assertRejected(await widgetData(`Bearer ${header}.${payload}.${flipped}`), 'token_invalid');
  });

  it('answers 401 token_invalid to a tampered payload', async () => {
    const token = await vendor.issueToken();
    const [header, , signature] = token.split('.') as [string, string, string];
    const claims = { ...decodeJwt(token), sub: 'admin' };
    const forged = Buffer.from(JSON.stringify(claims)).toString('base64url');
    await assertRejected(await widgetData(`Bearer ${header}.${forged}.${signature}`), 'token_invalid');
  });

  it('answers 401 token_invalid to a token signed by another key, even with the vendor kid', async () => {
    const { privateKey } = await generateKeyPair('ES256');
    const [key] = (await publishedJwks()).keys;
    const now = Math.floor(Date.now() / 1000);
    const foreign = await new SignJWT({})
      .setProtectedHeader({ alg: 'ES256', kid: key?.kid ?? '', typ: 'JWT' })
      .setIssuer(vendor.issuer)
      .setAudience(vendor.audience)
      .setSubject(ACCESS_ID)
      .setIssuedAt(now)
      .setExpirationTime(now + 900)
      .sign(privateKey);
    await assertRejected(await widgetData(`Bearer ${foreign}`), 'token_invalid');
  });

  it('answers 401 to a missing or malformed Authorization header', async () => {
    for (const authorization of [undefined, '', 'Bearer', `Basic ${btoa('a:b')}`, 'Bearer not-a-jwt']) {
      const response = await widgetData(authorization);
      assert.equal(response.status, 401, String(authorization));
      assert.equal(response.headers.get('Access-Control-Allow-Origin'), '*');
      assert.equal(((await response.json()) as { error: { code: string } }).error.code, 'token_invalid');
    }
  });

  it('answers the CORS preflight with 204', async () => {
    const response = await handle('/vendor/api/widget-data', {
      method: 'OPTIONS',
      headers: { Origin: 'http://localhost:1234', 'Access-Control-Request-Headers': 'authorization' },
    });
    assert.equal(response.status, 204);
    assert.equal(response.headers.get('Access-Control-Allow-Origin'), '*');
    assert.equal(response.headers.get('Access-Control-Allow-Headers'), 'authorization');
    assert.equal(response.headers.get('Access-Control-Allow-Methods'), 'GET');
    assert.equal(response.headers.get('Access-Control-Max-Age'), '600');
  });

  it('answers 405 to other methods, still with CORS', async () => {
    const response = await handle('/vendor/api/widget-data', { method: 'POST' });
    assert.equal(response.status, 405);
    assert.equal(response.headers.get('Access-Control-Allow-Origin'), '*');
  });
});

describe('routing stays under basePath', () => {
  it('resolves null for paths outside basePath', async () => {
    for (const path of ['/', '/api/widget-token', '/vendorx/widget.js', '/other/vendor/widget.js']) {
      assert.equal(await vendor.handle(new Request(`${ORIGIN}${path}`)), null, path);
    }
  });

  it('answers 404 not_found to unknown paths under basePath', async () => {
    for (const path of ['/vendor', '/vendor/', '/vendor/nope', '/vendor/widget.js/x']) {
      const response = await handle(path);
      assert.equal(response.status, 404, path);
      assertJsonNoStore(response);
      assert.equal(((await response.json()) as { error: { code: string } }).error.code, 'not_found');
    }
  });

  it('mounts at a custom basePath', async () => {
    const mounted = await createReferenceVendor({ accessId: 'a', accessKey: 'k', basePath: '/widgets/' });
    const response = await mounted.handle(new Request(`${ORIGIN}/widgets/.well-known/jwks.json`));
    assert.equal(response?.status, 200);
    assert.equal(await mounted.handle(new Request(`${ORIGIN}/vendor/.well-known/jwks.json`)), null);
  });
});

describe('options are checked up front', () => {
  const valid = { accessId: ACCESS_ID, accessKey: ACCESS_KEY };
  const cases: [string, unknown, RegExp][] = [
    ['empty accessId', { ...valid, accessId: '' }, /accessId must be a non-empty string/],
    ['missing accessKey', { accessId: ACCESS_ID }, /accessKey must be a non-empty string/],
    ['empty accessKey', { ...valid, accessKey: '' }, /accessKey must be a non-empty string/],
    ['zero ttl', { ...valid, ttlSeconds: 0 }, /ttlSeconds must be a positive whole number/],
    ['negative ttl', { ...valid, ttlSeconds: -5 }, /ttlSeconds must be a positive whole number/],
    ['NaN ttl', { ...valid, ttlSeconds: Number.NaN }, /ttlSeconds must be a positive whole number/],
    ['relative basePath', { ...valid, basePath: 'vendor' }, /basePath must be a path starting with "\/"/],
    ['non-function now', { ...valid, now: 5 }, /now must be a function/],
    ['no options', undefined, /options must be an object/],
    ['empty allowedHostOrigins', { ...valid, allowedHostOrigins: [] }, /allowedHostOrigins must be a non-empty array/],
    [
      'a string for allowedHostOrigins',
      { ...valid, allowedHostOrigins: 'https://shop.example' },
      /allowedHostOrigins must be a non-empty array/,
    ],
    ['"*" in allowedHostOrigins', { ...valid, allowedHostOrigins: ['*'] }, /allowedHostOrigins\[0\] must be an origin/],
    [
      '"null" in allowedHostOrigins',
      { ...valid, allowedHostOrigins: ['https://a.example', 'null'] },
      /allowedHostOrigins\[1\] must be an origin/,
    ],
    [
      'a path in allowedHostOrigins',
      { ...valid, allowedHostOrigins: ['https://shop.example/'] },
      /allowedHostOrigins\[0\] must be an origin/,
    ],
    [
      'an upper-case host in allowedHostOrigins',
      { ...valid, allowedHostOrigins: ['https://Shop.example'] },
      /allowedHostOrigins\[0\] must be an origin/,
    ],
    [
      'a default port in allowedHostOrigins',
      { ...valid, allowedHostOrigins: ['https://shop.example:443'] },
      /allowedHostOrigins\[0\] must be an origin/,
    ],
    [
      'a non-web scheme in allowedHostOrigins',
      { ...valid, allowedHostOrigins: ['ftp://shop.example'] },
      /allowedHostOrigins\[0\] must be an origin/,
    ],
    [
      'a number in allowedHostOrigins',
      { ...valid, allowedHostOrigins: [443] },
      /allowedHostOrigins\[0\] must be an origin/,
    ],
  ];
  for (const [name, options, message] of cases) {
    it(`rejects ${name} with a TypeError`, async () => {
      await assert.rejects(createReferenceVendor(options as never), (error: unknown) => {
        assert.ok(error instanceof TypeError);
        assert.match(error.message, message);
        return true;
      });
    });
  }

  it('never puts the key in a message', async () => {
    const accessKey = 'super-secret-value';
    await assert.rejects(createReferenceVendor({ accessId: '', accessKey }), (error: unknown) => {
      assert.ok(error instanceof TypeError);
      assert.ok(!error.message.includes(accessKey));
      return true;
    });
  });

  it('rejects a signingKeyPair that is not an ES256 pair able to sign, with a TypeError', async () => {
    const es256 = await generateKeyPair('ES256');
    const pairs: [string, unknown][] = [
      ['a string', 'not a key'],
      ['an empty object', {}],
      ['an ES384 pair', await generateKeyPair('ES384')],
      ['an RS256 pair', await generateKeyPair('RS256')],
      ['the halves swapped', { privateKey: es256.publicKey, publicKey: es256.privateKey }],
      ['a JWK instead of a CryptoKey', { privateKey: await exportJWK(es256.publicKey), publicKey: es256.publicKey }],
    ];
    for (const [name, signingKeyPair] of pairs) {
      await assert.rejects(createReferenceVendor({ ...valid, signingKeyPair } as never), (error: unknown) => {
        assert.ok(error instanceof TypeError, name);
        assert.match(error.message, /signingKeyPair must be an ES256 \(ECDSA P-256\) CryptoKeyPair/, name);
        return true;
      });
    }
  });

  it('publishes the public half of a given signingKeyPair and signs with it', async () => {
    const signingKeyPair = await generateKeyPair('ES256');
    const given = await createReferenceVendor({ ...valid, signingKeyPair });
    const response = await given.handle(new Request(`${ORIGIN}/vendor/.well-known/jwks.json`));
    const { keys } = (await response!.json()) as JSONWebKeySet;
    assert.equal(keys.length, 1);
    assert.equal(keys[0]?.kid, await calculateJwkThumbprint(await exportJWK(signingKeyPair.publicKey)));
    await jwtVerify(await given.issueToken(), signingKeyPair.publicKey, { algorithms: ['ES256'] });
  });

  it('checks issueToken options too', async () => {
    await assert.rejects(vendor.issueToken({ ttlSeconds: 0 }), TypeError);
    await assert.rejects(vendor.issueToken({ subject: '' }), TypeError);
    await assert.rejects(vendor.issueToken({ now: Number.NaN }), TypeError);
  });
});
