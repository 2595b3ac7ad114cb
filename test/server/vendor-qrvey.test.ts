import assert from 'node:assert/strict';
import { after, before, describe, it, mock } from 'node:test';
import { createLocalJWKSet, decodeJwt, jwtVerify } from 'jose';
import type { JSONWebKeySet } from 'jose';
import { toNodeListener } from '../../src/server/index.js';
import {
  DEMO_APP_ID,
  DEV_KEY_ENDPOINT_PATH,
  QRVEY_TOKEN_ENDPOINT_PATH,
  createDemoBackend,
} from '../../demo/backend.js';
import { createReferenceVendor } from '../../demo/vendor/index.js';
import type { ReferenceVendor } from '../../demo/vendor/index.js';
import { listen } from './loopback.js';

// The reference vendor's Qrvey-style side (docs/vendors.md): the token API that takes the host's private API key, the
// data API's dev-key mode, and the host endpoint that the demo wires to them.

const ORIGIN = 'http://127.0.0.1:1234';
const API_KEY = 'qv_private_4f0c2a9e7b1d5c3a8e6f0b2d4c6a8e0f';
const DEV_KEY = 'pk_test_reference_3b7d1f9a5c';
const TTL = 120;
const NOW = Date.UTC(2026, 11, 2, 12, 0, 0);
const MAX_BODY_BYTES = 4096;

let vendor: ReferenceVendor;
/** Everything the vendor wrote to the console during this file: it must never hold a key. */
const consoleLines: string[] = [];

before(async () => {
  for (const method of ['log', 'info', 'warn', 'error'] as const) {
    mock.method(console, method, (...args: unknown[]) => void consoleLines.push(args.map(String).join(' ')));
  }
  vendor = await createReferenceVendor({
    accessId: 'demo-host',
    accessKey: 'access-key-0123456789abcdef',
    apiKey: API_KEY,
    devKey: DEV_KEY,
    ttlSeconds: TTL,
    now: () => NOW,
  });
});

after(() => {
  mock.restoreAll();
  for (const line of consoleLines) {
    assert.ok(!line.includes(API_KEY) && !line.includes(DEV_KEY), 'no key in a log line');
  }
});

async function handle(path: string, init?: RequestInit, on = vendor): Promise<Response> {
  const response = await on.handle(new Request(`${ORIGIN}${path}`, init));
  assert.ok(response, `expected a response for ${path}`);
  return response;
}

/** `apiKey` null sends no x-api-key header at all. */
function requestToken(body: unknown, apiKey: string | null = API_KEY): Promise<Response> {
  const headers: Record<string, string> = { 'Content-Type': 'application/json' };
  if (apiKey !== null) headers['x-api-key'] = apiKey;
  return handle('/vendor/qrvey/token', {
    method: 'POST',
    headers,
    body: typeof body === 'string' || body instanceof Uint8Array ? (body as BodyInit) : JSON.stringify(body),
  });
}

function widgetData(headers: Record<string, string>): Promise<Response> {
  return handle('/vendor/api/widget-data', { headers });
}

async function errorOf(response: Response): Promise<{ code: string; message: string; text: string }> {
  const text = await response.text();
  const { error } = JSON.parse(text) as { error: { code: string; message: string } };
  return { ...error, text };
}

function assertJsonNoStore(response: Response): void {
  assert.equal(response.headers.get('Content-Type'), 'application/json; charset=utf-8');
  assert.equal(response.headers.get('Cache-Control'), 'no-store');
}

