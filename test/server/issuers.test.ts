import assert from 'node:assert/strict';
import { createPrivateKey, generateKeyPairSync, randomBytes } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, describe, it } from 'node:test';
import { inspect } from 'node:util';
import {
  SignJWT,
  decodeJwt,
  decodeProtectedHeader,
  exportJWK,
  exportPKCS8,
  exportSPKI,
  generateKeyPair,
  jwtVerify,
} from 'jose';
import type { CryptoKey as JoseCryptoKey, JWK } from 'jose';
import { MAX_TOKEN_LENGTH } from '../../src/protocol/limits.js';
import { TokenIssueError, accessKeyExchange, signToken, tokenExchange } from '../../src/server/index.js';
import type { IssuedToken, SignTokenOptions, SigningAlgorithm, TokenIssuer } from '../../src/server/index.js';

const API_KEY = 'qk_live_4f9c2e7a1b8d3e6f';
const signal = () => new AbortController().signal;

/** The error, its cause chain and its stack as anyone might print them; none may hold a secret. */
function assertHidesSecrets(error: unknown, secrets: readonly string[]): void {
  const views = [String(error), (error as Error | null)?.stack ?? '', inspect(error, { depth: 10, showHidden: true })];
  for (const secret of secrets) {
    for (const view of views) assert.ok(!view.includes(secret), 'an error shows a secret');
  }
}

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => assert.fail('expected a rejection'),
    (error: unknown) => error,
  );
}

function refusal(construct: () => unknown): TypeError {
  try {
    construct();
  } catch (error) {
    assert.ok(error instanceof TypeError, `expected a TypeError, got ${String(error)}`);
    return error;
  }
  return assert.fail('expected a TypeError');
}

// --- the fake vendor -----------------------------------------------------------------------------------------------

interface VendorCall {
  method: string | undefined;
  url: string | undefined;
  headers: http.IncomingHttpHeaders;
  body: string;
}

type VendorBehaviour = (req: http.IncomingMessage, res: http.ServerResponse, body: string) => void;

let vendorBehaviour: VendorBehaviour = (_req, res) => res.end();
let vendorCalls: VendorCall[] = [];
let onVendorCall: (() => void) | undefined;

const vendor = http.createServer(async (req, res) => {
  let body = '';
  for await (const chunk of req) body += chunk;
  vendorCalls.push({ method: req.method, url: req.url, headers: req.headers, body });
  onVendorCall?.();
  vendorBehaviour(req, res, body);
});
await new Promise<void>((resolve) => vendor.listen(0, '127.0.0.1', resolve));
const vendorOrigin = `http://127.0.0.1:${(vendor.address() as AddressInfo).port}`;
const tokenUrl = `${vendorOrigin}/token`;

after(async () => {
  vendor.closeAllConnections();
  await new Promise<void>((resolve) => vendor.close(() => resolve()));
});

function answerJson(status: number, body: unknown): VendorBehaviour {
  return (_req, res) => {
    res.writeHead(status, { 'Content-Type': 'application/json' });
    res.end(JSON.stringify(body));
  };
}

function freshVendor(behaviour: VendorBehaviour): void {
  vendorBehaviour = behaviour;
  vendorCalls = [];
}

// --- tokenExchange -------------------------------------------------------------------------------------------------

describe('tokenExchange sends what it is configured to send', () => {
  it('posts the headers and the JSON body made from the user', async () => {
    freshVendor(answerJson(200, { token: 'opaque-token' }));
    const issue = tokenExchange({
      url: tokenUrl,
      headers: { 'x-api-key': API_KEY, 'X-Tenant': 'acme' },
      body: (user: { id: string }) => ({ userId: user.id, scope: ['read'] }),
    });
    assert.deepEqual(await issue({ id: 'u1' }, { signal: signal() }), { token: 'opaque-token' });
    assert.equal(vendorCalls.length, 1);
    const [call] = vendorCalls;
    assert.equal(call!.method, 'POST');
    assert.equal(call!.url, '/token');
    assert.equal(call!.headers['x-api-key'], API_KEY);
    assert.equal(call!.headers['x-tenant'], 'acme');
    assert.equal(call!.headers['content-type'], 'application/json');
    assert.equal(call!.headers.accept, 'application/json');
    assert.deepEqual(JSON.parse(call!.body), { userId: 'u1', scope: ['read'] });
  });

  it('awaits an async body', async () => {
    freshVendor(answerJson(200, { token: 't' }));
    const issue = tokenExchange({ url: tokenUrl, body: async (user: string) => ({ user }) });
    await issue('u2', { signal: signal() });
    assert.deepEqual(JSON.parse(vendorCalls[0]!.body), { user: 'u2' });
  });

  it('sends no body and no Content-Type without a body option', async () => {
    freshVendor(answerJson(200, { token: 't' }));
    await tokenExchange({ url: tokenUrl })(undefined, { signal: signal() });
    assert.equal(vendorCalls[0]!.body, '');
    assert.equal(vendorCalls[0]!.headers['content-type'], undefined);
  });

  it('finds the token with pick, and reads a JWT’s exp', async () => {
    const iat = Math.floor(Date.now() / 1000);
    const jwt = await new SignJWT({})
      .setProtectedHeader({ alg: 'HS256' })
      .setIssuedAt(iat)
      .setExpirationTime(iat + 60)
      .sign(randomBytes(32));
    freshVendor(answerJson(200, { result: { access: jwt } }));
    const issue = tokenExchange({
      url: tokenUrl,
      pick: (json) => (json as { result: { access: string } }).result.access,
    });
    assert.deepEqual(await issue(undefined, { signal: signal() }), { token: jwt, expiresAt: iat + 60 });
  });

  it('takes the expiry pick returns beside an opaque token', async () => {
    freshVendor(answerJson(200, { access_token: 'opaque', expires_at: 1_900_000_000 }));
    const issue = tokenExchange({
      url: tokenUrl,
      pick: (json) => {
        const { access_token, expires_at } = json as { access_token: string; expires_at: number };
        return { token: access_token, expiresAt: expires_at };
      },
    });
    assert.deepEqual(await issue(undefined, { signal: signal() }), { token: 'opaque', expiresAt: 1_900_000_000 });
  });

  it('reads what pick returns as an issuer’s answer: expiresIn, and junk hints ignored', async () => {
    freshVendor(answerJson(200, { access_token: 'opaque', expires_in: 600 }));
    const before = Math.floor(Date.now() / 1000);
    const issue = tokenExchange({
      url: tokenUrl,
      pick: (json) => ({ token: (json as { access_token: string }).access_token, expiresIn: 600 }),
    });
    const { expiresAt } = await issue(undefined, { signal: signal() });
    assert.ok(expiresAt! >= before + 600 && expiresAt! <= before + 601, `expiresAt ${expiresAt}`);

    const junk = tokenExchange({ url: tokenUrl, pick: () => ({ token: 't', expiresAt: 'soon', expiresIn: -1 }) });
    assert.deepEqual(await junk(undefined, { signal: signal() }), { token: 't' });
  });
});

