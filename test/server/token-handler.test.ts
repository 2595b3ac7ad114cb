import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import http from 'node:http';
import { describe, it } from 'node:test';
import { inspect } from 'node:util';
import { SignJWT, generateKeyPair } from 'jose';
import { MAX_TOKEN_LENGTH } from '../../src/protocol/limits.js';
import {
  TokenIssueError,
  accessKeyExchange,
  createTokenHandler,
  signToken,
  toNodeListener,
  tokenExchange,
} from '../../src/server/index.js';
import type { IssuedToken, TokenHandlerOptions, TokenIssuer, WebHandler } from '../../src/server/index.js';
import { listen } from './loopback.js';

const ACCESS_ID = 'acc_demo_id';
const ACCESS_KEY = 'sk_live_very_secret_value';

// --- servers -------------------------------------------------------------------------------------------------------

// --- the fake vendor -----------------------------------------------------------------------------------------------

interface VendorCall {
  method: string | undefined;
  url: string | undefined;
  headers: http.IncomingHttpHeaders;
  body: string;
  /** Resolves when the connection closed before the vendor answered (the host aborted the call). */
  abandoned: Promise<void>;
}

type VendorBehaviour = (req: http.IncomingMessage, res: http.ServerResponse, body: string) => void;

let vendorBehaviour: VendorBehaviour = (_req, res) => res.end();
const vendorCalls: VendorCall[] = [];
let onVendorCall: ((call: VendorCall) => void) | undefined;

const vendorOrigin = await listen(async (req, res) => {
  let body = '';
  for await (const chunk of req) body += chunk;
  const abandoned = new Promise<void>((resolve) =>
    res.once('close', () => {
      if (!res.writableFinished) resolve();
    }),
  );
  const call: VendorCall = { method: req.method, url: req.url, headers: req.headers, body, abandoned };
  vendorCalls.push(call);
  onVendorCall?.(call);
  vendorBehaviour(req, res, body);
});
const vendorTokenUrl = `${vendorOrigin}/token`;

const { privateKey } = await generateKeyPair('ES256');

async function signVendorJwt(ttlSeconds = 900): Promise<{ jwt: string; exp: number }> {
  const iat = Math.floor(Date.now() / 1000);
  const jwt = await new SignJWT({ sub: 'u1' })
    .setProtectedHeader({ alg: 'ES256', kid: 'vendor-1' })
    .setIssuedAt(iat)
    .setExpirationTime(iat + ttlSeconds)
    .sign(privateKey);
  return { jwt, exp: iat + ttlSeconds };
}

function answerJson(status: number, body: unknown): VendorBehaviour {
  return (_req, res) => {
    res.writeHead(status, { 'Content-Type': 'application/json' });
    res.end(JSON.stringify(body));
  };
}

// --- the host ------------------------------------------------------------------------------------------------------

function exchange(): TokenIssuer<unknown, IssuedToken> {
  return accessKeyExchange({ url: vendorTokenUrl, accessId: ACCESS_ID, accessKey: ACCESS_KEY });
}

interface Host {
  url: string;
  logs: string[];
}

async function startHost(options: Partial<TokenHandlerOptions<{ id: string }>> = {}): Promise<Host> {
  const logs: string[] = [];
  const handler = createTokenHandler<{ id: string }>({
    authorize: () => ({ id: 'u1' }),
    issue: exchange(),
    logger: { warn: (message) => logs.push(message) },
    ...options,
  });
  return { url: `${await listen(toNodeListener(handler))}/api/widget-token`, logs };
}

interface Answer {
  status: number;
  headers: Headers;
  text: string;
  json: any;
}

/** Every answer and every log line is checked for the access key, whatever the test is about. */
async function ask(host: Host, init?: RequestInit, path = ''): Promise<Answer> {
  const response = await fetch(host.url + path, init);
  const text = await response.text();
  assert.ok(!text.includes(ACCESS_KEY), 'a response body contains the access key');
  for (const line of host.logs) assert.ok(!line.includes(ACCESS_KEY), 'a log line contains the access key');
  return { status: response.status, headers: response.headers, text, json: text ? JSON.parse(text) : undefined };
}

function assertTokenHeaders(headers: Headers, date?: number): void {
  assert.equal(headers.get('content-type'), 'application/json; charset=utf-8');
  assert.equal(headers.get('cache-control'), 'no-store');
  assert.equal(headers.get('pragma'), 'no-cache');
  assert.equal(headers.get('x-content-type-options'), 'nosniff');
  assert.ok(headers.get('date'), 'Date header');
  if (date !== undefined) assert.equal(headers.get('date'), new Date(date).toUTCString());
}

