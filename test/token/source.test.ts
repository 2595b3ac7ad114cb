import { expect } from '@open-wc/testing';
import { UnsecuredJWT } from 'jose';
import sinon from 'sinon';
import { SecureWidgetError } from '../../src/element/errors.js';
import { MAX_TOKEN_LENGTH } from '../../src/protocol/limits.js';
import type { TokenGrant } from '../../src/element/token/grant.js';
import {
  DEFAULT_TIMEOUT,
  customLoader,
  endpointLoader,
  parseRetryAfter,
  type EndpointOptions,
} from '../../src/element/token/source.js';

// The server's true time, on a whole second so that it survives an HTTP date.
const SERVER_NOW = Date.UTC(2026, 10, 22, 12, 0, 0);
const S = SERVER_NOW / 1000;
const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const ENDPOINT = '/api/widget-token';
const OPAQUE = 'a1b2c3d4e5f6';

/** A 15-minute token, issued `age` ms before SERVER_NOW. Unsigned: the browser only decodes. */
function jwt(age = 0): string {
  const iat = (SERVER_NOW - age) / 1000;
  return new UnsecuredJWT({ sub: 'u1' })
    .setIssuedAt(iat)
    .setExpirationTime(iat + 900)
    .encode();
}

const httpDate = (ms: number) => new Date(ms).toUTCString();

function json(body: unknown, headers: Record<string, string> = {}, status = 200): Response {
  return new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json', ...headers } });
}

function text(body: string, contentType = 'text/plain;charset=utf-8', headers: Record<string, string> = {}): Response {
  return new Response(body, { headers: { 'Content-Type': contentType, ...headers } });
}

/** Rejects with the signal's reason when it aborts, like fetch; never resolves otherwise. */
function untilAborted(signal: AbortSignal | null | undefined): Promise<never> {
  return new Promise((_, reject) => {
    if (!signal) return;
    if (signal.aborted) reject(signal.reason);
    else signal.addEventListener('abort', () => reject(signal.reason), { once: true });
  });
}

/** A JSON response whose body never arrives; the stream errors when the request's signal aborts, like fetch's. */
function stalledBody(signal: AbortSignal): Response {
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      signal.addEventListener('abort', () => controller.error(signal.reason), { once: true });
    },
  });
  return new Response(body, { headers: { 'Content-Type': 'application/json' } });
}

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected the load to fail, it succeeded');
}

async function loadError(promise: Promise<unknown>): Promise<SecureWidgetError> {
  const error = await rejection(promise);
  expect(error).to.be.instanceOf(SecureWidgetError);
  return error as SecureWidgetError;
}

/** Tracks whether a promise has settled, without leaving a rejection unhandled. */
function track<T>(promise: Promise<T>) {
  const state = { settled: false, value: undefined as T | undefined, error: undefined as unknown };
  const done = promise.then(
    (value) => Object.assign(state, { settled: true, value }),
    (error: unknown) => Object.assign(state, { settled: true, error }),
  );
  return { state, done };
}

let clock: sinon.SinonFakeTimers;
let fetchStub: sinon.SinonStub<Parameters<typeof fetch>, ReturnType<typeof fetch>>;

/** The client's clock reads SERVER_NOW + skew. */
function setClock(skew = 0) {
  clock = sinon.useFakeTimers({
    now: SERVER_NOW + skew,
    toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date'],
  });
}

function load(options: Partial<EndpointOptions> = {}, signal = new AbortController().signal): Promise<TokenGrant> {
  return endpointLoader({ url: ENDPOINT, credentials: 'same-origin', ...options })(signal);
}

beforeEach(() => {
  fetchStub = sinon.stub(window, 'fetch');
});

afterEach(() => {
  clock?.restore();
  sinon.restore();
});

describe('source: reads the token from the endpoint response', () => {
  beforeEach(() => setClock());

  for (const [shape, body] of [
    ['{embedToken}', { embedToken: OPAQUE }],
    ['{token}', { token: OPAQUE }],
    ['{data: {embedToken}}', { data: { embedToken: OPAQUE } }],
  ] as const) {
    it(`accepts JSON ${shape}`, async () => {
      fetchStub.resolves(json(body));
      expect(await load()).to.deep.equal({ token: OPAQUE, expiresAt: null, lifetime: null });
    });
  }

  it('accepts a text/plain body that is the token, trailing newline and all', async () => {
    fetchStub.resolves(text(`${OPAQUE}\n`));
    expect((await load()).token).to.equal(OPAQUE);
  });

  it('accepts JSON media types with parameters, +json suffixes and any case', async () => {
    for (const type of ['application/json; charset=utf-8', 'application/vnd.widget+json', 'Application/JSON']) {
      fetchStub.resolves(text(JSON.stringify({ embedToken: OPAQUE }), type));
      expect((await load()).token, type).to.equal(OPAQUE);
    }
  });

  it('accepts a token of 16 KiB in its JSON envelope', async () => {
    fetchStub.resolves(json({ embedToken: 'a'.repeat(MAX_TOKEN_LENGTH), expiresIn: 900 }));
    expect((await load()).token).to.have.length(MAX_TOKEN_LENGTH);
  });
});