describe('the Qrvey configuration of tokenExchange', () => {
  it('sends x-api-key and {userId, appId}, and returns json.token', async () => {
    freshVendor((req, res, body) => {
      const { userId, appId } = JSON.parse(body) as { userId: string; appId: string };
      const ok = req.headers['x-api-key'] === API_KEY && userId === 'u7' && appId === 'app_42';
      answerJson(ok ? 200 : 401, ok ? { token: 'qrvey-token-for-u7' } : { error: 'no' })(req, res, body);
    });
    // As in docs/server-issuers.md.
    const issue = tokenExchange({
      url: `${vendorOrigin}/devapi/v4/core/login/token`,
      headers: { 'x-api-key': API_KEY },
      body: (user: { id: string }) => ({ userId: user.id, appId: 'app_42' }),
    });
    assert.deepEqual(await issue({ id: 'u7' }, { signal: signal() }), { token: 'qrvey-token-for-u7' });
    assert.equal(vendorCalls[0]!.url, '/devapi/v4/core/login/token');
  });
});

describe('tokenExchange gives each vendor failure its own code and never shows a secret', () => {
  const secretBody = (user: { id: string }) => ({ userId: user.id, password: 'body-secret-92c1' });
  const exchange = () => tokenExchange({ url: tokenUrl, headers: { 'x-api-key': API_KEY }, body: secretBody });
  const secrets = [API_KEY, 'body-secret-92c1'];

  const echo = (req: http.IncomingMessage, body: string) => `<html>${body} ${req.headers['x-api-key']}`;
  const failures: Array<[string, VendorBehaviour, string, number | undefined]> = [
    ['an HTTP error echoing it', (req, res, body) => res.writeHead(403).end(echo(req, body)), 'vendor-http', 403],
    ['a server error', (_req, res) => res.writeHead(500).end(), 'vendor-http', 500],
    ['a redirect', (_req, res) => res.writeHead(307, { Location: '/elsewhere' }).end(), 'vendor-http', 307],
    ['a non-JSON body echoing it', (req, res, body) => res.end(echo(req, body)), 'vendor-response', 200],
    ['JSON without a token', answerJson(200, { data: { echo: API_KEY } }), 'vendor-response', 200],
    ['an empty token', answerJson(200, { token: '  ' }), 'vendor-response', 200],
    ['a dropped connection', (req) => req.socket.destroy(), 'vendor-network', undefined],
  ];
  for (const [name, behaviour, code, status] of failures) {
    it(`${name} → ${code}`, async () => {
      freshVendor(behaviour);
      const error = await rejection(exchange()({ id: 'u1' }, { signal: signal() }));
      assert.ok(error instanceof TokenIssueError);
      assert.equal(error.code, code);
      assert.equal(error.status, status);
      assertHidesSecrets(error, secrets);
    });
  }

  it('does not follow a redirect, so the secrets go nowhere else', async () => {
    freshVendor((_req, res) => res.writeHead(308, { Location: '/elsewhere' }).end());
    await rejection(exchange()({ id: 'u1' }, { signal: signal() }));
    assert.deepEqual(
      vendorCalls.map((call) => call.url),
      ['/token'],
    );
  });

  it('a body that is not JSON gives no cause (the parser would quote it)', async () => {
    freshVendor((_req, res, body) => res.end(`not json ${body}`));
    const error = await rejection(exchange()({ id: 'u1' }, { signal: signal() }));
    assert.ok(error instanceof TokenIssueError);
    assert.equal(error.cause, undefined);
  });

  it('a pick that throws → vendor-response', async () => {
    freshVendor(answerJson(200, { token: 't' }));
    const issue = tokenExchange({
      url: tokenUrl,
      pick: () => {
        throw new Error('shape changed');
      },
    });
    const error = await rejection(issue(undefined, { signal: signal() }));
    assert.ok(error instanceof TokenIssueError);
    assert.equal(error.code, 'vendor-response');
  });

  it('a token over 16 KiB → vendor-response', async () => {
    freshVendor(answerJson(200, { token: 'x'.repeat(MAX_TOKEN_LENGTH + 1) }));
    const error = await rejection(exchange()({ id: 'u1' }, { signal: signal() }));
    assert.ok(error instanceof TokenIssueError);
    assert.equal(error.code, 'vendor-response');
    assert.equal(error.status, 200);
  });

  it('a deadline on the caller’s signal (a TimeoutError, as the handler’s) → vendor-timeout', async () => {
    freshVendor(() => {}); // never answers
    const deadline = new AbortController();
    const called = new Promise<void>((resolve) => (onVendorCall = resolve));
    const pending = rejection(exchange()({ id: 'u1' }, { signal: deadline.signal }));
    await called;
    onVendorCall = undefined;
    deadline.abort(new DOMException('The token issuer did not answer within 200 ms.', 'TimeoutError'));
    const error = await pending;
    assert.ok(error instanceof TokenIssueError);
    assert.equal(error.code, 'vendor-timeout');
    assert.equal(error.status, undefined);
    assertHidesSecrets(error, secrets);
  });

  it('AbortSignal.timeout on the caller’s signal → vendor-timeout', async () => {
    freshVendor(() => {});
    const error = await rejection(exchange()({ id: 'u1' }, { signal: AbortSignal.timeout(50) }));
    assert.ok(error instanceof TokenIssueError);
    assert.equal(error.code, 'vendor-timeout');
  });

  it('with a signal, it runs no timer of its own: the signal is the deadline', async (t) => {
    freshVendor(() => {});
    const deadline = AbortSignal.timeout(100);
    const timers = t.mock.method(AbortSignal, 'timeout');
    const error = await rejection(exchange()({ id: 'u1' }, { signal: deadline }));
    assert.ok(error instanceof TokenIssueError);
    assert.equal(error.code, 'vendor-timeout');
    assert.equal(timers.mock.callCount(), 0);
  });

  it('without a signal, a call gets 5 s', async (t) => {
    freshVendor(() => {});
    // The 5 s deadline, made to pass at once: its length is what is asserted, not waited for.
    const timers = t.mock.method(AbortSignal, 'timeout', () =>
      AbortSignal.abort(new DOMException('late', 'TimeoutError')),
    );
    const error = await rejection(exchange()({ id: 'u1' }, undefined as never));
    assert.ok(error instanceof TokenIssueError);
    assert.equal(error.code, 'vendor-timeout');
    assert.deepEqual(
      timers.mock.calls.map((call) => call.arguments),
      [[5000]],
    );
  });

  it('a caller that gives up gets its own AbortError back, untouched', async () => {
    freshVendor(() => {});
    const caller = new AbortController();
    const called = new Promise<void>((resolve) => (onVendorCall = resolve));
    const pending = rejection(exchange()({ id: 'u1' }, { signal: caller.signal }));
    await called;
    onVendorCall = undefined;
    caller.abort();
    const error = await pending;
    assert.ok(!(error instanceof TokenIssueError));
    assert.equal((error as Error).name, 'AbortError');
    assert.equal(error, caller.signal.reason);
  });

  it('a caller that gave up before the call makes no call', async () => {
    freshVendor(answerJson(200, { token: 't' }));
    const error = await rejection(exchange()({ id: 'u1' }, { signal: AbortSignal.abort() }));
    assert.equal((error as Error).name, 'AbortError');
    assert.equal(vendorCalls.length, 0);
  });
});