// --- createTokenHandler --------------------------------------------------------------------------------------------

describe('answers 200 with the vendor token and no-cache headers', () => {
  it('returns {embedToken, expiresAt} with expiresAt from the JWT and a Date header from now()', async () => {
    const { jwt, exp } = await signVendorJwt();
    vendorBehaviour = answerJson(200, { data: { embedToken: jwt } });
    // Three hours off the real clock (behind it, so that the vendor's 15-minute token is still valid by this one):
    // the header must come from now(), not from the runtime.
    const serverNow = Math.floor(Date.now() / 1000) * 1000 - 3 * 3600_000;
    const host = await startHost({ now: () => serverNow });
    const calls = vendorCalls.length;

    const answer = await ask(host, { headers: { Accept: 'application/json' } });

    assert.equal(answer.status, 200);
    assert.deepEqual(answer.json, { embedToken: jwt, expiresAt: exp });
    assertTokenHeaders(answer.headers, serverNow);
    assert.deepEqual(host.logs, []);

    assert.equal(vendorCalls.length, calls + 1);
    const call = vendorCalls.at(-1)!;
    assert.equal(call.method, 'POST');
    assert.equal(call.url, '/token');
    assert.equal(call.headers['content-type'], 'application/json');
    assert.equal(call.headers.accept, 'application/json');
    assert.deepEqual(JSON.parse(call.body), { accessId: ACCESS_ID, accessKey: ACCESS_KEY });
  });

  it('answers POST as GET', async () => {
    const { jwt } = await signVendorJwt();
    vendorBehaviour = answerJson(200, { data: { embedToken: jwt } });
    const answer = await ask(await startHost(), { method: 'POST' });
    assert.equal(answer.status, 200);
    assert.equal(answer.json.embedToken, jwt);
  });

  it("takes the earlier of the issuer's expiresAt and the JWT's exp; an opaque token has none", async () => {
    const { jwt, exp } = await signVendorJwt();
    const later = await startHost({ issue: async () => ({ token: jwt, expiresAt: 2_000_000_000 }) });
    assert.deepEqual((await ask(later)).json, { embedToken: jwt, expiresAt: exp });
    const sooner = await startHost({ issue: async () => ({ token: jwt, expiresAt: exp - 600 }) });
    assert.deepEqual((await ask(sooner)).json, { embedToken: jwt, expiresAt: exp - 600 });

    const opaque = await startHost({ issue: async () => ({ token: 'opaque-token-123' }) });
    const answer = await ask(opaque);
    assert.equal(answer.status, 200);
    assert.deepEqual(answer.json, { embedToken: 'opaque-token-123' });
  });

  it('takes claims from authorize only, never from the query or the body', async () => {
    const users: unknown[] = [];
    const host = await startHost({
      issue: async (user) => {
        users.push(user);
        return { token: 'opaque' };
      },
    });
    await ask(host, { method: 'POST', body: JSON.stringify({ id: 'admin' }) }, '?id=admin&user=admin');
    assert.deepEqual(users, [{ id: 'u1' }]);
  });

  it('hands issue a signal that aborts when the only client waiting for it goes away', async () => {
    let seen: AbortSignal | undefined;
    const handler = createTokenHandler({
      authorize: () => ({ id: 'u1' }),
      issue: (_user, { signal }) => {
        seen = signal;
        return new Promise((_, reject) => signal.addEventListener('abort', () => reject(signal.reason)));
      },
      logger: { warn: () => {} },
    });
    const client = new AbortController();
    const answer = handler(new Request('http://localhost/api/widget-token', { signal: client.signal }));
    await new Promise((resolve) => setTimeout(resolve, 10));
    assert.equal(seen?.aborted, false);
    client.abort();
    await answer;
    assert.equal(seen?.aborted, true);
  });
});

