import assert from 'node:assert/strict';
import { beforeEach, describe, it } from 'node:test';
import { decodeJwt } from 'jose';
import {
  TokenIssueError,
  accessKeyExchange,
  createMemoryTokenCache,
  createTokenHandler,
  toNodeListener,
} from '../../src/server/index.js';
import type { CachedToken, SharedTokenStore, TokenCache, TokenHandlerOptions } from '../../src/server/index.js';
import { STORE_TIMEOUT_MS, boundedStore } from '../../src/server/internal/bounded-store.js';
import { createReferenceVendor } from '../../demo/vendor/index.js';
import { listen } from './loopback.js';

// The hardened handler against the real reference vendor, both on real node:http servers on loopback.

const ACCESS_ID = 'host-42';
const ACCESS_KEY = 'rvk_9f8e7d6c5b4a39281706f5e4d3c2b1a0';
const TTL = 900;

const vendor = await createReferenceVendor({ accessId: ACCESS_ID, accessKey: ACCESS_KEY, ttlSeconds: TTL });
let vendorCalls = 0;
const vendorListener = toNodeListener(vendor.handle);
const vendorOrigin = await listen((req, res) => {
  if (req.url?.endsWith('/api/widget-access-keys/token')) vendorCalls += 1;
  vendorListener(req, res);
});

// The handler's clock: the cache and the rate limit follow it, so a test moves time instead of waiting.
let clock = Date.now();
beforeEach(() => {
  vendorCalls = 0;
  clock = Date.now();
});

interface Host {
  url: string;
  origin: string;
  logs: string[];
  authorized: () => number;
}

type User = { id: string };

async function startHost(
  options: Partial<TokenHandlerOptions<User>> = {},
  userFrom = (request: Request): User | null => {
    const id = request.headers.get('x-test-user');
    return id ? { id } : { id: 'u1' };
  },
): Promise<Host> {
  const logs: string[] = [];
  let authorized = 0;
  const handler = createTokenHandler<User>({
    authorize: (request) => {
      authorized += 1;
      return userFrom(request);
    },
    issue: accessKeyExchange({
      url: `${vendorOrigin}/vendor/api/widget-access-keys/token`,
      accessId: ACCESS_ID,
      accessKey: ACCESS_KEY,
    }),
    now: () => clock,
    logger: { warn: (message) => logs.push(message) },
    ...options,
  });
  const origin = await listen(toNodeListener(handler));
  return { url: `${origin}/api/widget-token`, origin, logs, authorized: () => authorized };
}

interface Answer {
  status: number;
  headers: Headers;
  json: any;
}

async function ask(host: Host, init: RequestInit = {}): Promise<Answer> {
  const response = await fetch(host.url, init);
  const text = await response.text();
  return { status: response.status, headers: response.headers, json: text ? JSON.parse(text) : undefined };
}

function assertError(answer: Answer, status: number, code: string): void {
  assert.equal(answer.status, status);
  assert.equal(answer.json?.error?.code, code);
  assert.equal(typeof answer.json.error.message, 'string');
  assert.equal(answer.headers.get('cache-control'), 'no-store');
  assert.equal(answer.headers.get('pragma'), 'no-cache');
  assert.equal(answer.headers.get('x-content-type-options'), 'nosniff');
}

describe('refuses a body over 1 KiB with 413 before any work', () => {
  it('a declared Content-Length over the limit', async () => {
    const host = await startHost();
    assertError(await ask(host, { method: 'POST', body: 'x'.repeat(1025) }), 413, 'payload-too-large');
    assert.equal(host.authorized(), 0);
    assert.equal(vendorCalls, 0);
  });

  it('a chunked body with no length, read only until it passes the limit', async () => {
    const host = await startHost();
    const endless = (onPull: () => void) =>
      new ReadableStream<Uint8Array>({
        pull(controller) {
          onPull();
          controller.enqueue(new Uint8Array(512));
        },
      });
    const answer = await ask(host, { method: 'POST', body: endless(() => {}), duplex: 'half' } as RequestInit);
    assertError(answer, 413, 'payload-too-large');
    assert.equal(host.authorized(), 0);

    // In-process, where every chunk the handler reads can be counted: three of 512 bytes pass 1 KiB.
    let pulled = 0;
    const handler = createTokenHandler({ authorize: () => ({ id: 'u1' }), issue: async () => ({ token: 't' }) });
    const request = new Request('http://localhost/api/widget-token', {
      method: 'POST',
      body: endless(() => pulled++),
      duplex: 'half',
    } as RequestInit);
    assert.equal((await handler(request)).status, 413);
    assert.ok(pulled <= 4, `read ${pulled} chunks of an endless body`);
  });

  it('a body of exactly 1 KiB is still a token request', async () => {
    const host = await startHost();
    assert.equal((await ask(host, { method: 'POST', body: 'x'.repeat(1024) })).status, 200);
  });
});

