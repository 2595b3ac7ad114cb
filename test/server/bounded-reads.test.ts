import assert from 'node:assert/strict';
import type http from 'node:http';
import { describe, it } from 'node:test';
import { MAX_TOKEN_BODY, MAX_TOKEN_LENGTH } from '../../src/protocol/limits.js';
import { TokenIssueError, accessKeyExchange, createTokenHandler, tokenExchange } from '../../src/server/index.js';
import type { CachedToken, TokenCache, TokenIssuer } from '../../src/server/index.js';
import { listen } from './loopback.js';

// What the server reads from outside (the vendor's answer, a custom cache's entry) is bounded: protocol/limits.ts.

const ACCESS_KEY = 'rvk_bounded_7c1e9a4f2b8d6e30';
const TEN_MB = 10 * 1024 * 1024;
const CHUNK = 64 * 1024;

/** What the vendor saw of one call: how much it got out before the host stopped, and whether the host hung up. */
interface VendorSide {
  written: number;
  /** Resolves true when the connection closed before the whole answer went out. */
  cut: Promise<boolean>;
}

type Answer = (res: http.ServerResponse, side: VendorSide) => void | Promise<void>;

async function startVendor(answer: Answer): Promise<{ url: string; calls: VendorSide[] }> {
  const calls: VendorSide[] = [];
  const origin = await listen(async (req, res) => {
    for await (const _ of req); // the request body: read it all, as a vendor does
    const side: VendorSide = {
      written: 0,
      cut: new Promise((resolve) => res.once('close', () => resolve(!res.writableFinished))),
    };
    calls.push(side);
    await answer(res, side);
  });
  return { url: `${origin}/token`, calls };
}

/** Writes `total` bytes of JSON-ish filler, a chunk at a time, honouring backpressure, stopping when the host hangs up. */
async function stream(res: http.ServerResponse, side: VendorSide, total: number, pauseMs = 0): Promise<void> {
  const chunk = Buffer.alloc(CHUNK, ' ');
  while (side.written < total && !res.destroyed) {
    const size = Math.min(CHUNK, total - side.written);
    const more = res.write(size === CHUNK ? chunk : chunk.subarray(0, size));
    side.written += size;
    if (!more) await drainedOrClosed(res);
    if (pauseMs > 0) await new Promise((resolve) => setTimeout(resolve, pauseMs));
  }
  if (!res.destroyed) res.end();
}

function drainedOrClosed(res: http.ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const settle = (): void => {
      res.off('drain', settle);
      res.off('close', settle);
      resolve();
    };
    res.once('drain', settle);
    res.once('close', settle);
  });
}

/** `{"token":"…"}` padded with JSON whitespace to exactly `size` bytes. */
function envelope(size: number, token = 'opaque-token'): string {
  const json = JSON.stringify({ token });
  assert.ok(json.length <= size);
  return json + ' '.repeat(size - json.length);
}

/**
 * The platform's fetch, with the body it hands the exchange counted as the exchange reads it: what crossed from the
 * socket into the host. The vendor's own count says little, since the sockets' buffers take megabytes unread.
 */
function countingFetch(counter: { bytes: number }): typeof fetch {
  return async (input, init) => {
    const response = await fetch(input, init);
    if (response.body === null) return response;
    const reader = response.body.getReader();
    const body = new ReadableStream<Uint8Array>(
      {
        async pull(controller) {
          const { done, value } = await reader.read();
          if (done) return controller.close();
          counter.bytes += value.byteLength;
          controller.enqueue(value);
        },
        cancel: (reason) => reader.cancel(reason),
      },
      { highWaterMark: 0 },
    );
    return new Response(body, { status: response.status, headers: response.headers });
  };
}

function handlerFor(issue: TokenIssuer<unknown>, logs: string[] = []) {
  return createTokenHandler({
    authorize: () => ({ id: 'u1' }),
    issue,
    cache: false,
    timeoutMs: 5000,
    logger: { warn: (message) => logs.push(message) },
  });
}

async function rejection(promise: Promise<unknown>): Promise<TokenIssueError> {
  const error = await promise.then(
    () => assert.fail('expected a rejection'),
    (reason: unknown) => reason,
  );
  assert.ok(error instanceof TokenIssueError, `expected a TokenIssueError, got ${String(error)}`);
  return error;
}