describe('Qrvey-style token API: x-api-key and {userId, appId} for {token}', () => {
  it('answers {token}: a JWT signed by the vendor key, sub = userId, an appId claim, the vendor lifetime', async () => {
    const response = await requestToken({ userId: 'u-42', appId: 'app-7' });
    assert.equal(response.status, 200);
    assertJsonNoStore(response);
    const body = (await response.json()) as { token: string };
    assert.deepEqual(Object.keys(body), ['token']);

    const jwks = (await (await handle('/vendor/.well-known/jwks.json')).json()) as JSONWebKeySet;
    const { payload, protectedHeader } = await jwtVerify(body.token, createLocalJWKSet(jwks), {
      algorithms: ['ES256'],
      issuer: vendor.issuer,
      audience: vendor.audience,
      currentDate: new Date(NOW),
    });
    assert.equal(protectedHeader.typ, 'JWT');
    assert.equal(payload.sub, 'u-42');
    assert.equal(payload.appId, 'app-7');
    assert.equal(payload.iat, NOW / 1000);
    assert.equal(payload.exp, NOW / 1000 + TTL);
    assert.equal(typeof payload.jti, 'string');
  });

  it('mints a token the data API accepts, answering its subject and appId', async () => {
    const { token } = (await (await requestToken({ userId: 'u-42', appId: 'app-7' })).json()) as { token: string };
    const response = await widgetData({ Authorization: `Bearer ${token}` });
    assert.equal(response.status, 200);
    assert.deepEqual(await response.json(), {
      subject: 'u-42',
      issuedAt: NOW / 1000,
      expiresAt: NOW / 1000 + TTL,
      appId: 'app-7',
    });
  });

  it('answers 401 invalid_api_key to a missing or wrong key, never echoing either key', async () => {
    const wrong = [null, '', 'x', API_KEY.slice(0, -1), `${API_KEY}0`, API_KEY.toUpperCase(), DEV_KEY, 'cl\u00e9-key'];
    for (const apiKey of wrong) {
      const response = await requestToken({ userId: 'u-42', appId: 'app-7' }, apiKey);
      assert.equal(response.status, 401, String(apiKey));
      assertJsonNoStore(response);
      const error = await errorOf(response);
      assert.deepEqual(
        { code: error.code, message: error.message },
        { code: 'invalid_api_key', message: 'Invalid API key' },
      );
      assert.ok(!error.text.includes(API_KEY.slice(0, 12)), 'the real key is not in the answer');
      if (apiKey) assert.ok(!error.text.includes(apiKey), 'the key sent is not in the answer');
    }
  });

  it('checks the key before it reads the body: 401 even for a body it would refuse', async () => {
    assert.equal((await requestToken('{not json', 'wrong')).status, 401);
    assert.equal((await requestToken('x'.repeat(MAX_BODY_BYTES * 4), null)).status, 401);
  });

  it('answers 400 bad_request to a body that is not {userId, appId} with two ids', async () => {
    const bodies: [string, unknown][] = [
      ['no body', ''],
      ['not JSON', '{"userId": '],
      ['an array', [{ userId: 'u', appId: 'a' }]],
      ['null', 'null'],
      ['a string', '"u-42"'],
      ['no userId', { appId: 'app-7' }],
      ['no appId', { userId: 'u-42' }],
      ['a number userId', { userId: 42, appId: 'app-7' }],
      ['an object appId', { userId: 'u-42', appId: { id: 'app-7' } }],
      ['an empty userId', { userId: '', appId: 'app-7' }],
      ['a blank appId', { userId: 'u-42', appId: '   ' }],
      ['an overlong userId', { userId: 'u'.repeat(257), appId: 'app-7' }],
      ['invalid UTF-8', new Uint8Array([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x7d])],
    ];
    for (const [name, body] of bodies) {
      const response = await requestToken(body);
      assert.equal(response.status, 400, name);
      assertJsonNoStore(response);
      const error = await errorOf(response);
      assert.equal(error.code, 'bad_request', name);
      assert.ok(!error.text.includes(API_KEY), name);
    }
  });

  it(`answers 413 payload_too_large to a body over ${MAX_BODY_BYTES} bytes, declared or streamed`, async () => {
    const big = JSON.stringify({ userId: 'u'.repeat(MAX_BODY_BYTES), appId: 'app-7' });
    const declared = await requestToken(big);
    assert.equal(declared.status, 413);
    assert.equal((await errorOf(declared)).code, 'payload_too_large');

    // No Content-Length: the read stops once the cap is passed, whatever the stream would go on to send.
    let pulled = 0;
    const endless = new ReadableStream<Uint8Array>({
      pull(controller) {
        pulled += 1024;
        controller.enqueue(new Uint8Array(1024).fill(0x20));
      },
    });
    const streamed = await handle('/vendor/qrvey/token', {
      method: 'POST',
      headers: { 'x-api-key': API_KEY },
      body: endless,
      duplex: 'half',
    } as RequestInit);
    assert.equal(streamed.status, 413);
    assert.ok(pulled <= MAX_BODY_BYTES + 4 * 1024, `read ${pulled} bytes`);
  });

  it('answers 405 to other methods', async () => {
    const response = await handle('/vendor/qrvey/token', { headers: { 'x-api-key': API_KEY } });
    assert.equal(response.status, 405);
    assert.equal(response.headers.get('Allow'), 'POST');
  });

  it('is closed when the vendor has no API key configured', async () => {
    const keyless = await createReferenceVendor({ accessId: 'demo-host', accessKey: 'access-key-0123456789abcdef' });
    const response = await handle(
      '/vendor/qrvey/token',
      { method: 'POST', headers: { 'x-api-key': '' }, body: JSON.stringify({ userId: 'u', appId: 'a' }) },
      keyless,
    );
    assert.equal(response.status, 401);
  });
});

