/**
 * The token handler on every runtime docs/server.md promises, each from its npm package and over real HTTP: Node,
 * Deno, Bun and workerd (a Worker with no compatibility flag) serve the very example files of demo/examples/runtimes/,
 * loading the built dist/server.js. Each answers 200 with the token and its headers, 401, 403 to another site, 405,
 * 413 and 429; exchanges an API key at a vendor that fails (502) or does not answer (504); and signs tokens with
 * HS256, ES256 (a PEM and a JWK) and RS256 that verify with the public key. The Hono example runs on Bun, the Next.js
 * Route Handler in this process. A runtime whose binary cannot run here is skipped, and the reason printed.
 *
 * The runtimes are installed by this test into test/runtimes/ (`npm ci`, once per lockfile). Needs `npm run build`.
 */
import assert from 'node:assert/strict';
import { createHmac, randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { pathToFileURL } from 'node:url';
import {
  UnsecuredJWT,
  exportJWK,
  exportPKCS8,
  generateKeyPair,
  jwtVerify,
  type CryptoKey,
  type JWTPayload,
} from 'jose';
import {
  EXAMPLES_DIR,
  ROOT,
  installRuntimes,
  startExample,
  versionOf,
  whyNot,
  type RunningExample,
  type Runtime,
} from '../runtimes/runtimes.js';
import { listen } from './loopback.js';

const DIST_SERVER = path.join(ROOT, 'dist/server.js');
const ENDPOINT = '/api/widget-token';
// Short, so that the 504 comes quickly; the vendor that does not answer is held for longer than this.
const TIMEOUT_MS = 500;
const RATE_LIMIT = 30;

const installed = installRuntimes();
if (installed.ms > 0) console.log(`# test/runtimes: npm ci took ${installed.ms} ms`);

// Secrets of this run only: made here, never written anywhere, and looked for in everything the servers print.
const SESSION_SECRET = randomBytes(32).toString('base64url');
const VENDOR_API_KEY = `vk_${randomBytes(16).toString('hex')}`;
const SECRETS = [SESSION_SECRET, VENDOR_API_KEY];

/** The cookie a login would set: computed here with node:crypto, an oracle independent of the example's WebCrypto. */
function sessionCookie(userId: string, secret = SESSION_SECRET): string {
  return `session=${userId}.${createHmac('sha256', secret).update(userId).digest('base64url')}`;
}

// --- the vendor: a Qrvey-style token API ---------------------------------------------------------------------------

const VENDOR_TTL_SECONDS = 900;
const vendorCalls = new Map<string, number>();
const vendorTokens = new Map<string, { token: string; exp: number }>();

const vendorOrigin = await listen(async (req, res) => {
  let body = '';
  for await (const chunk of req) body += chunk;
  if (req.headers['x-api-key'] !== VENDOR_API_KEY) return void res.writeHead(401).end();
  const { userId } = JSON.parse(body) as { userId: string };
  vendorCalls.set(userId, (vendorCalls.get(userId) ?? 0) + 1);
  if (userId === 'vendor-down') return void res.writeHead(500).end('{"error":"down"}');
  if (userId === 'vendor-slow') return; // never answers; the connection is cut when the file's tests end
  const exp = Math.floor(Date.now() / 1000) + VENDOR_TTL_SECONDS;
  const token = new UnsecuredJWT({ user: userId, n: randomBytes(4).toString('hex') }).setExpirationTime(exp).encode();
  vendorTokens.set(userId, { token, exp });
  res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify({ token }));
});

const exchangeEnv = {
  SESSION_SECRET,
  VENDOR_TOKEN_URL: `${vendorOrigin}/devapi/v4/core/login/token`,
  VENDOR_API_KEY,
  WIDGET_TIMEOUT_MS: String(TIMEOUT_MS),
};

// --- signing keys, made for this run ---------------------------------------------------------------------------------

const ISSUER = 'https://host.example';
const AUDIENCE = 'vendor.example';

interface SigningCase {
  name: string;
  alg: 'HS256' | 'ES256' | 'RS256';
  key: string;
  verifyKey: CryptoKey | Uint8Array;
}