describe('source: expiry from the response, immune to client clock skew', () => {
  it('reads expiresAt and expiresIn hints from the body, at either envelope level', async () => {
    setClock(2 * HOUR);
    const date = { Date: httpDate(SERVER_NOW) };
    fetchStub.resolves(json({ embedToken: OPAQUE, expiresAt: S + 300 }, date));
    expect((await load()).expiresAt).to.equal(Date.now() + 5 * MINUTE);
    fetchStub.resolves(json({ token: OPAQUE, expiresAt: httpDate(SERVER_NOW + 5 * MINUTE) }, date));
    expect((await load()).expiresAt).to.equal(Date.now() + 5 * MINUTE);
    fetchStub.resolves(json({ data: { embedToken: OPAQUE, expiresIn: 900 } }, date));
    expect((await load()).expiresAt).to.equal(Date.now() + 15 * MINUTE);
  });

  for (const [label, skew] of [
    ['2 h fast', 2 * HOUR],
    ['2 h slow', -2 * HOUR],
  ] as const) {
    it(`uses the Date header as the server's clock when the client clock is ${label}`, async () => {
      setClock(skew);
      // Cached by the backend for 5 minutes: 10 minutes remain by the server's clock.
      fetchStub.resolves(json({ embedToken: jwt(5 * MINUTE) }, { Date: httpDate(SERVER_NOW) }));
      const grant = await load();
      expect(grant.expiresAt).to.equal(SERVER_NOW + skew + 10 * MINUTE);
      expect(grant.lifetime).to.equal(15 * MINUTE);
    });
  }

  it('falls back to iat when the Date header is missing or unreadable', async () => {
    setClock(2 * HOUR);
    fetchStub.resolves(json({ embedToken: jwt(5 * MINUTE) }));
    expect((await load()).expiresAt).to.equal(Date.now() + 15 * MINUTE);
    fetchStub.resolves(json({ embedToken: jwt(5 * MINUTE) }, { Date: 'yesterday-ish' }));
    expect((await load()).expiresAt).to.equal(Date.now() + 15 * MINUTE);
  });

  it('counts from the moment the response arrived, not from the request', async () => {
    setClock();
    fetchStub.callsFake(
      () => new Promise((resolve) => setTimeout(() => resolve(json({ embedToken: OPAQUE, expiresIn: 900 })), 3_000)),
    );
    const { state, done } = track(load());
    await clock.tickAsync(3_000);
    await done;
    expect(state.value?.expiresAt).to.equal(SERVER_NOW + 3_000 + 15 * MINUTE);
  });

  it('is token-expired when the token has expired by the server clock', async () => {
    setClock(-2 * HOUR);
    fetchStub.resolves(json({ embedToken: jwt(16 * MINUTE) }, { Date: httpDate(SERVER_NOW) }));
    const error = await loadError(load());
    expect(error).to.include({ code: 'token-expired', fatal: true });
  });
});

describe('source: the request it makes', () => {
  beforeEach(() => setClock());

  it('GETs the endpoint with cache no-store, the given credentials and an abortable signal', async () => {
    for (const credentials of ['include', 'omit', 'same-origin'] as const) {
      fetchStub.resetHistory();
      fetchStub.resolves(json({ embedToken: OPAQUE }));
      await load({ url: 'https://shop.example/api/token', credentials });
      expect(fetchStub.callCount).to.equal(1);
      const [url, init] = fetchStub.firstCall.args;
      expect(url).to.equal('https://shop.example/api/token');
      // Field by field: a failing diff of the whole init would serialize its AbortSignal.
      expect(init?.cache).to.equal('no-store');
      expect(init?.credentials).to.equal(credentials);
      expect(init?.method ?? 'GET').to.equal('GET');
      expect(init?.signal).to.be.instanceOf(AbortSignal);
      expect(new Headers(init?.headers).get('Accept')).to.match(/^application\/json/);
    }
  });

  it('leaves no timer behind once the attempt settles', async () => {
    fetchStub.resolves(json({ embedToken: OPAQUE }));
    await load();
    fetchStub.resolves(json({}, {}, 503));
    await rejection(load());
    expect(clock.countTimers()).to.equal(0);
  });
});