describe('takes what issue resolves in the shapes the element’s fetchToken may', () => {
  const NOW = Date.UTC(2030, 0, 1);
  const NOW_S = NOW / 1000;
  const shapes: Array<[string, unknown, object]> = [
    ['a plain string', 'opaque-token', { embedToken: 'opaque-token' }],
    ['a plain string with a line break after it', 'opaque-token\n', { embedToken: 'opaque-token' }],
    ['{token}', { token: 'opaque-token' }, { embedToken: 'opaque-token' }],
    ['expiresAt in epoch seconds', { token: 't', expiresAt: NOW_S + 600 }, { embedToken: 't', expiresAt: NOW_S + 600 }],
    ['expiresAt in epoch ms', { token: 't', expiresAt: NOW + 600_000 }, { embedToken: 't', expiresAt: NOW_S + 600 }],
    [
      'expiresAt as an ISO date',
      { token: 't', expiresAt: new Date(NOW + 600_000).toISOString() },
      { embedToken: 't', expiresAt: NOW_S + 600 },
    ],
    ['expiresIn in seconds', { token: 't', expiresIn: 600 }, { embedToken: 't', expiresAt: NOW_S + 600 }],
    [
      'the earlier of expiresAt and expiresIn',
      { token: 't', expiresAt: NOW_S + 900, expiresIn: 600 },
      { embedToken: 't', expiresAt: NOW_S + 600 },
    ],
    ['a negative expiresIn, ignored', { token: 't', expiresIn: -60 }, { embedToken: 't' }],
    ['a zero expiresIn, ignored', { token: 't', expiresIn: 0 }, { embedToken: 't' }],
    ['a NaN expiresIn, ignored', { token: 't', expiresIn: Number.NaN }, { embedToken: 't' }],
    ['an Infinity expiresIn, ignored', { token: 't', expiresIn: Number.POSITIVE_INFINITY }, { embedToken: 't' }],
    // Read as the element reads it (protocol/token-rules.ts): a numeric string is its number.
    ['an expiresIn numeric string', { token: 't', expiresIn: '600' }, { embedToken: 't', expiresAt: NOW / 1000 + 600 }],
    ['an expiresIn string that is no number, ignored', { token: 't', expiresIn: 'soon' }, { embedToken: 't' }],
    ['an expiresAt that does not parse, ignored', { token: 't', expiresAt: 'soon' }, { embedToken: 't' }],
    ['a zero expiresAt, ignored', { token: 't', expiresAt: 0 }, { embedToken: 't' }],
    ['a token of exactly 16 KiB', 'x'.repeat(MAX_TOKEN_LENGTH), { embedToken: 'x'.repeat(MAX_TOKEN_LENGTH) }],
  ];
  for (const [name, resolved, body] of shapes) {
    it(`${name} → 200`, async () => {
      const host = await startHost({ issue: async () => resolved as never, now: () => NOW });
      const answer = await ask(host);
      assert.equal(answer.status, 200);
      assert.deepEqual(answer.json, body);
      assert.deepEqual(host.logs, []);
    });
  }

  const junk: Array<[string, unknown]> = [
    ['an empty string', ''],
    ['a blank string', '  \n'],
    ['{token: ""}', { token: '' }],
    ['an object without a token', { embedToken: 'wrong-name' }],
    ['a number', 42],
    ['null', null],
    ['undefined', undefined],
    ['a token over 16 KiB', 'x'.repeat(MAX_TOKEN_LENGTH + 1)],
    ['{token} over 16 KiB', { token: 'x'.repeat(MAX_TOKEN_LENGTH + 1), expiresIn: 600 }],
  ];
  for (const [name, resolved] of junk) {
    it(`${name} → 502 vendor-failed, logged as vendor-response`, async () => {
      const host = await startHost({ issue: async () => resolved as never });
      const answer = await ask(host);
      assert.equal(answer.status, 502);
      assert.equal(answer.json.error.code, 'vendor-failed');
      assert.equal(host.logs.length, 1);
      assert.match(host.logs[0]!, /vendor-response/);
    });
  }

  it('caches a token whose life came as expiresIn, as one with expiresAt', async () => {
    let calls = 0;
    const host = await startHost({ issue: async () => ({ token: `t${++calls}`, expiresIn: 900 }), now: () => NOW });
    assert.equal((await ask(host)).json.embedToken, 't1');
    assert.equal((await ask(host)).json.embedToken, 't1');
    assert.equal(calls, 1);
  });
});