describe('the data API in dev mode: x-api-key with the publishable dev key', () => {
  it('answers 200 {credential: "dev-key"} with CORS, to the dev key and nothing else', async () => {
    const response = await widgetData({ 'x-api-key': DEV_KEY });
    assert.equal(response.status, 200);
    assertJsonNoStore(response);
    assert.equal(response.headers.get('Access-Control-Allow-Origin'), '*');
    assert.deepEqual(await response.json(), { credential: 'dev-key' });
  });

  it('answers 401 invalid_api_key to another key, the private API key above all, never echoing it', async () => {
    for (const key of ['', 'pk_test_guess', `${DEV_KEY}x`, API_KEY]) {
      const response = await widgetData({ 'x-api-key': key });
      assert.equal(response.status, 401, key);
      assert.equal(response.headers.get('Access-Control-Allow-Origin'), '*');
      const error = await errorOf(response);
      assert.equal(error.code, 'invalid_api_key');
      assert.ok(!error.text.includes(DEV_KEY) && !error.text.includes(API_KEY));
    }
  });

  it('prefers a Bearer token over a dev key sent beside it', async () => {
    const response = await widgetData({ Authorization: 'Bearer not-a-jwt', 'x-api-key': DEV_KEY });
    assert.equal(response.status, 401);
    assert.equal((await errorOf(response)).code, 'token_invalid');
  });

  it('lets a preflight ask for x-api-key, naming only the headers asked for', async () => {
    const preflight = (requested: string) =>
      handle('/vendor/api/widget-data', {
        method: 'OPTIONS',
        headers: { Origin: 'http://localhost:1234', 'Access-Control-Request-Headers': requested },
      });
    const answers = await Promise.all(['x-api-key', 'authorization', 'Authorization, X-API-Key'].map(preflight));
    assert.deepEqual(
      answers.map((answer) => answer.headers.get('Access-Control-Allow-Headers')),
      ['x-api-key', 'authorization', 'authorization, x-api-key'],
    );
    assert.equal(answers[0]!.status, 204);
    assert.equal(answers[0]!.headers.get('Vary'), 'Access-Control-Request-Headers');
  });

  it('makes a pk_test_ dev key of its own when none is given, and exposes it (it is publishable)', async () => {
    const made = await createReferenceVendor({ accessId: 'a', accessKey: 'access-key-0123456789abcdef' });
    assert.match(made.devKey, /^pk_test_[\w-]{20,}$/);
    assert.notEqual(made.devKey, vendor.devKey);
    const accepted = await handle('/vendor/api/widget-data', { headers: { 'x-api-key': made.devKey } }, made);
    assert.equal(accepted.status, 200);
    assert.equal(vendor.devKey, DEV_KEY);
  });
});