describe('source: HTTP failures', () => {
  beforeEach(() => setClock());

  for (const status of [408, 429, 500, 502, 503, 504]) {
    it(`HTTP ${status} is a transient endpoint-http`, async () => {
      fetchStub.resolves(json({ error: { code: 'x', message: 'x' } }, {}, status));
      const error = await loadError(load());
      expect(error).to.include({ code: 'endpoint-http', fatal: false, status });
      expect(error.retryAfter).to.equal(undefined);
    });
  }

  for (const status of [400, 401, 403, 404, 405]) {
    it(`HTTP ${status} is a fatal endpoint-http`, async () => {
      fetchStub.resolves(json({ error: { code: 'x', message: 'x' } }, {}, status));
      const error = await loadError(load());
      expect(error).to.include({ code: 'endpoint-http', fatal: true, status });
    });
  }

  it('reads Retry-After in seconds', async () => {
    fetchStub.resolves(json({}, { 'Retry-After': '120' }, 429));
    expect((await loadError(load())).retryAfter).to.equal(120_000);
    fetchStub.resolves(json({}, { 'Retry-After': '0' }, 503));
    expect((await loadError(load())).retryAfter).to.equal(0);
  });

  it('reads Retry-After as an HTTP date', async () => {
    fetchStub.resolves(json({}, { 'Retry-After': httpDate(SERVER_NOW + 90_000) }, 503));
    expect((await loadError(load())).retryAfter).to.equal(90_000);
    fetchStub.resolves(json({}, { 'Retry-After': httpDate(SERVER_NOW - 90_000) }, 503));
    expect((await loadError(load())).retryAfter, 'a date in the past means now').to.equal(0);
  });

  it('ignores an unreadable Retry-After', async () => {
    for (const value of ['soon', '5 s', '12 minutes']) {
      fetchStub.resolves(json({}, { 'Retry-After': value }, 503));
      expect((await loadError(load())).retryAfter, value).to.equal(undefined);
    }
  });

  // BUG: parseRetryAfter measures an HTTP-date Retry-After against the LOCAL clock (Date.now()), while the date is by
  // the server's clock. docs/design.md ("Token lifecycle") makes expiry skew-proof by measuring against the response's Date header; the same
  // response carries one here, but with the client clock 2 h slow the broker is told to wait 2 h + 90 s (and with it
  // 2 h fast, 0 s instead of 90 s). Expected retryAfter = Retry-After − Date = 90 000; actual 7 290 000.
  it('measures an HTTP-date Retry-After against the Date header, not the client clock', async () => {
    clock.restore();
    setClock(-2 * HOUR);
    fetchStub.resolves(json({}, { Date: httpDate(SERVER_NOW), 'Retry-After': httpDate(SERVER_NOW + 90_000) }, 503));
    expect((await loadError(load())).retryAfter).to.equal(90_000);
  });

  it('parseRetryAfter: delta-seconds, HTTP date, junk', () => {
    expect(parseRetryAfter(' 30 ', SERVER_NOW)).to.equal(30_000);
    expect(parseRetryAfter(httpDate(SERVER_NOW + 5_000), SERVER_NOW)).to.equal(5_000);
    expect(parseRetryAfter(null, SERVER_NOW)).to.equal(null);
    expect(parseRetryAfter('', SERVER_NOW)).to.equal(null);
    expect(parseRetryAfter('later', SERVER_NOW)).to.equal(null);
  });
});

describe('source: network failures and timeouts', () => {
  beforeEach(() => setClock());

  it('a rejected fetch is a transient endpoint-network, keeping the cause', async () => {
    const cause = new TypeError('Failed to fetch');
    fetchStub.rejects(cause);
    const error = await loadError(load());
    expect(error).to.include({ code: 'endpoint-network', fatal: false });
    expect(error.cause).to.equal(cause);
  });

  it(`is endpoint-timeout after exactly ${DEFAULT_TIMEOUT / 1000} s, and not before`, async () => {
    fetchStub.callsFake((_url, init) => untilAborted(init?.signal));
    const { state, done } = track(load());
    await clock.tickAsync(DEFAULT_TIMEOUT - 1);
    expect(state.settled, 'settled before the timeout').to.equal(false);
    expect(fetchStub.firstCall.args[1]?.signal?.aborted).to.equal(false);
    await clock.tickAsync(1);
    await done;
    expect(state.error).to.be.instanceOf(SecureWidgetError);
    expect(state.error).to.include({ code: 'endpoint-timeout', fatal: false });
    expect(fetchStub.firstCall.args[1]?.signal?.aborted, 'the request is aborted').to.equal(true);
  });

  it('times out a body that never finishes, too', async () => {
    fetchStub.callsFake(async (_url, init) => stalledBody(init!.signal!));
    const { state, done } = track(load());
    await clock.tickAsync(DEFAULT_TIMEOUT - 1);
    expect(state.settled).to.equal(false);
    await clock.tickAsync(1);
    await done;
    expect(state.error).to.include({ code: 'endpoint-timeout', fatal: false });
  });

  it('honours a custom timeout', async () => {
    fetchStub.callsFake((_url, init) => untilAborted(init?.signal));
    const { state, done } = track(load({ timeout: 2_000 }));
    await clock.tickAsync(1_999);
    expect(state.settled).to.equal(false);
    await clock.tickAsync(1);
    await done;
    expect(state.error).to.include({ code: 'endpoint-timeout' });
  });
});