describe(`reads the vendor's answer no further than MAX_TOKEN_BODY (${MAX_TOKEN_BODY} bytes)`, () => {
  // What the host may read of each: nothing past a declared length over the limit, else one socket read (undici's
  // are at most 64 KiB) past it.
  const cases: Array<[string, Answer, number]> = [
    [
      '10 MB with a Content-Length',
      (res, side) => {
        res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': String(TEN_MB) });
        return stream(res, side, TEN_MB);
      },
      0,
    ],
    [
      '10 MB chunked, with no Content-Length',
      (res, side) => {
        res.writeHead(200, { 'Content-Type': 'application/json' });
        return stream(res, side, TEN_MB);
      },
      MAX_TOKEN_BODY + 64 * 1024,
    ],
    [
      '10 MB streamed slowly, 1 KiB every 5 ms',
      async (res, side) => {
        res.writeHead(200, { 'Content-Type': 'application/json' });
        res.flushHeaders();
        const chunk = Buffer.alloc(1024, ' ');
        while (side.written < TEN_MB && !res.destroyed) {
          res.write(chunk);
          side.written += chunk.length;
          await new Promise((resolve) => setTimeout(resolve, 5));
        }
        if (!res.destroyed) res.end();
      },
      MAX_TOKEN_BODY + 1024,
    ],
  ];

  for (const [name, answer, mostRead] of cases) {
    it(`${name} → 502 vendor-failed at once, the vendor cut off, read no further`, { timeout: 5000 }, async () => {
      const vendor = await startVendor(answer);
      const logs: string[] = [];
      const read = { bytes: 0 };
      const fetch = countingFetch(read);
      const handler = handlerFor(
        accessKeyExchange({ url: vendor.url, accessId: 'host', accessKey: ACCESS_KEY, fetch }),
        logs,
      );
      const before = process.memoryUsage().arrayBuffers;
      const started = performance.now();
      const response = await handler(new Request('http://host.example/api/widget-token'));
      const elapsed = performance.now() - started;

      assert.equal(response.status, 502);
      assert.equal((await response.json()).error.code, 'vendor-failed');
      assert.deepEqual(logs, [
        'secure-widget/server: token request failed: vendor-response (vendor status 200): ' +
          `The vendor token API answered more than ${MAX_TOKEN_BODY} bytes.`,
      ]);
      // Far from the handler's 5 s deadline: the limit decided, not a timer.
      assert.ok(elapsed < 2000, `took ${Math.round(elapsed)} ms`);
      assert.equal(await vendor.calls[0]!.cut, true, 'the vendor finished sending: the host read it all');
      assert.ok(vendor.calls[0]!.written < TEN_MB, 'the vendor got all 10 MB out');
      assert.ok(read.bytes <= mostRead, `the host read ${read.bytes} bytes`);
      const grown = process.memoryUsage().arrayBuffers - before;
      assert.ok(grown < 4 * 1024 * 1024, `array buffers grew by ${grown} bytes`);
    });
  }

  it('a Content-Length over the limit is refused before a byte of the body is read', { timeout: 5000 }, async () => {
    let bodyRead = false;
    const huge = new ReadableStream<Uint8Array>({ pull: () => void (bodyRead = true) }, { highWaterMark: 0 });
    const fetch = async () =>
      new Response(huge, {
        headers: { 'Content-Length': String(MAX_TOKEN_BODY + 1), 'Content-Type': 'application/json' },
      });
    const error = await rejection(
      tokenExchange({ url: 'https://vendor.example/token', fetch })(undefined, {
        signal: new AbortController().signal,
      }),
    );
    assert.equal(error.code, 'vendor-response');
    assert.equal(error.status, 200);
    assert.equal(bodyRead, false);
  });

  for (const [name, headers] of [
    ['with its Content-Length', (size: number) => ({ 'Content-Length': String(size) })],
    ['chunked', () => ({})],
  ] as const) {
    it(`a body of exactly the limit is read, ${name}; one byte more is not`, async () => {
      let size = 0;
      const vendor = await startVendor((res) => {
        res.writeHead(200, { 'Content-Type': 'application/json', ...headers(size) });
        res.end(envelope(size, 'x'.repeat(MAX_TOKEN_LENGTH)));
      });
      const issue = tokenExchange({ url: vendor.url });
      size = MAX_TOKEN_BODY;
      assert.deepEqual(await issue(undefined, { signal: new AbortController().signal }), {
        token: 'x'.repeat(MAX_TOKEN_LENGTH),
      });
      size = MAX_TOKEN_BODY + 1;
      const error = await rejection(issue(undefined, { signal: new AbortController().signal }));
      assert.equal(error.code, 'vendor-response');
      assert.match(error.message, new RegExp(`more than ${MAX_TOKEN_BODY} bytes`));
    });
  }

  it('counts bytes, not characters: 3-byte characters over the limit are refused', async () => {
    // Under the limit in UTF-16 code units, over it in the UTF-8 bytes that arrive.
    const body = JSON.stringify({ token: 't', pad: '€'.repeat(Math.ceil(MAX_TOKEN_BODY / 3)) });
    assert.ok(body.length < MAX_TOKEN_BODY);
    const fetch = async () => new Response(body, { headers: { 'Content-Type': 'application/json' } });
    const error = await rejection(
      tokenExchange({ url: 'https://vendor.example/token', fetch })(undefined, {
        signal: new AbortController().signal,
      }),
    );
    assert.equal(error.code, 'vendor-response');
  });

  it('a Content-Length that lies low does not lift the limit', async () => {
    const fetch = async () =>
      new Response(envelope(MAX_TOKEN_BODY * 4), {
        headers: { 'Content-Length': '20', 'Content-Type': 'application/json' },
      });
    const error = await rejection(
      tokenExchange({ url: 'https://vendor.example/token', fetch })(undefined, {
        signal: new AbortController().signal,
      }),
    );
    assert.equal(error.code, 'vendor-response');
  });

  it('the message never quotes the body', async () => {
    const vendor = await startVendor((res) => {
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.end(`{"echo":"${ACCESS_KEY}"}`.padEnd(MAX_TOKEN_BODY + 100, ' '));
    });
    const error = await rejection(
      accessKeyExchange({ url: vendor.url, accessId: 'host', accessKey: ACCESS_KEY })(undefined, {
        signal: new AbortController().signal,
      }),
    );
    assert.equal(error.code, 'vendor-response');
    assert.ok(!`${error.message} ${String(error.cause)}`.includes(ACCESS_KEY));
  });

  it('a custom fetch whose body ignores the signal still stops at the deadline: vendor-timeout', {
    timeout: 2000,
  }, async () => {
    let cancelled = false;
    const fetch = async () =>
      new Response(
        new ReadableStream<Uint8Array>({ pull: () => new Promise(() => {}), cancel: () => void (cancelled = true) }),
      );
    // A deadline as the handler's: a TimeoutError (AbortSignal.timeout's own timer would not keep the test alive).
    const deadline = new AbortController();
    setTimeout(() => deadline.abort(new DOMException('deadline', 'TimeoutError')), 30);
    const error = await rejection(
      tokenExchange({ url: 'https://vendor.example/token', fetch })(undefined, { signal: deadline.signal }),
    );
    assert.equal(error.code, 'vendor-timeout');
    assert.equal(cancelled, true);
  });

  it('a custom fetch whose body yields strings, which count no bytes, is refused: vendor-network', async () => {
    const fetch = async () =>
      new Response(
        new ReadableStream({
          pull: (controller) => controller.enqueue('x'.repeat(CHUNK) as never),
        }),
      );
    const error = await rejection(
      tokenExchange({ url: 'https://vendor.example/token', fetch })(undefined, {
        signal: new AbortController().signal,
      }),
    );
    assert.equal(error.code, 'vendor-network');
  });
});