const es256 = await generateKeyPair('ES256', { extractable: true });
const es256Jwk = await generateKeyPair('ES256', { extractable: true });
const rs256 = await generateKeyPair('RS256', { extractable: true });
const hs256Secret = randomBytes(32).toString('hex');
const signingCases: SigningCase[] = [
  {
    name: 'HS256, a 64-character secret',
    alg: 'HS256',
    key: hs256Secret,
    verifyKey: new TextEncoder().encode(hs256Secret),
  },
  { name: 'ES256, a PKCS#8 PEM', alg: 'ES256', key: await exportPKCS8(es256.privateKey), verifyKey: es256.publicKey },
  {
    name: 'ES256, a private JWK as JSON',
    alg: 'ES256',
    key: JSON.stringify(await exportJWK(es256Jwk.privateKey)),
    verifyKey: es256Jwk.publicKey,
  },
  {
    name: 'RS256, a PKCS#8 PEM of 2048 bits',
    alg: 'RS256',
    key: await exportPKCS8(rs256.privateKey),
    verifyKey: rs256.publicKey,
  },
];
const wrongCurvePem = await exportPKCS8((await generateKeyPair('ES384', { extractable: true })).privateKey);
/** A piece of each private key: none may show in an answer or a log line. */
const keySecrets = [
  hs256Secret,
  (JSON.parse(signingCases[2]!.key) as { d: string }).d,
  ...[signingCases[1]!.key, signingCases[3]!.key, wrongCurvePem].map((pem) => pem.split('\n')[1]!),
];

function signingEnv(alg: string, key: string): Record<string, string> {
  return {
    SESSION_SECRET,
    WIDGET_SIGNING_KEY: key,
    WIDGET_SIGNING_ALG: alg,
    WIDGET_ISSUER: ISSUER,
    WIDGET_AUDIENCE: AUDIENCE,
  };
}

// --- asking ----------------------------------------------------------------------------------------------------------

interface Answer {
  status: number;
  headers: Headers;
  json: any;
}

async function ask(origin: string, init: RequestInit & { user?: string } = {}): Promise<Answer> {
  const { user, ...rest } = init;
  const headers = new Headers(rest.headers);
  if (user) headers.set('cookie', sessionCookie(user));
  const response = await fetch(`${origin}${ENDPOINT}`, { ...rest, headers, signal: AbortSignal.timeout(10_000) });
  const text = await response.text();
  for (const secret of [...SECRETS, ...keySecrets]) assert.ok(!text.includes(secret), 'an answer shows a secret');
  const isJson = response.headers.get('content-type')?.startsWith('application/json');
  return { status: response.status, headers: response.headers, json: isJson ? JSON.parse(text) : text };
}

function assertError(answer: Answer, status: number, code: string): void {
  assert.equal(
    answer.status,
    status,
    `expected ${status} ${code}, got ${answer.status} ${JSON.stringify(answer.json)}`,
  );
  assert.equal(answer.json?.error?.code, code);
  assertNoStore(answer.headers);
}

function assertNoStore(headers: Headers): void {
  assert.equal(headers.get('content-type'), 'application/json; charset=utf-8');
  assert.equal(headers.get('cache-control'), 'no-store');
  assert.equal(headers.get('pragma'), 'no-cache');
  assert.equal(headers.get('x-content-type-options'), 'nosniff');
  const date = Date.parse(headers.get('date') ?? '');
  assert.ok(Math.abs(date - Date.now()) < 60_000, `Date header ${headers.get('date')}`);
}