describe('refuses cross-site requests with 403 before authorize', () => {
  const refused: Array<[string, Record<string, string>]> = [
    ['Sec-Fetch-Site: cross-site', { 'Sec-Fetch-Site': 'cross-site', Origin: 'https://evil.example' }],
    ['Sec-Fetch-Site: cross-site without Origin (a navigation)', { 'Sec-Fetch-Site': 'cross-site' }],
    ['a foreign Origin from a browser without Sec-Fetch-Site', { Origin: 'https://evil.example' }],
    ['Origin: null (a sandboxed frame)', { Origin: 'null' }],
    [
      'a sibling subdomain (same-site) that is not allowed',
      { 'Sec-Fetch-Site': 'same-site', Origin: 'https://blog.shop.example' },
    ],
  ];
  for (const [name, headers] of refused) {
    it(name, async () => {
      const host = await startHost({ allowedOrigins: ['https://app.shop.example'] });
      const answer = await ask(host, { headers });
      assertError(answer, 403, 'cross-site');
      assert.equal(answer.headers.get('access-control-allow-origin'), null);
      assert.equal(host.authorized(), 0);
      assert.equal(vendorCalls, 0);
    });
  }

  it('a preflight from a foreign origin', async () => {
    const host = await startHost();
    const answer = await ask(host, { method: 'OPTIONS', headers: { Origin: 'https://evil.example' } });
    assertError(answer, 403, 'cross-site');
  });

  const accepted: Array<[string, (host: Host) => Record<string, string>]> = [
    [
      'the page itself (same-origin, even when a proxy changed the scheme)',
      () => ({ 'Sec-Fetch-Site': 'same-origin', Origin: 'https://shop.example' }),
    ],
    ['its own Origin from a browser without Sec-Fetch-Site', (host) => ({ Origin: host.origin })],
    ['a server or curl (no Origin, no Sec-Fetch-Site)', () => ({})],
    ['a URL typed in the address bar (Sec-Fetch-Site: none)', () => ({ 'Sec-Fetch-Site': 'none' })],
  ];
  for (const [name, headers] of accepted) {
    it(`accepts ${name}, with no CORS headers`, async () => {
      const host = await startHost();
      const answer = await ask(host, { headers: headers(host) });
      assert.equal(answer.status, 200);
      assert.equal(answer.headers.get('access-control-allow-origin'), null);
    });
  }

  it('an allowed origin gets CORS headers naming exactly it, with credentials, on success and on error', async () => {
    const app = 'https://app.shop.example';
    let signedIn = true;
    const host = await startHost({ allowedOrigins: [app] }, () => (signedIn ? { id: 'u1' } : null));
    for (const expected of [200, 401]) {
      signedIn = expected === 200;
      const answer = await ask(host, { headers: { 'Sec-Fetch-Site': 'cross-site', Origin: app } });
      assert.equal(answer.status, expected);
      assert.equal(answer.headers.get('access-control-allow-origin'), app);
      assert.equal(answer.headers.get('access-control-allow-credentials'), 'true');
      assert.equal(answer.headers.get('vary'), 'Origin');
    }
    const preflight = await fetch(host.url, {
      method: 'OPTIONS',
      headers: { Origin: app, 'Sec-Fetch-Site': 'cross-site' },
    });
    assert.equal(preflight.status, 204);
    assert.equal(preflight.headers.get('access-control-allow-origin'), app);
    assert.equal(preflight.headers.get('access-control-allow-methods'), 'GET, POST');
    assert.equal(preflight.headers.get('cache-control'), 'no-store');
    assert.equal(preflight.headers.get('pragma'), 'no-cache');
    assert.equal(preflight.headers.get('x-content-type-options'), 'nosniff');
  });

  it('refuses "*", "null" and anything but a bare origin in allowedOrigins', () => {
    for (const origin of [
      '*',
      'null',
      'https://app.example/',
      'https://app.example/path',
      'ftp://app.example',
      'app.example',
    ]) {
      assert.throws(
        () =>
          createTokenHandler({ authorize: () => null, issue: async () => ({ token: 't' }), allowedOrigins: [origin] }),
        (error: unknown) => error instanceof TypeError && /allowedOrigins\[0\]/.test(error.message),
        origin,
      );
    }
  });
});

