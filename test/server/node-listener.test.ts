import assert from 'node:assert/strict';
import http from 'node:http';
import { describe, it } from 'node:test';
import { toNodeListener } from '../../src/server/index.js';
import type { WebHandler } from '../../src/server/index.js';
import { listen } from './loopback.js';

// toNodeListener on a real node:http server on loopback, asked by a real client. Nothing here waits on a clock: each
// step waits on the event or promise that says the previous one happened.

interface Exchange {
  req: http.IncomingMessage;
  res: http.ServerResponse;
  /** Resolves when the server's response closed: finished, or the connection gone (`res.writableFinished` says which). */
  closed: Promise<void>;
  /** How many times writeHead was called. */
  writeHeads: number;
}

/** A server running `handler` through toNodeListener, after `before` (an Express-style middleware) if given. */
async function serve(
  handler: WebHandler,
  before?: (req: http.IncomingMessage, res: http.ServerResponse) => void,
): Promise<{ url: string; exchanges: Exchange[]; next: () => Promise<Exchange> }> {
  const listener = toNodeListener(handler);
  const exchanges: Exchange[] = [];
  let waiting: ((exchange: Exchange) => void) | undefined;
  const url = await listen((req, res) => {
    // Registered before toNodeListener's own 'close' listener, so it runs first.
    const closed = new Promise<void>((resolve) => res.once('close', resolve));
    const exchange: Exchange = { req, res, closed, writeHeads: 0 };
    const writeHead = res.writeHead;
    res.writeHead = function (this: http.ServerResponse, ...args: unknown[]) {
      exchange.writeHeads++;
      return (writeHead as (...args: unknown[]) => http.ServerResponse).apply(this, args);
    } as typeof res.writeHead;
    exchanges.push(exchange);
    waiting?.(exchange);
    waiting = undefined;
    before?.(req, res);
    listener(req, res);
  });
  const next = () => new Promise<Exchange>((resolve) => (waiting = resolve));
  return { url, exchanges, next };
}

/** A deferred: a promise and the function that settles it. */
function deferred<T = void>(): { promise: Promise<T>; resolve: (value: T) => void } {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((settle) => (resolve = settle));
  return { promise, resolve };
}

/** A request made with node:http, whose socket the test can cut. */
function rawRequest(url: string, options: http.RequestOptions = {}): http.ClientRequest {
  const request = http.request(url, { agent: false, ...options });
  // The test cuts the connection itself; the resulting ECONNRESET is expected.
  request.on('error', () => {});
  return request;
}

/** The raw answer as node:http's client sees it: status, raw header pairs, body. */
function rawAnswer(
  request: http.ClientRequest,
): Promise<{ status: number; statusMessage: string; headers: http.IncomingHttpHeaders; raw: string[]; body: string }> {
  return new Promise((resolve, reject) => {
    request.on('response', (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk) => (body += chunk));
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          statusMessage: res.statusMessage ?? '',
          headers: res.headers,
          raw: res.rawHeaders,
          body,
        }),
      );
      res.on('error', reject);
    });
    request.on('error', reject);
  });
}

/** Every value sent under `name`, from node:http's raw [name, value, name, value…] list. */
function headerValues(raw: string[], name: string): string[] {
  return raw.filter((_, i) => i % 2 === 1 && raw[i - 1]!.toLowerCase() === name);
}

/** A body stream that records whether it was cancelled. */
function trackedBody(chunks: string[]): { body: ReadableStream<Uint8Array>; cancelled: Promise<void> } {
  const cancel = deferred();
  const encoder = new TextEncoder();
  let index = 0;
  const body = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (index < chunks.length) controller.enqueue(encoder.encode(chunks[index++]));
      else controller.close();
    },
    cancel: () => cancel.resolve(),
  });
  return { body, cancelled: cancel.promise };
}