/** The server's log, once it holds `line`: output from workerd can arrive after the answer it is about. */
async function logged(server: RunningExample, line: RegExp): Promise<string> {
  const deadline = performance.now() + 5_000;
  while (!line.test(server.output())) {
    if (performance.now() > deadline) assert.fail(`the log never matched ${line}:\n${server.output()}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return server.output();
}

async function verifySigned(token: string, { alg, verifyKey }: SigningCase, userId: string): Promise<JWTPayload> {
  const { payload, protectedHeader } = await jwtVerify(token, verifyKey, {
    algorithms: [alg],
    issuer: ISSUER,
    audience: AUDIENCE,
  });
  assert.equal(protectedHeader.alg, alg);
  assert.equal(payload.sub, userId);
  return payload;
}

// --- the runtimes ----------------------------------------------------------------------------------------------------

const RUNTIMES: Array<[Runtime, string]> = [
  ['node', 'node.js'],
  ['deno', 'deno.js'],
  ['bun', 'bun.js'],
  ['workerd', 'worker.js'],
];

describe('the built server entry is there to be served, and docs/server.md shows the files served', () => {
  it('dist/server.js exists (npm run build)', () => {
    assert.ok(existsSync(DIST_SERVER), 'dist/server.js is missing: run `npm run build` before this test');
  });

  it('docs/server.md shows each runtime’s example as it is in demo/examples/runtimes/', () => {
    const docs = readFileSync(path.join(ROOT, 'docs/server.md'), 'utf8');
    for (const example of ['node.js', 'nextjs-route.js', 'hono.js', 'worker.js', 'deno.js', 'bun.js']) {
      const code = readFileSync(path.join(EXAMPLES_DIR, example), 'utf8').trimEnd();
      assert.ok(docs.includes(`\`\`\`js\n${code}\n\`\`\``), `docs/server.md does not show ${example} as it is`);
    }
  });
});

for (const [runtime, example] of RUNTIMES) {
  const reason = whyNot(runtime, installed);
  // Never silently: the reason goes to the output as well as into the skip.
  if (reason) console.log(`# ${runtime}: skipped, ${reason}`);
  const name = reason ? runtime : `${runtime} (${versionOf(runtime)})`;

  describe(`${name} serves demo/examples/runtimes/${example}`, { skip: reason ?? false, timeout: 120_000 }, () => {
    describe('exchanging an API key at the vendor', () => {
      let server: RunningExample;
      before(async () => {
        server = await startExample(runtime, example, exchangeEnv);
      });
      after(() => server?.stop());

      it('200 with the vendor’s token, its expiry and the no-store headers; POST too, from the cache', async () => {
        const user = `u1-${runtime}`;
        const answer = await ask(server.origin, { user });
        assert.equal(answer.status, 200, JSON.stringify(answer.json));
        const issued = vendorTokens.get(user)!;
        assert.deepEqual(answer.json, { embedToken: issued.token, expiresAt: issued.exp });
        assertNoStore(answer.headers);
        const again = await ask(server.origin, { user, method: 'POST' });
        assert.equal(again.status, 200);
        assert.equal(again.json.embedToken, issued.token);
        assert.equal(vendorCalls.get(user), 1, 'the second request asked the vendor again');
      });

      it('401 without a session, or with a forged one', async () => {
        assertError(await ask(server.origin), 401, 'unauthorized');
        const forged = { headers: { cookie: sessionCookie('u1', 'not-the-session-secret') } };
        assertError(await ask(server.origin, forged), 401, 'unauthorized');
      });

      it('403 for another site’s request, before the vendor is asked', async () => {
        const calls = vendorCalls.get('u-elsewhere') ?? 0;
        const headers = { 'Sec-Fetch-Site': 'cross-site', Origin: 'https://elsewhere.example' };
        assertError(await ask(server.origin, { user: 'u-elsewhere', headers }), 403, 'cross-site');
        assert.equal(vendorCalls.get('u-elsewhere') ?? 0, calls);
      });

      it('405 for PUT, with Allow: GET, POST', async () => {
        const answer = await ask(server.origin, { user: 'u1', method: 'PUT' });
        assertError(answer, 405, 'method-not-allowed');
        assert.equal(answer.headers.get('allow'), 'GET, POST');
      });

      it('413 for a body over 1 KiB', async () => {
        assertError(
          await ask(server.origin, { user: 'u1', method: 'POST', body: 'x'.repeat(2048) }),
          413,
          'payload-too-large',
        );
      });

      it(`429 with Retry-After once one user has made ${RATE_LIMIT} requests`, async () => {
        // The bucket refills one request every 2 s: a slow machine may see one or two more go through first.
        let allowed = 0;
        let answer = await ask(server.origin, { user: `u-busy-${runtime}` });
        for (; answer.status === 200 && allowed < RATE_LIMIT + 10; allowed++) {
          answer = await ask(server.origin, { user: `u-busy-${runtime}` });
        }
        assertError(answer, 429, 'rate-limited');
        assert.ok(allowed >= RATE_LIMIT, `refused after ${allowed} requests`);
        assert.ok(Number(answer.headers.get('retry-after')) >= 1, `Retry-After ${answer.headers.get('retry-after')}`);
      });

      it('502 vendor-failed when the vendor answers 500, logged with its status', async () => {
        assertError(await ask(server.origin, { user: 'vendor-down' }), 502, 'vendor-failed');
        await logged(server, /token request failed: vendor-http \(vendor status 500\)/);
      });

      it(`504 vendor-timeout when the vendor does not answer within ${TIMEOUT_MS} ms, logged so`, async () => {
        const started = performance.now();
        assertError(await ask(server.origin, { user: 'vendor-slow' }), 504, 'vendor-timeout');
        assert.ok(performance.now() - started >= TIMEOUT_MS - 50, 'answered before the deadline');
        await logged(server, new RegExp(`token request failed: vendor-timeout: .*within ${TIMEOUT_MS} ms`));
      });

      it('prints no secret', () => {
        for (const secret of SECRETS) assert.ok(!server.output().includes(secret), 'the output shows a secret');
      });
    });

    describe('signing the token itself', () => {
      for (const signing of signingCases) {
        it(`${signing.name}: 200, verified with the public key`, async () => {
          const server = await startExample(runtime, example, signingEnv(signing.alg, signing.key));
          try {
            const answer = await ask(server.origin, { user: 'u7' });
            assert.equal(answer.status, 200, `${JSON.stringify(answer.json)}\n${server.output()}`);
            const payload = await verifySigned(answer.json.embedToken, signing, 'u7');
            assert.equal(answer.json.expiresAt, payload.exp);
          } finally {
            await server.stop();
          }
        });
      }

      it('a key on the wrong curve: 502 issuer-failed, the log line naming the key’s problem and not the key', async () => {
        const server = await startExample(runtime, example, signingEnv('ES256', wrongCurvePem));
        try {
          assertError(await ask(server.origin, { user: 'u7' }), 502, 'issuer-failed');
          const output = await logged(
            server,
            /token request failed: issuer-key: signToken: options\.key is not an EC private key on P-256/,
          );
          for (const secret of keySecrets) assert.ok(!output.includes(secret), 'the log shows the key');
        } finally {
          await server.stop();
        }
      });
    });
  });
}