describe('answers 401 for a signed-out user, and the vendor is never called', () => {
  it('authorize → null', async () => {
    const host = await startHost({}, () => null as unknown as User);
    assertError(await ask(host), 401, 'unauthorized');
    assert.equal(vendorCalls, 0);
  });
});

describe('limits each user to 30 requests a minute by default', () => {
  it('the 31st request in a burst is 429 with Retry-After, the vendor not called; others are unaffected', async () => {
    const host = await startHost({ cache: false });
    for (let i = 0; i < 30; i++) assert.equal((await ask(host)).status, 200, `request ${i + 1}`);
    const callsBefore = vendorCalls;
    const limited = await ask(host);
    assertError(limited, 429, 'rate-limited');
    // 30 a minute refill one every 2 s.
    assert.equal(limited.headers.get('retry-after'), '2');
    assert.equal(vendorCalls, callsBefore);
    assert.equal((await ask(host, { headers: { 'x-test-user': 'u2' } })).status, 200);
    clock += 2000;
    assert.equal((await ask(host)).status, 200);
    assert.equal((await ask(host)).status, 429);
  });

  it('follows rateLimit: {max, windowMs}, and rateLimit: false turns it off', async () => {
    const strict = await startHost({ rateLimit: { max: 2, windowMs: 10_000 } });
    assert.equal((await ask(strict)).status, 200);
    assert.equal((await ask(strict)).status, 200);
    const limited = await ask(strict);
    assert.equal(limited.status, 429);
    assert.equal(limited.headers.get('retry-after'), '5');
    const open = await startHost({ rateLimit: false });
    for (let i = 0; i < 40; i++) assert.equal((await ask(open)).status, 200);
  });
});