describe('tokenExchange checks its options at construction', () => {
  const rejected: Array<[string, Record<string, unknown>, RegExp]> = [
    ['plain http to a remote host', { url: `http://vendor.example/token?api_key=${API_KEY}` }, /url/],
    ['credentials in the URL', { url: `https://user:${API_KEY}@vendor.example/token` }, /url/],
    ['a relative URL', { url: '/token' }, /url/],
    ['a header value that is not a string', { headers: { 'x-api-key': 42 } }, /x-api-key/],
    ['a header value with a line break', { headers: { 'x-api-key': `${API_KEY}\r\nX-Evil: 1` } }, /x-api-key/],
    ['a header name that is not a token', { headers: { [`bad name ${API_KEY}`]: 'v' } }, /headers/],
    ['a placeholder API key header', { headers: { 'x-api-key': 'YOUR_API_KEY' } }, /x-api-key.*placeholder/],
    ['a placeholder bearer token', { headers: { Authorization: 'Bearer <token>' } }, /Authorization/],
    ['an empty secret header', { headers: { 'X-Auth-Token': '' } }, /X-Auth-Token/],
    ['a body that is not a function', { body: { userId: 'u1' } }, /body/],
    ['a pick that is not a function', { pick: 'token' }, /pick/],
    ['an unexpanded template as an API key', { headers: { 'x-api-key': '${QRVEY_API_KEY}' } }, /x-api-key.*template/],
    [
      'a Helm template as a bearer token',
      { headers: { Authorization: 'Bearer {{ .Values.token }}' } },
      /Authorization/,
    ],
    [
      'an unexpanded template in the URL',
      { url: 'https://${QRVEY_DOMAIN}/devapi/v4/core/login/token' },
      /url.*template/,
    ],
    [
      'an option it does not know',
      { header: { 'x-api-key': API_KEY } },
      /options\.header is not an option; did you mean headers\?/,
    ],
  ];
  for (const [name, override, message] of rejected) {
    it(`refuses ${name}, naming the option and not the secret`, () => {
      const error = refusal(() => tokenExchange({ url: 'https://vendor.example/token', ...override } as never));
      assert.match(error.message, message);
      assert.match(error.message, /^tokenExchange: /);
      assertHidesSecrets(error, [API_KEY]);
    });
  }

  // Deprecated, then refused rather than ignored: inside the handler it never applied (a 504 came after 5 s, not 300 ms).
  for (const timeoutMs of [300, 0, 10_000]) {
    it(`refuses the exchange's own timeoutMs (${timeoutMs}), naming the handler's timeoutMs and AbortSignal.timeout`, () => {
      for (const construct of [
        () => tokenExchange({ url: 'https://vendor.example/token', timeoutMs } as never),
        () =>
          accessKeyExchange({
            url: 'https://vendor.example/token',
            accessId: 'a1',
            accessKey: API_KEY,
            timeoutMs,
          } as never),
      ]) {
        const error = refusal(construct);
        assert.match(error.message, /options\.timeoutMs is no longer read/);
        assert.match(error.message, /createTokenHandler\(\{ timeoutMs \}\)/);
        assert.match(error.message, /AbortSignal\.timeout\(ms\)/);
      }
    });
  }

  it('leaves headers that carry no credential alone, whatever they hold', () => {
    const headers = { 'X-Version': '1', 'X-Env': 'test' };
    assert.equal(typeof tokenExchange({ url: 'https://vendor.example/token', headers }), 'function');
  });

  it('lets a header replace a default whatever its case', async () => {
    freshVendor(answerJson(200, { token: 't' }));
    const headers = { 'content-type': 'application/vnd.api+json' };
    const issue = tokenExchange({ url: tokenUrl, headers, body: () => ({}) });
    await issue(undefined, { signal: signal() });
    assert.equal(vendorCalls[0]!.headers['content-type'], 'application/vnd.api+json');
  });
});