// --- the framework examples ------------------------------------------------------------------------------------------

const bunReason = whyNot('bun', installed);
describe('the Hono example (on Bun)', { skip: bunReason ?? false, timeout: 60_000 }, () => {
  let server: RunningExample;
  before(async () => {
    server = await startExample('bun', 'hono.js', exchangeEnv);
  });
  after(() => server?.stop());

  it('answers GET and POST with the token, and leaves other methods to the handler (405)', async () => {
    const get = await ask(server.origin, { user: 'u-hono' });
    assert.equal(get.status, 200, JSON.stringify(get.json));
    assert.equal(get.json.embedToken, vendorTokens.get('u-hono')!.token);
    assert.equal((await ask(server.origin, { user: 'u-hono', method: 'POST' })).json.embedToken, get.json.embedToken);
    assertError(await ask(server.origin, { user: 'u-hono', method: 'PUT' }), 405, 'method-not-allowed');
    assertError(await ask(server.origin), 401, 'unauthorized');
  });
});

describe('the Next.js Route Handler example (in this process, as Next.js calls it)', () => {
  it('exports GET and POST, which answer with the token; the handler is made on the first request', async () => {
    const saved = { ...process.env };
    // `next build` loads the module without the secrets: importing it must not need them.
    for (const name of Object.keys(exchangeEnv)) delete process.env[name];
    const route = (await import(pathToFileURL(path.join(EXAMPLES_DIR, 'nextjs-route.js')).href)) as Record<
      string,
      (request: Request) => Promise<Response>
    >;
    Object.assign(process.env, exchangeEnv);
    try {
      assert.deepEqual(Object.keys(route).sort(), ['GET', 'POST']);
      for (const method of ['GET', 'POST'] as const) {
        const request = new Request(`http://localhost${ENDPOINT}`, {
          method,
          headers: { cookie: sessionCookie('u-next') },
        });
        const response = await route[method]!(request);
        assert.equal(response.status, 200);
        assert.equal(((await response.json()) as { embedToken: string }).embedToken, vendorTokens.get('u-next')!.token);
      }
      assert.equal(vendorCalls.get('u-next'), 1);
    } finally {
      process.env = saved;
    }
  });
});