describe("caches each user's token, with one vendor call per user at a time", () => {
  it('100 concurrent requests of one user make 1 vendor call and all get the same token', async () => {
    const host = await startHost({ rateLimit: false });
    const answers = await Promise.all(Array.from({ length: 100 }, () => ask(host)));
    assert.equal(vendorCalls, 1);
    assert.deepEqual(new Set(answers.map((answer) => answer.status)), new Set([200]));
    assert.equal(new Set(answers.map((answer) => answer.json.embedToken)).size, 1);
  });

  it('another user gets a token of their own', async () => {
    const host = await startHost();
    const [first, second] = await Promise.all([ask(host), ask(host, { headers: { 'x-test-user': 'u2' } })]);
    assert.equal(vendorCalls, 2);
    assert.notEqual(first.json.embedToken, second.json.embedToken);
  });

  it('serves the cached token while more than half its life is left, then asks the vendor again', async () => {
    const host = await startHost();
    const first = await ask(host);
    clock += (TTL / 2 - 5) * 1000;
    assert.equal((await ask(host)).json.embedToken, first.json.embedToken);
    clock += 10_000;
    const renewed = await ask(host);
    assert.notEqual(renewed.json.embedToken, first.json.embedToken);
    assert.equal(vendorCalls, 2);
  });

  it("the widget's refresh, due at most halfway through the token's life, never gets the same token back", async () => {
    const host = await startHost();
    const first = await ask(host);
    const { iat, exp } = decodeJwt(first.json.embedToken) as { iat: number; exp: number };
    // The element's default margin is 60 s, capped at half the lifetime: it asks again 60 s before expiry at the
    // latest, and at the earliest halfway (the largest margin it accepts).
    for (const refreshAt of [exp - 60, iat + (exp - iat) / 2]) {
      clock = refreshAt * 1000;
      const refreshed = await ask(host);
      assert.notEqual(refreshed.json.embedToken, first.json.embedToken, `refresh at ${refreshAt - iat} s`);
    }
  });

  it('does not keep a failure: the next request asks the vendor again', async () => {
    let fail = true;
    const host = await startHost({
      issue: async () => {
        vendorCalls += 1;
        // A custom issuer reports the vendor's failure as one, so that the answer says it is the vendor's.
        if (fail) throw new TokenIssueError('vendor-http', 'vendor down', { status: 503 });
        return { token: await vendor.issueToken() };
      },
    });
    assertError(await ask(host), 502, 'vendor-failed');
    fail = false;
    assert.equal((await ask(host)).status, 200);
    assert.equal(vendorCalls, 2);
  });

  it('does not keep an opaque token without an expiry', async () => {
    let issued = 0;
    const host = await startHost({ issue: async () => ({ token: `opaque-${++issued}` }) });
    assert.equal((await ask(host)).json.embedToken, 'opaque-1');
    assert.equal((await ask(host)).json.embedToken, 'opaque-2');
  });

  it('cache: false asks the vendor on every request, still once at a time per user', async () => {
    const exchange = accessKeyExchange({
      url: `${vendorOrigin}/vendor/api/widget-access-keys/token`,
      accessId: ACCESS_ID,
      accessKey: ACCESS_KEY,
    });
    const host = await startHost({
      cache: false,
      rateLimit: false,
      // Slow enough that all twenty requests arrive while the first call is out.
      issue: async (user, context) => {
        await new Promise((resolve) => setTimeout(resolve, 200));
        return exchange(user, context);
      },
    });
    await ask(host);
    await ask(host);
    assert.equal(vendorCalls, 2);
    await Promise.all(Array.from({ length: 20 }, () => ask(host)));
    assert.equal(vendorCalls, 3);
  });

  it('a shared store lets a second instance hand out the token the first one got', async () => {
    const entries = new Map<string, CachedToken>();
    const shared: TokenCache = {
      get: async (key) => entries.get(key),
      set: async (key, entry) => void entries.set(key, entry),
    };
    const one = await startHost({ cache: shared });
    const two = await startHost({ cache: shared });
    const first = await ask(one);
    assert.equal((await ask(two)).json.embedToken, first.json.embedToken);
    assert.equal(vendorCalls, 1);
    const entry = entries.get('u1')!;
    const { iat, exp } = decodeJwt(first.json.embedToken);
    assert.deepEqual(entry, { token: first.json.embedToken, expiresAt: exp, issuedAt: iat });
  });

  it('a store that fails is a miss: the user still gets a token, and the log says cache-failed', async () => {
    const broken: TokenCache = {
      get: async () => {
        throw new Error('ECONNREFUSED redis:6379');
      },
      set: () => {
        throw new Error('ECONNREFUSED redis:6379');
      },
    };
    const host = await startHost({ cache: broken });
    assert.equal((await ask(host)).status, 200);
    assert.ok(host.logs.some((line) => line.includes('cache-failed')));
    assert.ok(host.logs.every((line) => !line.includes('ECONNREFUSED')));
  });

  it('a cache that never answers is a miss after 500 ms: the user still gets a token, and the log says so', async () => {
    const hanging: TokenCache = { get: () => new Promise(() => {}), set: () => new Promise(() => {}) };
    const host = await startHost({ cache: hanging });
    const started = performance.now();
    assert.equal((await ask(host)).status, 200);
    const took = performance.now() - started;
    assert.ok(took >= STORE_TIMEOUT_MS - 20 && took < STORE_TIMEOUT_MS * 3, `answered after ${Math.round(took)} ms`);
    assert.ok(host.logs.some((line) => line.includes('cache-failed')));
  });

  it('a shared store that never answers: the instance answers on its own, on time, and says store-failed', async () => {
    const never = () => new Promise<never>(() => {});
    const store: SharedTokenStore = {
      cache: { get: never, set: never },
      rateLimit: { take: never },
      singleFlight: { claim: never },
    };
    const host = await startHost({ store });
    const started = performance.now();
    const answer = await ask(host);
    const took = performance.now() - started;
    assert.equal(answer.status, 200);
    // The rate limit and the cache read are asked in turn, each given STORE_TIMEOUT_MS; nothing waits for the rest.
    assert.ok(took < STORE_TIMEOUT_MS * 4, `answered after ${Math.round(took)} ms`);
    assert.ok(host.logs.some((line) => line.includes('store-failed')));
  });

  it('cache: null is the memory cache, as cache left out is', async () => {
    const host = await startHost({ cache: null as never });
    const first = await ask(host);
    assert.equal((await ask(host)).json.embedToken, first.json.embedToken);
    assert.equal(vendorCalls, 1);
  });

  it('a user without an id is a 500 that tells the developer to pass userId, never a shared token', async () => {
    const host = await startHost({}, () => ({ name: 'no id' }) as unknown as User);
    assertError(await ask(host), 500, 'internal');
    assert.ok(host.logs.some((line) => line.includes('options.userId')));
    assert.equal(vendorCalls, 0);
    const keyed = await startHost({ userId: (user) => `tenant-7:${user.id}` });
    assert.equal((await ask(keyed)).status, 200);
  });
});