describe('one timer decides how long the vendor may take: the handler’s timeoutMs', () => {
  it('504 at ~200 ms, the exchange running no timer of its own, logged with the deadline', {
    timeout: 5000,
  }, async (t) => {
    vendorBehaviour = () => {}; // hangs
    const timers = t.mock.method(AbortSignal, 'timeout');
    const host = await startHost({ timeoutMs: 200, issue: tokenExchange({ url: vendorTokenUrl }) });
    const vendorCalled = new Promise<VendorCall>((resolve) => (onVendorCall = resolve));
    const started = performance.now();
    const answer = await ask(host);
    const elapsed = performance.now() - started;
    onVendorCall = undefined;

    assert.equal(answer.status, 504);
    assert.equal(answer.json.error.code, 'vendor-timeout');
    // At the handler's 200 ms, not the 5 s a call without a signal gets, with room for a busy machine.
    assert.ok(elapsed >= 190 && elapsed < 2500, `answered after ${Math.round(elapsed)} ms`);
    assert.equal(timers.mock.callCount(), 0, 'the exchange started a timer of its own');
    // The exchange honoured the signal: the vendor saw its connection go when the handler gave up.
    await (await vendorCalled).abandoned;
    assert.deepEqual(host.logs, [
      'secure-widget/server: token request failed: vendor-timeout: The token issuer did not answer within 200 ms.',
    ]);
  });

  it('the exchange’s own timeoutMs, which never applied in the handler, is refused naming the handler’s', () => {
    assert.throws(
      () =>
        createTokenHandler({
          authorize: () => 'u1',
          issue: tokenExchange({ url: vendorTokenUrl, timeoutMs: 300 } as never),
        }),
      (error: unknown) => error instanceof TypeError && /createTokenHandler\(\{ timeoutMs \}\)/.test(error.message),
    );
  });
});

describe('signToken misuse is a 502 issuer-failed, logged as issuer-misconfigured with the problem', () => {
  const SECRET = 'hs256-secret-that-is-32-bytes-long!!';
  for (const [name, options, problem] of [
    [
      'claims that set sub',
      { claims: () => ({ sub: 'admin' }) },
      `options.claims must not set "sub"; it comes from signToken's options`,
    ],
    ['claims that return no object', { claims: () => null as never }, 'options.claims must return an object'],
    [
      'a subject that returns no string',
      { subject: () => 7 as never },
      'options.subject must return a non-empty string',
    ],
  ] as const) {
    it(name, async () => {
      const issue = signToken<{ id: string }>({
        key: SECRET,
        alg: 'HS256',
        issuer: 'https://host.example',
        audience: 'vendor',
        ...options,
      });
      const host = await startHost({ issue });
      const answer = await ask(host);
      assert.equal(answer.status, 502);
      assert.equal(answer.json.error.code, 'issuer-failed');
      assert.deepEqual(host.logs, [
        `secure-widget/server: token request failed: issuer-misconfigured: signToken: ${problem}`,
      ]);
      assert.ok(!answer.text.includes(SECRET) && !host.logs[0]!.includes(SECRET));
    });
  }
});