describe('source: the caller aborting', () => {
  beforeEach(() => setClock());

  async function expectAbortError(promise: Promise<unknown>) {
    const error = await rejection(promise);
    expect(error).not.to.be.instanceOf(SecureWidgetError);
    expect(error).to.be.instanceOf(DOMException);
    expect((error as DOMException).name).to.equal('AbortError');
  }

  it('rejects with an AbortError, not a SecureWidgetError, and clears the timeout', async () => {
    fetchStub.callsFake((_url, init) => untilAborted(init?.signal));
    const controller = new AbortController();
    const pending = load({}, controller.signal);
    await clock.tickAsync(500);
    controller.abort();
    await expectAbortError(pending);
    expect(fetchStub.firstCall.args[1]?.signal?.aborted).to.equal(true);
    expect(clock.countTimers()).to.equal(0);
  });

  it('is an AbortError whatever reason the caller aborts with', async () => {
    fetchStub.callsFake((_url, init) => untilAborted(init?.signal));
    const controller = new AbortController();
    const pending = load({}, controller.signal);
    controller.abort(new Error('widget removed'));
    await expectAbortError(pending);
  });

  it('is an AbortError when the signal was aborted before the call', async () => {
    fetchStub.callsFake((_url, init) => untilAborted(init?.signal));
    await expectAbortError(load({}, AbortSignal.abort()));
  });

  it('is an AbortError when the abort comes while the body is read', async () => {
    fetchStub.callsFake(async (_url, init) => stalledBody(init!.signal!));
    const controller = new AbortController();
    const pending = load({}, controller.signal);
    await clock.tickAsync(100);
    controller.abort();
    await expectAbortError(pending);
  });
});

describe('source: bodies that are not a token', () => {
  beforeEach(() => setClock());

  it('text/html (a login page, an error page) is token-missing', async () => {
    fetchStub.resolves(text('<!doctype html><title>Sign in</title>', 'text/html; charset=utf-8'));
    expect(await loadError(load())).to.include({ code: 'token-missing', fatal: true });
  });

  it('a body without a Content-Type is token-missing', async () => {
    fetchStub.resolves(new Response(new Blob([OPAQUE])));
    expect(await loadError(load())).to.include({ code: 'token-missing', fatal: true });
  });

  it('invalid JSON is token-missing', async () => {
    fetchStub.resolves(text('{"embedToken": ', 'application/json'));
    expect(await loadError(load())).to.include({ code: 'token-missing', fatal: true });
  });

  it('JSON without a token, or with a token that is not a string, is token-missing', async () => {
    for (const body of [{}, { access_token: OPAQUE }, { data: {} }, { embedToken: 42 }, null, [OPAQUE], OPAQUE]) {
      fetchStub.resolves(json(body));
      expect(await loadError(load()), JSON.stringify(body)).to.include({ code: 'token-missing', fatal: true });
    }
  });

  it('a token with characters no token has is token-malformed', async () => {
    fetchStub.resolves(json({ embedToken: '<script>alert(1)</script>' }));
    expect(await loadError(load())).to.include({ code: 'token-malformed', fatal: true });
  });

  it('a body whose Content-Length is over the cap is token-malformed, unread', async () => {
    let pulls = 0;
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        pulls += 1;
        controller.enqueue(new TextEncoder().encode('{}'));
        controller.close();
      },
    });
    const headers = { 'Content-Type': 'application/json', 'Content-Length': '1000000' };
    fetchStub.resolves(new Response(body, { headers }));
    expect(await loadError(load())).to.include({ code: 'token-malformed', fatal: true });
    expect(pulls, 'the body is not read').to.be.at.most(1);
  });

  it('a streamed body over the cap without Content-Length is token-malformed, and reading stops', async () => {
    let sent = 0;
    const chunk = new TextEncoder().encode('a'.repeat(4096));
    let body!: ReadableStreamDefaultController<Uint8Array>;
    const endless = new ReadableStream<Uint8Array>({
      start(controller) {
        body = controller;
      },
      pull(controller) {
        sent += chunk.length;
        controller.enqueue(chunk);
      },
    });
    const response = new Response(endless, { headers: { 'Content-Type': 'text/plain' } });
    expect(response.headers.get('Content-Length')).to.equal(null);
    // As a real fetch does: aborting the request errors its body.
    fetchStub.callsFake(async (_url, init) => {
      init!.signal!.addEventListener('abort', () => body.error(init!.signal!.reason), { once: true });
      return response;
    });
    expect(await loadError(load())).to.include({ code: 'token-malformed', fatal: true });
    // The request is ended past the limit, so the endless body stops being read.
    expect((fetchStub.firstCall.args[1] as RequestInit).signal!.aborted, 'the request is aborted').to.equal(true);
    expect(sent).to.be.below(64 * 1024);
  });

  it("a chunked body within the cap is read whole, by the browser's own reader", async () => {
    const token = 'opaque-token-in-two-chunks';
    const json = new TextEncoder().encode(JSON.stringify({ embedToken: token, expiresIn: 600 }));
    const halves = [json.slice(0, 10), json.slice(10)];
    const chunked = new ReadableStream<Uint8Array>({
      pull(controller) {
        const next = halves.shift();
        if (next) controller.enqueue(next);
        else controller.close();
      },
    });
    fetchStub.resolves(new Response(chunked, { headers: { 'Content-Type': 'application/json' } }));
    expect((await load()).token).to.equal(token);
  });
});