describe('the in-memory cache is bounded', () => {
  const entry = (expiresAt: number): CachedToken => ({ token: 't', expiresAt, issuedAt: expiresAt - 900 });

  it('evicts the least recently used entry when full', () => {
    const cache = createMemoryTokenCache({ maxEntries: 2, now: () => 0 });
    cache.set('a', entry(900));
    cache.set('b', entry(900));
    cache.get('a');
    cache.set('c', entry(900));
    assert.ok(cache.get('a'));
    assert.equal(cache.get('b'), undefined);
    assert.ok(cache.get('c'));
  });

  it('drops expired entries, first when read, and before evicting a live one when full', () => {
    let now = 0;
    const cache = createMemoryTokenCache({ maxEntries: 2, now: () => now });
    cache.set('live', entry(2000));
    cache.set('old', entry(100));
    now = 100_000;
    cache.get('live');
    cache.set('new', entry(2000));
    assert.ok(cache.get('live'), 'the expired entry went, not the least recently used live one');
    assert.ok(cache.get('new'));
    assert.equal(cache.get('old'), undefined);
  });
});

describe('answers 504 when the issuer does not answer within timeoutMs', () => {
  it('even an issuer that ignores its signal', async () => {
    let signal: AbortSignal | undefined;
    const host = await startHost({
      timeoutMs: 50,
      issue: (_user, context) => {
        signal = context.signal;
        return new Promise(() => {});
      },
    });
    assertError(await ask(host), 504, 'vendor-timeout');
    assert.equal(signal?.aborted, true);
    // As AbortSignal.timeout aborts: what the exchanges, and any fetch the issuer made, know as a timeout.
    assert.equal((signal?.reason as Error | undefined)?.name, 'TimeoutError');
    assert.ok(host.logs.some((line) => line.includes('vendor-timeout')));
  });
});