// --- placeholders --------------------------------------------------------------------------------------------------

describe('accessKeyExchange refuses a placeholder access key at construction', () => {
  const base = { url: 'https://vendor.example/token', accessId: 'acc_1' };
  const placeholders = [
    '',
    '   ',
    'change-me',
    'changeme',
    'CHANGE_ME',
    'ChangeMe',
    'change_this',
    'replace-me',
    'REPLACE_ME',
    'your_private_api_key',
    'your-access-key',
    'YOUR_API_KEY',
    'YourAccessKey',
    'yourApiKey',
    '<access key>',
    '<YOUR_ACCESS_KEY>',
    '[your key here]',
    'insert-your-key-here',
    'paste your access key here',
    'xxx',
    'xxx…',
    'XXXX-XXXX-XXXX-XXXX',
    'sk_live_xxxxxxxxxxxxxxxx',
    '********',
    '0000000000000000',
    'TODO',
    'secret',
    'example',
    'placeholder',
    'access_key',
    '${ACCESS_KEY}',
    // Unexpanded templates, whatever the variable is called: the name's words are no placeholder's.
    '${QRVEY_API_KEY}',
    '${process.env.RETURNING_AI_KEY}',
    '${{ secrets.RETURNING_AI_KEY }}',
    '{{ .Values.returningAi.accessKey }}',
    '$RETURNING_AI_KEY',
    '<returning ai access key>',
    '{{accessKey}}',
    '%ACCESS_KEY%',
    'undefined',
    'null',
  ];
  // One message for every placeholder: nothing of the value can be in it.
  const placeholderMessage = refusal(() => accessKeyExchange({ ...base, accessKey: 'TODO' })).message;
  for (const accessKey of placeholders) {
    it(`refuses ${JSON.stringify(accessKey)} naming accessKey, not quoting it`, () => {
      const error = refusal(() => accessKeyExchange({ ...base, accessKey }));
      assert.match(error.message, /options\.accessKey/);
      if (accessKey.trim() !== '') assert.equal(error.message, placeholderMessage);
    });
  }

  it('refuses an unexpanded template as the access id, naming accessId', () => {
    const error = refusal(() => accessKeyExchange({ ...base, accessId: '${RETURNING_AI_ID}', accessKey: API_KEY }));
    assert.match(error.message, /options\.accessId is an unexpanded template/);
  });

  const realKeys = [
    'sk_live_very_secret_value',
    'demo-access-key-0123456789abcdef',
    randomBytes(32).toString('base64url'),
    randomBytes(16).toString('hex'),
    '550e8400-e29b-41d4-a716-446655440000',
  ];
  for (const accessKey of realKeys) {
    it(`accepts a real-looking key like ${accessKey.slice(0, 12)}…`, () => {
      assert.equal(typeof accessKeyExchange({ ...base, accessKey }), 'function');
    });
  }

  it('accepts every one of 2000 random keys', () => {
    for (let i = 0; i < 2000; i++) {
      const accessKey = randomBytes(8 + (i % 40)).toString(i % 2 ? 'base64url' : 'base64');
      assert.doesNotThrow(() => accessKeyExchange({ ...base, accessKey }), `refused a random key`);
    }
  });
});