describe('serves from a custom cache only a token it could have stored', () => {
  const soon = () => Math.floor(Date.now() / 1000);
  const entries: Array<[string, unknown]> = [
    ['a token over 16 KiB', { token: 'x'.repeat(MAX_TOKEN_LENGTH + 1), expiresAt: soon() + 900, issuedAt: soon() }],
    ['a 10 MB token', { token: 'x'.repeat(TEN_MB), expiresAt: soon() + 900, issuedAt: soon() }],
    ['an empty token', { token: '', expiresAt: soon() + 900, issuedAt: soon() }],
    ['a blank token', { token: '  ', expiresAt: soon() + 900, issuedAt: soon() }],
    ['a token that is no string', { token: { length: 1 }, expiresAt: soon() + 900, issuedAt: soon() }],
    [
      'an entry whose getter throws',
      Object.defineProperty({ expiresAt: soon() + 900, issuedAt: soon() }, 'token', {
        get: () => {
          throw new Error('corrupt entry');
        },
      }),
    ],
  ];
  for (const [name, entry] of entries) {
    it(`${name} is a miss: the vendor's token goes out`, async () => {
      const store: TokenCache = { get: () => entry as CachedToken, set: () => {} };
      let issued = 0;
      const handler = createTokenHandler({
        authorize: () => 'u1',
        issue: async () => {
          issued += 1;
          return { token: 'fresh-token', expiresIn: 900 };
        },
        cache: store,
        logger: { warn: () => {} },
      });
      const response = await handler(new Request('http://host.example/api/widget-token'));
      assert.equal(response.status, 200);
      assert.equal((await response.json()).embedToken, 'fresh-token');
      assert.equal(issued, 1);
    });
  }
});