describe('never lets a secret into a response, an error or a log', () => {
  it('drives every failure path and finds the access key nowhere', { timeout: 10_000 }, async () => {
    // A careless vendor that echoes the request (access key included) in every answer it gives.
    let mode = 'http';
    const echo = await listen(async (req, res) => {
      let body = '';
      for await (const chunk of req) body += chunk;
      if (mode === 'slow') return;
      if (mode === 'reset') return req.socket.destroy();
      res.writeHead(mode === 'http' ? 401 : 200, { 'Content-Type': 'application/json' });
      res.end(mode === 'not-json' ? `oops ${body}` : mode === 'no-token' ? JSON.stringify({ echo: body }) : body);
    });
    const output: string[] = [];
    const original = { ...console };
    for (const level of ['log', 'info', 'warn', 'error', 'debug'] as const) {
      console[level] = (...args: unknown[]) => void output.push(args.map(String).join(' '));
    }
    try {
      const host = await startHost({
        issue: accessKeyExchange({ url: `${echo}/token`, accessId: ACCESS_ID, accessKey: ACCESS_KEY }),
        timeoutMs: 200,
        rateLimit: { max: 8, windowMs: 60_000 },
        logger: console,
      });
      const answers: Answer[] = [];
      for (mode of ['http', 'not-json', 'no-token', 'reset', 'slow']) answers.push(await ask(host));
      answers.push(await ask(host, { method: 'PUT' }));
      answers.push(await ask(host, { method: 'POST', body: ACCESS_KEY.repeat(40) }));
      answers.push(await ask(host, { headers: { 'Sec-Fetch-Site': 'cross-site' } }));
      for (let i = 0; i < 4; i++) answers.push(await ask(host));
      const statuses = answers.map((answer) => answer.status);
      for (const status of [405, 413, 403, 429, 502, 504])
        assert.ok(statuses.includes(status), `${status} in ${statuses}`);
      const everything = [
        ...output,
        ...answers.map((answer) => JSON.stringify(answer.json) + [...answer.headers].join()),
      ];
      for (const text of everything) assert.ok(!text.includes(ACCESS_KEY), `secret in: ${text.slice(0, 200)}`);
      assert.ok(output.length >= 5, 'each vendor failure was logged');
    } finally {
      Object.assign(console, original);
    }
  });
});

describe('a bounded store', () => {
  it('gives back a claim won after it stopped waiting, and bounds the release it hands out', async () => {
    let released = 0;
    let release!: () => Promise<void>;
    const store = boundedStore(
      {
        cache: { get: async () => undefined, set: async () => {} },
        singleFlight: {
          claim: (_key, ttlMs) =>
            new Promise((resolve) => {
              release = async () => void (released += 1);
              setTimeout(() => resolve(release), ttlMs);
            }),
        },
      },
      20,
    );
    await assert.rejects(store.singleFlight!.claim('u1', 60), { name: 'StoreTimeoutError' });
    await new Promise((resolve) => setTimeout(resolve, 80));
    assert.equal(released, 1, 'the late claim was released');

    const hangingRelease = boundedStore(
      {
        cache: { get: async () => undefined, set: async () => {} },
        singleFlight: { claim: async () => () => new Promise(() => {}) },
      },
      20,
    );
    const got = await hangingRelease.singleFlight!.claim('u1', 1_000);
    assert.equal(typeof got, 'function');
    await assert.rejects(got!(), { name: 'StoreTimeoutError' });
  });

  it('waits as long as a store that times itself out says its calls may take, not 500 ms', async () => {
    const entry = { token: 't', expiresAt: 2, issuedAt: 1 };
    const slow = (value: unknown, ms: number) =>
      new Promise<never>((resolve) => setTimeout(() => resolve(value as never), ms));
    const store = boundedStore({
      cache: { get: () => slow(entry, STORE_TIMEOUT_MS + 150), set: async () => {} },
      timeoutMs: 1_000,
    });
    assert.equal(store.timeoutMs, 1_000);
    assert.equal(await store.cache.get('u1'), entry);
    const unsaid = boundedStore({ cache: { get: () => slow(entry, STORE_TIMEOUT_MS + 150), set: async () => {} } });
    await assert.rejects(Promise.resolve(unsaid.cache.get('u1')), { name: 'StoreTimeoutError' });
  });

  it('passes answers, null claims and errors through as they are', async () => {
    const entry = { token: 't', expiresAt: 2, issuedAt: 1 };
    const failure = new Error('down');
    const store = boundedStore({
      cache: {
        get: () => entry,
        set: () => {
          throw failure;
        },
      },
      rateLimit: { take: async () => ({ allowed: true }) },
      singleFlight: { claim: async () => null },
    });
    assert.equal(await store.cache.get('u1'), entry);
    await assert.rejects(Promise.resolve(store.cache.set('u1', entry)), failure);
    assert.deepEqual(await store.rateLimit!.take('u1', { max: 1, windowMs: 1, now: 0 }), { allowed: true });
    assert.equal(await store.singleFlight!.claim('u1', 10), null);
  });
});