// --- signToken -----------------------------------------------------------------------------------------------------

const HS256_SECRET = 'a-real-hs256-secret-of-thirty-two-bytes!';
const NOW_MS = Date.UTC(2025, 5, 1, 12, 0, 0);
const NOW_S = NOW_MS / 1000;

const rsa = await generateKeyPair('RS256', { extractable: true });
const ec = await generateKeyPair('ES256', { extractable: true });
const ed = await generateKeyPair('EdDSA', { extractable: true });
const nodeRsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
// jose refuses to generate a key this weak; node:crypto does not.
const weakRsa = generateKeyPairSync('rsa', { modulusLength: 1024 });
const p384 = generateKeyPairSync('ec', { namedCurve: 'P-384' });
const nodeEc = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const sec1Pem = nodeEc.privateKey.export({ type: 'sec1', format: 'pem' }) as string;
const ecPem = await exportPKCS8(ec.privateKey);
const ecJwk = await exportJWK(ec.privateKey);
const edJwk = await exportJWK(ed.privateKey);
const edPem = await exportPKCS8(ed.privateKey);
const b64url = (bytes: Uint8Array) => Buffer.from(bytes).toString('base64url');
const pem = (key: KeyObject) => key.export({ type: 'pkcs8', format: 'pem' }) as string;
const pssOnly = generateKeyPairSync('rsa-pss', { modulusLength: 2048 });
const pkcs1Pem = nodeRsa.privateKey.export({ type: 'pkcs1', format: 'pem' }) as string;
const encrypted = { format: 'pem', cipher: 'aes-256-cbc', passphrase: 'pem-passphrase' } as const;
const encryptedPem = nodeRsa.privateKey.export({ type: 'pkcs8', ...encrypted }) as string;
const encryptedPkcs1Pem = nodeRsa.privateKey.export({ type: 'pkcs1', ...encrypted }) as string;
const weakRsaPem = pem(weakRsa.privateKey);
const corruptPem = `-----BEGIN PRIVATE KEY-----\n${Buffer.from('not a key at all').toString('base64')}\n-----END PRIVATE KEY-----`;
const weakRsaJwk = weakRsa.privateKey.export({ format: 'jwk' }) as JWK;
const rsaPem = await exportPKCS8(rsa.privateKey);
const rsaJwk = await exportJWK(rsa.privateKey);
const rsaPublicPem = await exportSPKI(rsa.publicKey);
/** Pieces of the private keys that must never show up in an error. */
const keySecrets = [
  weakRsaPem.split('\n')[5]!,
  weakRsaJwk.d!,
  rsaPem.split('\n')[5]!,
  rsaJwk.d!,
  rsaJwk.p!,
  pkcs1Pem.split('\n')[5]!,
  HS256_SECRET,
];

function sign<User = { id: string }>(overrides: Partial<SignTokenOptions<User>> = {}): TokenIssuer<User, IssuedToken> {
  return signToken<User>({
    key: HS256_SECRET,
    alg: 'HS256',
    issuer: 'https://host.example',
    audience: 'vendor',
    now: () => NOW_MS,
    ...overrides,
  });
}