describe('source: customLoader (fetchToken)', () => {
  beforeEach(() => setClock());

  it('accepts a string, scheduled by iat', async () => {
    const token = jwt();
    const grant = await customLoader(async () => token)(new AbortController().signal);
    expect(grant).to.deep.equal({ token, expiresAt: SERVER_NOW + 15 * MINUTE, lifetime: 15 * MINUTE });
  });

  it('accepts an object with expiresIn or expiresAt', async () => {
    const signal = new AbortController().signal;
    expect((await customLoader(async () => ({ token: OPAQUE, expiresIn: 600 }))(signal)).expiresAt).to.equal(
      SERVER_NOW + 10 * MINUTE,
    );
    expect((await customLoader(async () => ({ token: OPAQUE, expiresAt: S + 300 }))(signal)).expiresAt).to.equal(
      SERVER_NOW + 5 * MINUTE,
    );
    expect((await customLoader(async () => ({ token: OPAQUE }))(signal)).expiresAt).to.equal(null);
  });

  it('passes the signal to fetchToken', async () => {
    const fetchToken = sinon.stub().resolves(OPAQUE);
    const { signal } = new AbortController();
    await customLoader(fetchToken)(signal);
    expect(fetchToken.calledOnceWithExactly(signal)).to.equal(true);
  });

  it('a non-object result, or an object without a token, is token-missing', async () => {
    for (const result of [null, undefined, 42, true, {}, { token: '' }]) {
      const fetchToken = async () => result as unknown as string;
      const error = await loadError(customLoader(fetchToken)(new AbortController().signal));
      expect(error, String(result)).to.include({ code: 'token-missing', fatal: true });
    }
  });

  it('validates the token like an endpoint token', async () => {
    const error = await loadError(customLoader(async () => 'not a token')(new AbortController().signal));
    expect(error.code).to.equal('token-malformed');
    const expired = await loadError(
      customLoader(async () => ({ token: OPAQUE, expiresIn: 0.01 }))(AbortSignal.abort()),
    );
    expect(expired.code).to.equal('token-expired');
  });

  it('takes a fetchToken rejection for a transient network failure, keeping it as cause', async () => {
    const cause = new TypeError('sdk offline');
    const error = await rejection(customLoader(() => Promise.reject(cause))(new AbortController().signal));
    expect(error).to.include({ name: 'SecureWidgetError', code: 'endpoint-network', fatal: false });
    expect((error as Error).cause).to.equal(cause);
  });

  it('passes a SecureWidgetError from fetchToken through unchanged', async () => {
    const own = new SecureWidgetError('token-missing', 'none', { fatal: true });
    expect(await rejection(customLoader(() => Promise.reject(own))(new AbortController().signal))).to.equal(own);
  });
});