describe('the Request’s signal follows the client', () => {
  it('aborts when the client hangs up while the handler is still working', async () => {
    const entered = deferred<AbortSignal>();
    const { url } = await serve(
      (request) =>
        new Promise((resolve) => {
          entered.resolve(request.signal);
          request.signal.addEventListener('abort', () => resolve(new Response('late')));
        }),
    );
    const client = rawRequest(url);
    client.end();
    const signal = await entered.promise;
    assert.equal(signal.aborted, false);
    client.destroy();
    await new Promise((resolve) => signal.addEventListener('abort', resolve, { once: true }));
    assert.equal(signal.aborted, true);
  });

  it('a clone of the request, body and all, aborts with it', async () => {
    const entered = deferred<{ clone: Request; original: Request }>();
    const { url } = await serve((request) => {
      const clone = request.clone();
      entered.resolve({ clone, original: request });
      return new Promise((resolve) => clone.signal.addEventListener('abort', () => resolve(null)));
    });
    const client = rawRequest(url, { method: 'POST', headers: { 'Content-Type': 'text/plain' } });
    client.write('half a body');
    const { clone, original } = await entered.promise;
    assert.equal(clone.signal.aborted, false);
    client.destroy();
    await new Promise((resolve) => clone.signal.addEventListener('abort', resolve, { once: true }));
    assert.equal(original.signal.aborted, true);
  });

  it('is already aborted when first read after the client has gone', async () => {
    const gone = deferred();
    const seen = deferred<boolean>();
    const { url, next } = await serve(async (request) => {
      await gone.promise;
      seen.resolve(request.signal.aborted);
      return null;
    });
    const exchange = next();
    const client = rawRequest(url);
    client.end();
    const { closed } = await exchange;
    client.destroy();
    await closed;
    gone.resolve();
    assert.equal(await seen.promise, true);
  });

  it('never aborts when the response was sent whole', async () => {
    let signal: AbortSignal | undefined;
    const { url, next } = await serve((request) => {
      signal = request.signal;
      return new Response('done');
    });
    const exchange = next();
    const response = await fetch(url);
    assert.equal(await response.text(), 'done');
    await (await exchange).closed;
    assert.equal(signal?.aborted, false);
  });
});

describe('a response for a client that is gone is not written, and its body is released', () => {
  it('a handler answering after the hang-up: its body is cancelled', async () => {
    const gone = deferred();
    const tracked = trackedBody(['never', 'sent']);
    const { url, next } = await serve(async () => {
      await gone.promise;
      return new Response(tracked.body);
    });
    const exchange = next();
    const client = rawRequest(url);
    client.end();
    const { closed, res } = await exchange;
    client.destroy();
    await closed;
    gone.resolve();
    await tracked.cancelled;
    assert.equal(res.headersSent, false);
  });

  it('a streamed body whose next chunk comes after the hang-up: the stream is cancelled', {
    timeout: 5000,
  }, async () => {
    const gone = deferred();
    const cancelled = deferred();
    const encoder = new TextEncoder();
    let pulls = 0;
    const { url, next } = await serve(
      () =>
        new Response(
          new ReadableStream<Uint8Array>(
            {
              async pull(controller) {
                pulls++;
                // Two chunks at once, so the answer is streamed; the third only once the client has gone.
                if (pulls > 2) await gone.promise;
                controller.enqueue(encoder.encode(`chunk ${pulls};`));
              },
              cancel: () => cancelled.resolve(),
            },
            { highWaterMark: 0 },
          ),
        ),
    );
    const exchange = next();
    const client = rawRequest(url);
    const firstBytes = new Promise<void>((resolve) =>
      client.on('response', (res) => res.once('data', () => resolve())),
    );
    client.end();
    const { closed } = await exchange;
    await firstBytes;
    client.destroy();
    await closed;
    gone.resolve();
    await cancelled.promise;
  });
});

describe('headers a middleware set on the Node response before', () => {
  const middleware = (_req: http.IncomingMessage, res: http.ServerResponse): void => {
    res.setHeader('Set-Cookie', ['session=abc; Path=/; HttpOnly', 'theme=dark; Path=/']);
    res.setHeader('X-Frame-Options', 'DENY');
    res.setHeader('Cache-Control', 'public, max-age=60');
  };

  it('stay beside the handler’s own, each Set-Cookie on its own line', async () => {
    const { url } = await serve(
      () => new Response('{}', { headers: { 'Content-Type': 'application/json', 'X-Handler': 'yes' } }),
      middleware,
    );
    const response = await fetch(url);
    assert.deepEqual(response.headers.getSetCookie(), ['session=abc; Path=/; HttpOnly', 'theme=dark; Path=/']);
    assert.equal(response.headers.get('x-frame-options'), 'DENY');
    assert.equal(response.headers.get('cache-control'), 'public, max-age=60');
    assert.equal(response.headers.get('x-handler'), 'yes');
    assert.equal(response.headers.get('content-type'), 'application/json');
  });

  it('give way to a header the handler’s answer names too; Set-Cookie adds, each cookie on its own line', async () => {
    const { url } = await serve(() => {
      const headers = new Headers({ 'Cache-Control': 'no-store' });
      headers.append('Set-Cookie', 'a=1; Path=/');
      headers.append('Set-Cookie', 'b=2; Path=/');
      return new Response('{}', { headers });
    }, middleware);
    const request = rawRequest(url);
    request.end();
    const answer = await rawAnswer(request);
    assert.deepEqual(answer.headers['set-cookie'], [
      'session=abc; Path=/; HttpOnly',
      'theme=dark; Path=/',
      'a=1; Path=/',
      'b=2; Path=/',
    ]);
    assert.equal(answer.headers['x-frame-options'], 'DENY');
    // Once: replaced, not sent twice.
    assert.deepEqual(headerValues(answer.raw, 'cache-control'), ['no-store']);
  });
});