describe('options for the two keys', () => {
  const valid = { accessId: 'a', accessKey: 'access-key-0123456789abcdef' };
  const cases: [string, Record<string, unknown>, RegExp][] = [
    ['an empty apiKey', { apiKey: '' }, /apiKey must be a non-empty string/],
    ['a publishable-looking apiKey', { apiKey: 'pk_live_0123456789' }, /apiKey .* must not look publishable/],
    ['a devKey without pk_', { devKey: 'sk_test_0123456789' }, /devKey must be a publishable key/],
    ['a short devKey', { devKey: 'pk_1' }, /devKey must be a publishable key/],
    ['a devKey saying secret', { devKey: 'pk_secret_0123456789' }, /devKey must be a publishable key/],
    ['a devKey with a space', { devKey: 'pk_test 0123456789' }, /devKey must be a publishable key/],
  ];
  for (const [name, options, message] of cases) {
    it(`rejects ${name} with a TypeError that does not quote it`, async () => {
      await assert.rejects(createReferenceVendor({ ...valid, ...options } as never), (error: unknown) => {
        assert.ok(error instanceof TypeError);
        assert.match(error.message, message);
        for (const value of Object.values(options)) if (value) assert.ok(!error.message.includes(String(value)));
        return true;
      });
    });
  }
});

describe('config-widget.js serves the Qrvey-style widget bundle', () => {
  it('answers a classic script that defines <demo-config-widget>, with the bundle headers', async () => {
    const response = await handle('/vendor/config-widget.js');
    assert.equal(response.status, 200);
    assert.equal(response.headers.get('Content-Type'), 'text/javascript; charset=utf-8');
    assert.equal(response.headers.get('Access-Control-Allow-Origin'), '*');
    const script = await response.text();
    assert.ok(script.includes('demo-config-widget') && script.includes('qv-token-expired'));
    assert.ok(!/^\s*(import|export)\b/m.test(script), 'a classic script, not a module');
    assert.notEqual(response.headers.get('ETag'), (await handle('/vendor/widget.js')).headers.get('ETag'));
  });
});

// The demo backend on a real port: its token handlers reach the vendor over HTTP, as a host reaches its vendor.
const demo = await createDemoBackend({ ttlSeconds: 60 });
const base = await listen(
  toNodeListener(async (request) => (await demo.handle(request)) ?? new Response(null, { status: 404 })),
);

describe("the demo host's /api/qrvey-token", () => {
  it('answers {embedToken, expiresAt}: the vendor token for the demo user and app, which the data API accepts', async () => {
    const response = await fetch(`${base}${QRVEY_TOKEN_ENDPOINT_PATH}`, { headers: { Accept: 'application/json' } });
    assert.equal(response.status, 200);
    const body = (await response.json()) as { embedToken: string; expiresAt: number };
    assert.deepEqual(Object.keys(body).sort(), ['embedToken', 'expiresAt']);
    const claims = decodeJwt(body.embedToken);
    assert.equal(claims.sub, 'demo-user');
    assert.equal(claims.appId, DEMO_APP_ID);
    assert.equal(body.expiresAt, claims.exp);
    assert.equal(claims.exp! - claims.iat!, 60);

    const data = await fetch(`${base}/vendor/api/widget-data`, {
      headers: { Authorization: `Bearer ${body.embedToken}` },
    });
    assert.equal(data.status, 200);
    assert.deepEqual(((await data.json()) as { appId: string }).appId, DEMO_APP_ID);
  });

  it('serves the publishable dev key, and only that, at /api/dev-key', async () => {
    const response = await fetch(`${base}${DEV_KEY_ENDPOINT_PATH}`);
    assert.equal(response.status, 200);
    assert.equal(response.headers.get('Cache-Control'), 'no-store');
    assert.equal(response.headers.get('Access-Control-Allow-Origin'), null);
    const { apiKey } = (await response.json()) as { apiKey: string };
    assert.match(apiKey, /^pk_test_/);
    const data = await fetch(`${base}/vendor/api/widget-data`, { headers: { 'x-api-key': apiKey } });
    assert.equal(data.status, 200);
    assert.equal((await fetch(`${base}${DEV_KEY_ENDPOINT_PATH}`, { method: 'POST' })).status, 405);
  });
});