describe('a signing key the platform will not use is a 502 issuer-failed whose log line says why', () => {
  const weakPem = generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey.export({
    type: 'pkcs8',
    format: 'pem',
  }) as string;
  const p384Pem = generateKeyPairSync('ec', { namedCurve: 'P-384' }).privateKey.export({
    type: 'pkcs8',
    format: 'pem',
  }) as string;
  for (const [name, alg, key, why] of [
    [
      'an RSA key of 1024 bits',
      'RS256',
      weakPem,
      /^issuer-key: signToken: options\.key for RS256 must be an RSA key of at least 2048 bits$/,
    ],
    [
      'a P-384 key for ES256',
      'ES256',
      p384Pem,
      /^issuer-key: signToken: options\.key is not an EC private key on P-256 for ES256 \(the import failed: DataError/,
    ],
  ] as const) {
    it(name, async () => {
      const host = await startHost({
        issue: signToken({ key, alg, issuer: 'https://host.example', audience: 'vendor' }),
      });
      const answer = await ask(host);
      assert.equal(answer.status, 502);
      assert.equal(answer.json.error.code, 'issuer-failed');
      assert.equal(host.logs.length, 1);
      const prefix = 'secure-widget/server: token request failed: ';
      assert.ok(host.logs[0]!.startsWith(prefix));
      assert.match(host.logs[0]!.slice(prefix.length), why);
      const keyLines = key.split('\n').filter((line) => !line.startsWith('-----') && line.length > 16);
      for (const line of keyLines)
        assert.ok(!host.logs[0]!.includes(line) && !answer.text.includes(line), 'the key shows');
    });
  }
});

describe('rejects other methods with 405 and Allow: GET, POST', () => {
  for (const method of ['PUT', 'DELETE', 'PATCH', 'OPTIONS']) {
    it(method, async () => {
      let authorized = false;
      const host = await startHost({
        authorize: () => {
          authorized = true;
          return { id: 'u1' };
        },
      });
      const answer = await ask(host, { method });
      assert.equal(answer.status, 405);
      assert.equal(answer.headers.get('allow'), 'GET, POST');
      assert.equal(answer.json.error.code, 'method-not-allowed');
      assertTokenHeaders(answer.headers);
      assert.equal(authorized, false);
    });
  }
});

describe('answers 401 without calling issue when authorize finds no user', () => {
  for (const nobody of [null, undefined]) {
    it(`authorize → ${nobody}`, async () => {
      let issued = 0;
      const host = await startHost({
        authorize: async () => nobody,
        issue: async () => {
          issued++;
          return { token: 'never' };
        },
      });
      const answer = await ask(host);
      assert.equal(answer.status, 401);
      assert.deepEqual(Object.keys(answer.json.error).sort(), ['code', 'message']);
      assert.equal(answer.json.error.code, 'unauthorized');
      assertTokenHeaders(answer.headers);
      assert.equal(issued, 0);
    });
  }
});

describe('maps vendor failures to 502 and timeouts to 504', () => {
  const cases: Array<{ name: string; vendor: VendorBehaviour; status: number; code: string; log: RegExp }> = [
    {
      name: 'vendor answers 401',
      vendor: answerJson(401, { error: 'bad credentials' }),
      status: 502,
      code: 'vendor-failed',
      log: /^secure-widget\/server: token request failed: vendor-http \(vendor status 401\): The vendor token API answered HTTP 401\.$/,
    },
    {
      name: 'vendor answers 500 echoing the request',
      vendor: (_req, res, body) => {
        res.writeHead(500, { 'Content-Type': 'application/json' });
        res.end(JSON.stringify({ error: 'boom', request: JSON.parse(body) }));
      },
      status: 502,
      code: 'vendor-failed',
      log: /vendor-http.*500/,
    },
    {
      name: 'vendor answers a body that is not JSON (quoting the key)',
      vendor: (_req, res, body) => {
        res.writeHead(200, { 'Content-Type': 'text/html' });
        res.end(`<html>oops ${body}</html>`);
      },
      status: 502,
      code: 'vendor-failed',
      log: /vendor-response/,
    },
    {
      name: 'vendor answers JSON without a token',
      vendor: answerJson(200, { data: { embedToken: '' } }),
      status: 502,
      code: 'vendor-failed',
      log: /vendor-response/,
    },
    {
      name: 'vendor drops the connection',
      vendor: (req) => req.socket.destroy(),
      status: 502,
      code: 'vendor-failed',
      log: /vendor-network/,
    },
    {
      name: 'vendor never answers',
      vendor: () => {},
      status: 504,
      code: 'vendor-timeout',
      log: /vendor-timeout/,
    },
  ];

  for (const { name, vendor, status, code, log } of cases) {
    it(name, { timeout: 5000 }, async () => {
      vendorBehaviour = vendor;
      const host = await startHost({ issue: exchange(), timeoutMs: 150 });
      const answer = await ask(host);
      assert.equal(answer.status, status);
      assert.equal(answer.json.error.code, code);
      assert.equal(typeof answer.json.error.message, 'string');
      assertTokenHeaders(answer.headers);
      assert.equal(host.logs.length, 1);
      assert.match(host.logs[0]!, log);
    });
  }

  it('the host’s own issuer throwing anything else is a 502 issuer-failed whose log line names its class only', async () => {
    const host = await startHost({
      issue: async () => {
        throw new RangeError(`custom issuer failed with ${ACCESS_KEY}`);
      },
    });
    const answer = await ask(host);
    assert.equal(answer.status, 502);
    assert.equal(answer.json.error.code, 'issuer-failed');
    assert.equal(answer.json.error.message, 'This site could not issue a token.');
    assert.deepEqual(host.logs, [
      'secure-widget/server: token request failed: issuer-threw: the issuer threw a RangeError ' +
        '(its message is not logged: it may hold a secret)',
    ]);
  });

  it('a vendor that cannot be reached is logged with the platform’s reason', { timeout: 5000 }, async () => {
    // A port that was listening a moment ago and is closed now: connection refused.
    const closed = http.createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const { port } = closed.address() as { port: number };
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const host = await startHost({ issue: tokenExchange({ url: `http://127.0.0.1:${port}/token` }) });
    const answer = await ask(host);
    assert.equal(answer.status, 502);
    assert.equal(answer.json.error.code, 'vendor-failed');
    assert.deepEqual(host.logs, [
      'secure-widget/server: token request failed: vendor-network: The vendor token API could not be reached (ECONNREFUSED).',
    ]);
  });

  // Found by token-handler.fuzz.test.ts: a custom issuer's TokenIssueError with status -4450157583706537 was logged as
  // "vendor status -4450157583706537". The log line names an HTTP status or none.
  for (const status of [-4450157583706537, 0, 99, 600, 1e21]) {
    it(`an issuer's TokenIssueError with status ${status}, no HTTP status, is logged without one`, async () => {
      const handler = createTokenHandler({
        authorize: () => 'u1',
        issue: async () => {
          throw new TokenIssueError('vendor-http', 'custom', { status });
        },
        logger: { warn: (message) => logs.push(message) },
      });
      const logs: string[] = [];
      assert.equal((await handler(new Request('https://host.example/api/widget-token'))).status, 502);
      assert.deepEqual(logs, ['secure-widget/server: token request failed: vendor-http']);
    });
  }
});

describe('answers 500 when authorize throws', () => {
  it('does not call issue and logs only the code', async () => {
    let issued = 0;
    const host = await startHost({
      authorize: () => {
        throw new Error(`session store down; config ${ACCESS_KEY}`);
      },
      issue: async () => {
        issued++;
        return { token: 'never' };
      },
    });
    const answer = await ask(host);
    assert.equal(answer.status, 500);
    assert.equal(answer.json.error.code, 'internal');
    assertTokenHeaders(answer.headers);
    assert.equal(issued, 0);
    assert.deepEqual(host.logs, [
      'secure-widget/server: token request failed: internal: authorize or userId threw an Error ' +
        '(its message is not logged: it may hold a secret)',
    ]);
  });
});

describe('createTokenHandler checks its options up front', () => {
  // A misspelt option used to be ignored, and the handler ran with the default it was meant to change.
  it('refuses an option it does not know, naming it and the one it resembles', () => {
    const issue = async (): Promise<IssuedToken> => ({ token: 't' });
    const base = { authorize: () => ({ id: 'u1' }), issue };
    assert.throws(() => createTokenHandler({ ...base, allowedOrigin: ['https://app.example'] } as never), {
      name: 'TypeError',
      message: /^createTokenHandler: options\.allowedOrigin is not an option; did you mean allowedOrigins\?/,
    });
    assert.throws(() => createTokenHandler({ ...base, rateLimit: { max: 5, window: 1000 } } as never), {
      name: 'TypeError',
      message: /^createTokenHandler: options\.rateLimit\.window is not an option; did you mean windowMs\?/,
    });
    // A key that could be a pasted secret is not quoted.
    assert.throws(
      () => createTokenHandler({ ...base, [ACCESS_KEY]: true } as never),
      (error: Error) => {
        assert.match(error.message, /options\.… is not an option/);
        return !error.message.includes(ACCESS_KEY);
      },
    );
    // undefined is no option, whatever its name: a conditional spread may leave one.
    assert.equal(typeof createTokenHandler({ ...base, later: undefined } as never), 'function');
  });

  it('throws TypeError when authorize or issue is not a function', () => {
    const issue = async (): Promise<IssuedToken> => ({ token: 't' });
    assert.throws(() => createTokenHandler({ authorize: undefined as never, issue }), TypeError);
    assert.throws(() => createTokenHandler({ authorize: () => ({}), issue: 'nope' as never }), TypeError);
    assert.throws(() => createTokenHandler(null as never), TypeError);
  });
});

// --- accessKeyExchange ---------------------------------------------------------------------------------------------

describe('accessKeyExchange never reveals the access key', () => {
  const failures: Array<[string, VendorBehaviour, string, number | undefined]> = [
    ['HTTP error echoing the request', (_req, res, body) => res.writeHead(403).end(body), 'vendor-http', 403],
    ['non-JSON body quoting the request', (_req, res, body) => res.end(`not json ${body}`), 'vendor-response', 200],
    ['no token', answerJson(200, { data: {} }), 'vendor-response', 200],
    ['dropped connection', (req) => req.socket.destroy(), 'vendor-network', undefined],
  ];
  for (const [name, vendor, code, status] of failures) {
    it(`${name} → ${code}`, async () => {
      vendorBehaviour = vendor;
      const error = await exchange()(undefined, { signal: new AbortController().signal }).then(
        () => assert.fail('expected a TokenIssueError'),
        (error: unknown) => error,
      );
      assert.ok(error instanceof TokenIssueError);
      assert.equal(error.code, code);
      assert.equal(error.status, status);
      assert.ok(!inspect(error, { depth: 10 }).includes(ACCESS_KEY), 'the error or its cause shows the access key');
    });
  }

  it('a JWT from the vendor comes back with its exp', async () => {
    const { jwt, exp } = await signVendorJwt(60);
    vendorBehaviour = answerJson(200, { data: { embedToken: jwt } });
    const issued = await exchange()(undefined, { signal: new AbortController().signal });
    assert.deepEqual(issued, { token: jwt, expiresAt: exp });
  });

  it('uses pick to find the token elsewhere in the JSON', async () => {
    vendorBehaviour = answerJson(200, { token: 'qrvey-style' });
    const issue = accessKeyExchange({
      url: vendorTokenUrl,
      accessId: ACCESS_ID,
      accessKey: ACCESS_KEY,
      pick: (json) => (json as { token?: unknown }).token,
    });
    assert.deepEqual(await issue(undefined, { signal: new AbortController().signal }), { token: 'qrvey-style' });
  });
});

describe('accessKeyExchange checks its options at construction', () => {
  const base = { url: 'https://vendor.example/token', accessId: ACCESS_ID, accessKey: ACCESS_KEY };
  const rejected: Array<[string, Record<string, unknown>]> = [
    ['an empty access key', { accessKey: '' }],
    ['a whitespace access key', { accessKey: '  \t ' }],
    ['a missing access key', { accessKey: undefined }],
    ['an empty access id', { accessId: '' }],
    ['plain http to a remote host', { url: `http://vendor.example/token?key=${ACCESS_KEY}` }],
    ['a javascript: URL', { url: `javascript:fetch('${ACCESS_KEY}')` }],
    ['a data: URL', { url: 'data:text/plain,hi' }],
    ['a relative URL', { url: '/token' }],
    ['credentials in the URL', { url: `https://user:${ACCESS_KEY}@vendor.example/token` }],
    ['http on a lookalike host', { url: 'http://localhost.evil.example/token' }],
    ['a zero timeout', { timeoutMs: 0 }],
  ];
  for (const [name, override] of rejected) {
    it(`rejects ${name} with a TypeError that does not quote the key`, () => {
      assert.throws(
        () => accessKeyExchange({ ...base, ...override } as never),
        (error: unknown) => {
          assert.ok(error instanceof TypeError);
          assert.ok(!error.message.includes(ACCESS_KEY));
          return true;
        },
      );
    });
  }

  it('names the option that is wrong', () => {
    assert.throws(() => accessKeyExchange({ ...base, accessKey: ' ' }), /accessKey/);
    assert.throws(() => accessKeyExchange({ ...base, accessId: '' }), /accessId/);
    assert.throws(() => accessKeyExchange({ ...base, url: 'http://vendor.example' }), /url/);
  });

  for (const url of [
    'https://vendor.example/token',
    'http://localhost:8080/token',
    'http://vendor.localhost/token',
    'http://127.0.0.1/token',
    'http://127.8.9.10/token',
    'http://[::1]:3000/token',
    new URL('https://vendor.example/token'),
  ]) {
    it(`accepts ${url}`, () => {
      assert.equal(typeof accessKeyExchange({ ...base, url }), 'function');
    });
  }
});

describe('aborts the vendor call when the client goes away', () => {
  it('the vendor sees its connection close and nothing is logged', { timeout: 5000 }, async () => {
    vendorBehaviour = () => {}; // hang until the host gives up on us
    const host = await startHost({ issue: exchange() });
    const vendorCalled = new Promise<VendorCall>((resolve) => (onVendorCall = resolve));
    const client = new AbortController();
    const pending = fetch(host.url, { signal: client.signal });
    const call = await vendorCalled;
    onVendorCall = undefined;
    client.abort();
    await assert.rejects(pending, { name: 'AbortError' });
    await call.abandoned;
    await new Promise((resolve) => setTimeout(resolve, 20));
    assert.deepEqual(host.logs, []);
  });
});

// --- toNodeListener ------------------------------------------------------------------------------------------------

describe('toNodeListener', () => {
  const nullHandler: WebHandler = () => null;
  const throwingHandler: WebHandler = () => {
    throw new Error(`handler failed with ${ACCESS_KEY}`);
  };

  it('calls next() when the handler answers null', async () => {
    const listener = toNodeListener(nullHandler);
    const url = await listen((req, res) => listener(req, res, (error) => res.end(`next(${String(error)})`)));
    const response = await fetch(url);
    assert.equal(await response.text(), 'next(undefined)');
  });

  it('answers 404 without next', async () => {
    const response = await fetch(await listen(toNodeListener(nullHandler)));
    assert.equal(response.status, 404);
    assert.equal((await response.json()).error.code, 'not-found');
    for (const [name, value] of [
      ['cache-control', 'no-store'],
      ['pragma', 'no-cache'],
      ['x-content-type-options', 'nosniff'],
    ]) {
      assert.equal(response.headers.get(name), value, name);
    }
  });

  it('hands a thrown error to next(error), or answers a generic 500 without next', async () => {
    const listener = toNodeListener(throwingHandler);
    const withNext = await listen((req, res) =>
      listener(req, res, (error) => res.end(error instanceof Error ? 'next(error)' : 'next()')),
    );
    assert.equal(await (await fetch(withNext)).text(), 'next(error)');

    const response = await fetch(await listen(toNodeListener(throwingHandler)));
    assert.equal(response.status, 500);
    const text = await response.text();
    assert.deepEqual(JSON.parse(text), { error: { code: 'internal', message: 'Internal server error.' } });
  });

  it('shows the handler the URL the client asked for under an Express-style mount', async () => {
    const listener = toNodeListener((request) => new Response(request.url));
    const url = await listen((req, res) => {
      // What Express and connect do for `app.use('/api/widget-token', …)`.
      Object.assign(req, { originalUrl: req.url });
      req.url = '/?x=1';
      listener(req, res);
    });
    const response = await fetch(`${url}/api/widget-token?x=1`);
    assert.equal(await response.text(), `${url}/api/widget-token?x=1`);
  });

  it('keeps a protocol-relative path on the request host', async () => {
    const url = await listen(toNodeListener((request) => new Response(new URL(request.url).host)));
    const response = await new Promise<string>((resolve, reject) => {
      http
        .get(`${url}//evil.example/x`, (res) => {
          let body = '';
          res.on('data', (chunk) => (body += chunk));
          res.on('end', () => resolve(body));
        })
        .on('error', reject);
    });
    assert.equal(response, new URL(url).host);
  });

  it('streams a POST body in, and passes headers, every Set-Cookie and the body out', async () => {
    const url = await listen(
      toNodeListener(async (request) => {
        const headers = new Headers({ 'X-Seen': request.headers.get('x-custom') ?? '' });
        headers.append('Set-Cookie', 'a=1; Path=/');
        headers.append('Set-Cookie', 'b=2; Path=/');
        return new Response(`${request.method} ${await request.text()}`, { status: 201, headers });
      }),
    );
    const response = await fetch(url, { method: 'POST', body: 'hello body', headers: { 'X-Custom': 'yes' } });
    assert.equal(response.status, 201);
    assert.equal(response.headers.get('x-seen'), 'yes');
    assert.deepEqual(response.headers.getSetCookie(), ['a=1; Path=/', 'b=2; Path=/']);
    assert.equal(await response.text(), 'POST hello body');

    const head = await fetch(url, { method: 'HEAD' });
    assert.equal(head.status, 201);
    assert.equal(await head.text(), '');
  });

  it('refuses a 1 MiB body with 413 every time, and keep-alive serves the next request', {
    timeout: 5000,
  }, async () => {
    const host = await startHost({ issue: async () => ({ token: 'opaque' }) });
    const big = 'x'.repeat(1 << 20);
    for (let i = 0; i < 3; i++) {
      const answer = await ask(host, { method: 'POST', body: big });
      assert.equal(answer.status, 413);
      assert.equal(answer.json.error.code, 'payload-too-large');
    }
    for (let i = 0; i < 3; i++) assert.equal((await ask(host, { method: 'POST', body: 'ping=1' })).status, 200);
  });
});