describe('writes each answer with one writeHead', () => {
  it('a body in one chunk: Content-Length, not chunked', async () => {
    const { url, next } = await serve(() => new Response('{"ok":true}', { status: 201, statusText: 'Made' }));
    const exchange = next();
    const request = rawRequest(url);
    request.end();
    const answer = await rawAnswer(request);
    assert.equal(answer.status, 201);
    assert.equal(answer.statusMessage, 'Made');
    assert.equal(answer.headers['content-length'], '11');
    assert.equal(answer.headers['transfer-encoding'], undefined);
    assert.equal(answer.body, '{"ok":true}');
    assert.equal((await exchange).writeHeads, 1);
  });

  it('a handler’s own Content-Length is sent once', async () => {
    const { url } = await serve(() => new Response('abc', { headers: { 'Content-Length': '3' } }));
    const request = rawRequest(url);
    request.end();
    const answer = await rawAnswer(request);
    assert.deepEqual(headerValues(answer.raw, 'content-length'), ['3']);
    assert.equal(answer.body, 'abc');
  });

  it('no body: Content-Length 0', async () => {
    const { url } = await serve(() => new Response(null, { status: 202 }));
    const request = rawRequest(url);
    request.end();
    const answer = await rawAnswer(request);
    assert.equal(answer.status, 202);
    assert.equal(answer.headers['content-length'], '0');
    assert.equal(answer.body, '');
  });

  it('a streamed body goes out chunked, whole, however large, with one writeHead', async () => {
    const piece = 'x'.repeat(64 * 1024);
    const count = 64; // 4 MiB: more than the socket takes at once, so writes wait for 'drain'
    const { url, next } = await serve(() => new Response(trackedBody(Array(count).fill(piece)).body));
    const exchange = next();
    const request = rawRequest(url);
    request.end();
    const answer = await rawAnswer(request);
    assert.equal(answer.headers['transfer-encoding'], 'chunked');
    assert.equal(answer.headers['content-length'], undefined);
    assert.equal(answer.body.length, piece.length * count);
    assert.equal((await exchange).writeHeads, 1);
  });

  it('a body that fails midway cuts the connection rather than end a short answer as if whole', async () => {
    const received = deferred();
    const encoder = new TextEncoder();
    let pulls = 0;
    const { url } = await serve(
      () =>
        new Response(
          new ReadableStream<Uint8Array>(
            {
              async pull(controller) {
                pulls++;
                if (pulls <= 2) controller.enqueue(encoder.encode(`part ${pulls};`));
                else {
                  // Fails only once the client holds the headers and the first part.
                  await received.promise;
                  controller.error(new Error('the source failed'));
                }
              },
            },
            { highWaterMark: 0 },
          ),
        ),
    );
    const response = await fetch(url);
    assert.equal(response.status, 200);
    const reader = response.body!.getReader();
    const first = await reader.read();
    assert.equal(first.done, false);
    received.resolve();
    await assert.rejects(async () => {
      while (!(await reader.read()).done);
    });
  });

  for (const status of [204, 304]) {
    it(`${status}: no body and no Content-Length, whatever the Response holds`, async () => {
      const { url } = await serve(() => new Response(null, { status }));
      const request = rawRequest(url);
      request.end();
      const answer = await rawAnswer(request);
      assert.equal(answer.status, status);
      assert.equal(answer.headers['content-length'], undefined);
      assert.equal(answer.body, '');
    });
  }
});