describe('signToken mints a token the vendor can verify', () => {
  type VerifyKey = KeyObject | JoseCryptoKey | Uint8Array;
  const cases: Array<[string, SigningAlgorithm, SignTokenOptions<unknown>['key'], VerifyKey]> = [
    ['an HS256 string secret', 'HS256', HS256_SECRET, new TextEncoder().encode(HS256_SECRET)],
    ['an HS512 byte secret', 'HS512', new Uint8Array(64).fill(7), new Uint8Array(64).fill(7)],
    ['an RS256 CryptoKey', 'RS256', rsa.privateKey, rsa.publicKey],
    ['an RS256 PEM string', 'RS256', rsaPem, rsa.publicKey],
    [
      'an RS256 PEM whose line breaks came through a one-line variable as \\n',
      'RS256',
      rsaPem.replace(/\n/g, '\\n'),
      rsa.publicKey,
    ],
    [
      "an RS256 PEM with text around it (openssl's Bag Attributes)",
      'RS256',
      `Bag Attributes\n${rsaPem}\n`,
      rsa.publicKey,
    ],
    ['an RS256 KeyObject read from a PKCS#1 PEM on Node', 'RS256', createPrivateKey(pkcs1Pem), nodeRsa.publicKey],
    ['an RS256 JWK', 'RS256', rsaJwk, rsa.publicKey],
    ['a PS256 KeyObject', 'PS256', nodeRsa.privateKey, nodeRsa.publicKey],
    ['an ES256 CryptoKey', 'ES256', ec.privateKey, ec.publicKey],
    ['an ES256 PEM string', 'ES256', ecPem, ec.publicKey],
    ['an ES256 JWK', 'ES256', ecJwk, ec.publicKey],
    ['an ES256 KeyObject read from a SEC1 PEM on Node', 'ES256', createPrivateKey(sec1Pem), nodeEc.publicKey],
    ['an Ed25519 CryptoKey', 'EdDSA', ed.privateKey, ed.publicKey],
    ['an Ed25519 JWK', 'EdDSA', edJwk, ed.publicKey],
    ['an Ed25519 PEM string', 'EdDSA', edPem, ed.publicKey],
  ];
  for (const [name, alg, key, verifyKey] of cases) {
    it(`with ${name}, verified with ${alg} pinned`, async () => {
      const issue = signToken({ key, alg, issuer: 'https://host.example', audience: 'vendor' });
      const { token } = await issue(undefined, { signal: signal() });
      const { protectedHeader } = await jwtVerify(token, verifyKey, {
        algorithms: [alg],
        issuer: 'https://host.example',
        audience: 'vendor',
      });
      assert.equal(protectedHeader.alg, alg);
    });
  }

  it('sets typ, kid, iss, aud, iat, exp, jti, sub and the user’s claims', async () => {
    const issue = sign<{ id: string; org: string }>({
      kid: 'key-2025-06',
      audience: ['metabase', 'backup'],
      subject: (user) => user.id,
      claims: (user) => ({ resource: { dashboard: 7 }, params: { org: user.org } }),
    });
    const issued = await issue({ id: 'u1', org: 'acme' }, { signal: signal() });
    const { payload, protectedHeader } = await jwtVerify(issued.token, new TextEncoder().encode(HS256_SECRET), {
      algorithms: ['HS256'],
      currentDate: new Date(NOW_MS),
    });
    assert.deepEqual(protectedHeader, { alg: 'HS256', typ: 'JWT', kid: 'key-2025-06' });
    assert.equal(payload.iss, 'https://host.example');
    assert.deepEqual(payload.aud, ['metabase', 'backup']);
    assert.equal(payload.sub, 'u1');
    assert.equal(payload.iat, NOW_S);
    assert.equal(payload.exp, NOW_S + 15 * 60);
    assert.match(String(payload.jti), /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    assert.deepEqual(payload.resource, { dashboard: 7 });
    assert.deepEqual(payload.params, { org: 'acme' });
    assert.deepEqual(issued, { token: issued.token, expiresAt: NOW_S + 15 * 60 });
  });

  it('gives every token its own jti', async () => {
    const issue = sign();
    const tokens = await Promise.all([1, 2, 3].map(() => issue({ id: 'u1' }, { signal: signal() })));
    const jtis = new Set(tokens.map(({ token }) => decodeJwt(token).jti));
    assert.equal(jtis.size, 3);
  });

  it('leaves kid out when none is given', async () => {
    const { token } = await sign()({ id: 'u1' }, { signal: signal() });
    assert.deepEqual(decodeProtectedHeader(token), { alg: 'HS256', typ: 'JWT' });
  });

  it('lives for ttl seconds, up to one hour', async () => {
    assert.equal((await sign({ ttl: 60 })({ id: 'u1' }, { signal: signal() })).expiresAt, NOW_S + 60);
    assert.equal((await sign({ ttl: 3600 })({ id: 'u1' }, { signal: signal() })).expiresAt, NOW_S + 3600);
  });

  it('does not touch the object claims returns (it can be a shared constant)', async () => {
    const claims = Object.freeze({ resource: { dashboard: 7 } });
    const issue = sign({ claims: () => claims });
    await issue({ id: 'u1' }, { signal: signal() });
    await issue({ id: 'u1' }, { signal: signal() });
    assert.deepEqual(claims, { resource: { dashboard: 7 } });
  });

  it('does not sign for a caller that gave up', async () => {
    const error = await rejection(sign()({ id: 'u1' }, { signal: AbortSignal.abort() }));
    assert.equal((error as Error).name, 'AbortError');
  });
});

describe('signToken rejects a call its own functions got wrong with issuer-misconfigured', () => {
  async function misconfigured(issue: TokenIssuer<{ id: string }>, message: RegExp): Promise<void> {
    const error = await rejection(issue({ id: 'u1' }, { signal: signal() }));
    assert.ok(error instanceof TokenIssueError, `expected a TokenIssueError, got ${String(error)}`);
    assert.equal(error.code, 'issuer-misconfigured');
    assert.match(error.message, /^signToken: /);
    assert.match(error.message, message);
    assertHidesSecrets(error, [...keySecrets, 'forged-value']);
  }

  for (const name of ['iss', 'sub', 'aud', 'exp', 'nbf', 'iat', 'jti']) {
    it(`claims that set "${name}", named but not quoted`, async () => {
      await misconfigured(sign({ claims: () => ({ [name]: 'forged-value' }) }), new RegExp(`"${name}"`));
    });
  }

  for (const [name, returned] of [
    ['null', null],
    ['an array', []],
    ['a string', 'forged-value'],
  ] as const) {
    it(`claims that return ${name}`, async () => {
      await misconfigured(sign({ claims: () => returned as never }), /options\.claims must return an object/);
    });
  }

  for (const [name, returned] of [
    ['a number', 42],
    ['an empty string', ''],
    ['undefined', undefined],
  ] as const) {
    it(`subject that returns ${name}`, async () => {
      await misconfigured(sign({ subject: () => returned as never }), /options\.subject must return/);
    });
  }
});

describe('signToken refuses weak or mismatched keys at construction', () => {
  const hmacCryptoKey = async (bits: number, hash = 'SHA-256') =>
    crypto.subtle.generateKey({ name: 'HMAC', hash, length: bits }, false, ['sign']);

  type Override = Partial<SignTokenOptions<unknown>>;
  const refused: Array<[string, () => Override | Promise<Override>, RegExp]> = [
    ['alg none', () => ({ alg: 'none' as never }), /options\.alg must be one of/],
    ['a missing alg', () => ({ alg: undefined as never }), /options\.alg/],
    ['an unknown alg', () => ({ alg: 'HS1' as never }), /options\.alg/],
    ['an HS256 secret of 31 bytes', () => ({ key: HS256_SECRET.slice(0, 31) }), /at least 32 bytes/],
    ['an HS384 secret of 47 bytes', () => ({ alg: 'HS384', key: randomBytes(47) }), /at least 48 bytes/],
    ['an HS512 secret of 63 bytes', () => ({ alg: 'HS512', key: randomBytes(63) }), /at least 64 bytes/],
    ['an HS256 CryptoKey of 31 bytes', async () => ({ key: await hmacCryptoKey(248) }), /at least 32 bytes/],
    ['an HS256 CryptoKey made for SHA-512', async () => ({ key: await hmacCryptoKey(512, 'SHA-512') }), /SHA-256/],
    ['an HS256 JWK of 31 bytes', () => ({ key: { kty: 'oct', k: b64url(randomBytes(31)) } }), /32 bytes/],
    ['a placeholder HS256 secret', () => ({ key: 'change-me-change-me-change-me-change-me' }), /placeholder/],
    ['an RSA public key PEM as an HS256 secret', () => ({ key: rsaPublicPem }), /not a public or private key/],
    ['an RSA private key as an HS256 secret', () => ({ key: rsa.privateKey }), /not a public or private key/],
    ['a JWK text as an HS256 secret', () => ({ key: JSON.stringify(rsaJwk) }), /not a public or private key/],
    ['an RSA key of 1024 bits (KeyObject)', () => ({ alg: 'RS256', key: weakRsa.privateKey }), /2048 bits/],
    ['an RSA key of 1024 bits (PEM, known once imported)', () => ({ alg: 'PS256', key: weakRsaPem }), /2048 bits/],
    ['an RSA key of 1024 bits (JWK)', () => ({ alg: 'RS512', key: weakRsaJwk }), /2048 bits/],
    ['an RSA public key', () => ({ alg: 'RS256', key: rsa.publicKey }), /public key/],
    ['an RSA public key PEM', () => ({ alg: 'RS256', key: rsaPublicPem }), /public key/],
    ['an RSA public JWK', () => ({ alg: 'RS256', key: { ...rsaJwk, d: undefined } }), /public key/],
    ['an EC key for RS256', () => ({ alg: 'RS256', key: ec.privateKey }), /RSA private key/],
    ['an RSA key for ES256', () => ({ alg: 'ES256', key: rsa.privateKey }), /EC private key on P-256/],
    ['a P-384 key for ES256', () => ({ alg: 'ES256', key: p384.privateKey }), /P-256/],
    ['a P-384 PEM for ES256 (known once imported)', () => ({ alg: 'ES256', key: pem(p384.privateKey) }), /P-256/],
    ['an ES256 PEM for RS256 (known once imported)', () => ({ alg: 'RS256', key: ecPem }), /RSA private key/],
    ['a PKCS#8 PEM that is no key (known once imported)', () => ({ alg: 'ES256', key: corruptPem }), /import failed/],
    ['an Ed25519 JWK for ES256', () => ({ alg: 'ES256', key: edJwk }), /EC private key/],
    ['an encrypted PEM', () => ({ alg: 'RS256', key: encryptedPem }), /encrypted/],
    ['an encrypted PKCS#1 PEM', () => ({ alg: 'RS256', key: encryptedPkcs1Pem }), /encrypted/],
    ['a PKCS#1 PEM for ES256', () => ({ alg: 'ES256', key: pkcs1Pem }), /EC private key on P-256/],
    // WebCrypto reads PKCS#8 only; the label says which other format it is, so the message says how to convert it.
    ['a PKCS#1 PEM for RS256', () => ({ alg: 'RS256', key: pkcs1Pem }), /PKCS#1 PEM.*openssl pkcs8 -topk8 -nocrypt/],
    ['a SEC1 PEM for ES256', () => ({ alg: 'ES256', key: sec1Pem }), /SEC1 PEM.*openssl pkcs8 -topk8 -nocrypt/],
    ['a SEC1 PEM for RS256', () => ({ alg: 'RS256', key: sec1Pem }), /RSA private key/],
    [
      'an unexpanded template for RS256',
      () => ({ alg: 'RS256', key: '${METABASE_SIGNING_KEY}' }),
      /unexpanded template/,
    ],
    ['an unexpanded template as an HS256 secret', () => ({ key: '${METABASE_SECRET_KEY_FOR_EMBEDDING}' }), /template/],
    [
      'an EC JWK on P-384 for ES256',
      () => ({ alg: 'ES256', key: p384.privateKey.export({ format: 'jwk' }) as JWK }),
      /P-256/,
    ],
    ['an EC JWK without its y', () => ({ alg: 'ES256', key: { ...ecJwk, y: undefined } }), /not a whole/],
    ['an RSA JWK missing a private part', () => ({ alg: 'RS256', key: { ...rsaJwk, dp: undefined } }), /not a whole/],
    ['an RSA-PSS-only key for PS256', () => ({ alg: 'PS256', key: pssOnly.privateKey }), /not restricted to RSA-PSS/],
    ['an Ed25519 key for ES256', () => ({ alg: 'ES256', key: ed.privateKey }), /EC private key/],
    ['an HMAC secret for RS256', () => ({ alg: 'RS256', key: randomBytes(64) }), /HMAC secret/],
    ['an HMAC JWK for RS256', () => ({ alg: 'RS256', key: { kty: 'oct', k: b64url(randomBytes(64)) } }), /HMAC secret/],
    ['a JWK for another algorithm', () => ({ alg: 'PS256', key: { ...rsaJwk, alg: 'RS256' } }), /another algorithm/],
    ['a string that is no PEM for RS256', () => ({ alg: 'RS256', key: 'not a pem at all but long enough' }), /PEM/],
    ['a ttl over one hour', () => ({ ttl: 3601 }), /ttl/],
    ['a zero ttl', () => ({ ttl: 0 }), /ttl/],
    ['a negative ttl', () => ({ ttl: -60 }), /ttl/],
    ['a fractional ttl', () => ({ ttl: 1.5 }), /ttl/],
    ['a ttl string', () => ({ ttl: '10m' as never }), /ttl/],
    ['an empty issuer', () => ({ issuer: '' }), /issuer/],
    ['an empty audience list', () => ({ audience: [] }), /audience/],
    ['an empty kid', () => ({ kid: '' }), /kid/],
    ['claims that are not a function', () => ({ claims: { a: 1 } as never }), /claims/],
    // Not ignored: the token would live the default 900 s, not what was asked.
    ['expiresIn for ttl', () => ({ expiresIn: 600 }) as never, /options\.expiresIn is not an option .*ttl/],
    [
      'a misspelt audience',
      () => ({ audiance: 'metabase' }) as never,
      /options\.audiance is not an option; did you mean audience\?/,
    ],
  ];
  for (const [name, options, message] of refused) {
    const whenUsed = name.includes('known once imported');
    const when = whenUsed ? 'on its first call, coded issuer-key' : 'at construction with a TypeError';
    it(`refuses ${name} ${when}, naming the problem, not the key`, async () => {
      const override = await options();
      let error: Error;
      if (whenUsed) {
        // WebCrypto's import is asynchronous: the key's type, curve and size are known on the first call only.
        const issue = sign({ ...override } as never);
        error = (await rejection(issue({ id: 'u1' }, { signal: signal() }))) as Error;
        assert.ok(error instanceof TokenIssueError, `expected a TokenIssueError, got ${String(error)}`);
        assert.equal(error.code, 'issuer-key');
      } else {
        error = refusal(() => sign({ ...override } as never));
      }
      assert.match(error.message, /^signToken: /);
      assert.match(error.message, message);
      // Nothing the key was read with rides along: a crash log must not hold the key.
      assert.equal(error.cause, undefined);
      assertHidesSecrets(error, keySecrets);
    });
  }

  it('imports a PEM once, on the first call and not before, and keeps refusing a key that failed', async (t) => {
    const imports = t.mock.method(crypto.subtle, 'importKey');
    const good = sign({ alg: 'RS256', key: rsaPem });
    const bad = sign({ alg: 'RS256', key: weakRsaPem });
    assert.equal(imports.mock.callCount(), 0, 'imported at construction');
    await Promise.all([1, 2, 3].map(() => good({ id: 'u1' }, { signal: signal() })));
    assert.equal(imports.mock.callCount(), 1);
    for (let i = 0; i < 2; i++) {
      const error = await rejection(bad({ id: 'u1' }, { signal: signal() }));
      assert.equal((error as TokenIssueError).code, 'issuer-key');
    }
    assert.equal(imports.mock.callCount(), 2);
  });

  it('a signature the platform refuses is issuer-signing, with its reason and without the key', async () => {
    // A KeyObject that jose turns into a CryptoKey through toCryptoKey, which workerd's node:crypto does not have.
    const broken = Object.assign(Object.create(nodeRsa.privateKey) as KeyObject, {
      toCryptoKey: () => {
        throw new TypeError('The toCryptoKey method is not implemented');
      },
    });
    Object.defineProperty(broken, Symbol.toStringTag, { value: 'KeyObject' });
    const error = await rejection(sign({ alg: 'RS256', key: broken })({ id: 'u1' }, { signal: signal() }));
    assert.ok(error instanceof TokenIssueError);
    assert.equal(error.code, 'issuer-signing');
    assert.match(error.message, /^signToken: signing with the RS256 key failed \(TypeError: The toCryptoKey method/);
    assert.equal(error.cause, undefined);
    assertHidesSecrets(error, keySecrets);
  });

  it('never shows the secret of a refused key, as text or as bytes', () => {
    const secret = 'short-secret-of-31-bytes-123456';
    assert.equal(secret.length, 31);
    const error = refusal(() => sign({ key: secret }));
    const asBytes = refusal(() => sign({ key: new TextEncoder().encode(secret) }));
    for (const refused of [error, asBytes]) {
      const bytes = Buffer.from(secret);
      assertHidesSecrets(refused, [secret, bytes.toString('hex'), bytes.toString('base64')]);
    }
  });
});