describe('HEAD', () => {
  it('gets the status and headers, no body, and the body the handler made is released', async () => {
    const tracked = trackedBody(['{"a":1}']);
    const { url, next } = await serve(
      () => new Response(tracked.body, { status: 200, headers: { 'Content-Type': 'application/json', 'X-A': '1' } }),
    );
    const exchange = next();
    const request = rawRequest(url, { method: 'HEAD' });
    request.end();
    const answer = await rawAnswer(request);
    assert.equal(answer.status, 200);
    assert.equal(answer.headers['x-a'], '1');
    assert.equal(answer.body, '');
    await tracked.cancelled;
    assert.equal((await exchange).writeHeads, 1);
  });

  it('reaches the handler as HEAD, with no body', async () => {
    const seen = deferred<{ method: string; body: boolean }>();
    const { url } = await serve((request) => {
      seen.resolve({ method: request.method, body: request.body !== null });
      return new Response(null, { status: 405, headers: { Allow: 'GET, POST' } });
    });
    const response = await fetch(url, { method: 'HEAD' });
    assert.equal(response.status, 405);
    assert.equal(response.headers.get('allow'), 'GET, POST');
    assert.deepEqual(await seen.promise, { method: 'HEAD', body: false });
  });
});

describe('request headers reach the handler as the client sent them', () => {
  it('a header sent twice keeps both values', async () => {
    const seen = deferred<{ multi: string | null; cookies: string[]; host: string | null }>();
    const { url } = await serve((request) => {
      seen.resolve({
        multi: request.headers.get('x-multi'),
        // node:http gives a repeated Set-Cookie as an array: each value goes in as its own pair.
        cookies: request.headers.getSetCookie(),
        host: request.headers.get('host'),
      });
      return new Response(null, { status: 204 });
    });
    const request = rawRequest(url, {
      // Raw pairs, so that a name goes out twice; node:http then adds no Host of its own.
      headers: [
        ['Host', new URL(url).host],
        ['X-Multi', 'one'],
        ['X-Multi', 'two'],
        ['Set-Cookie', 'a=1'],
        ['Set-Cookie', 'b=2'],
      ].flat(),
    });
    request.end();
    assert.equal((await rawAnswer(request)).status, 204);
    const { multi, cookies, host } = await seen.promise;
    assert.equal(multi, 'one, two');
    assert.deepEqual(cookies, ['a=1', 'b=2']);
    assert.equal(host, new URL(url).host);
  });
});

describe('an unread request body', () => {
  it('stays unread, and keep-alive serves the next request on the same connection', async () => {
    const { url, next } = await serve((request) => new Response(`${request.method} unread`));
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    try {
      const sockets = new Set<unknown>();
      for (const method of ['POST', 'POST', 'GET']) {
        const exchange = next();
        const request = http.request(url, { agent, method });
        request.end(method === 'POST' ? 'x'.repeat(256 * 1024) : undefined);
        const answer = await rawAnswer(request);
        assert.equal(answer.body, `${method} unread`);
        sockets.add((await exchange).req.socket);
      }
      assert.equal(sockets.size, 1, 'one connection served all three');
    } finally {
      agent.destroy();
    }
  });
});

describe('a request no handler should see is a 400', () => {
  it('a Host header that is no host', async () => {
    let called = false;
    const { url } = await serve(() => {
      called = true;
      return new Response('no');
    });
    const request = rawRequest(url, { headers: { Host: 'bad host' } });
    request.end();
    const answer = await rawAnswer(request);
    assert.equal(answer.status, 400);
    assert.deepEqual(JSON.parse(answer.body), { error: { code: 'bad-request', message: 'Bad request.' } });
    assert.equal(answer.headers['cache-control'], 'no-store');
    assert.equal(called, false);
  });

  it('a method fetch forbids (TRACE)', async () => {
    let called = false;
    const { url } = await serve(() => {
      called = true;
      return new Response('no');
    });
    const request = rawRequest(url, { method: 'TRACE' });
    request.end();
    const answer = await rawAnswer(request);
    assert.equal(answer.status, 400);
    assert.equal(JSON.parse(answer.body).error.code, 'bad-request');
    assert.equal(called, false);
  });
});

describe('toNodeListener checks its argument', () => {
  it('throws a TypeError for a handler that is not a function', () => {
    assert.throws(() => toNodeListener('handler' as unknown as WebHandler), {
      name: 'TypeError',
      message: /handler must be a function/,
    });
  });
});
