import { expect } from '@open-wc/testing';
import fc from 'fast-check';
import sinon from 'sinon';
import '../src/index.js';
import { SecureWidgetError, type SecureWidgetErrorCode } from '../src/element/errors.js';
import type { SecureWidget } from '../src/element/secure-widget.js';
import { endpointLoader } from '../src/element/token/source.js';
import { readFrameMessage, readHello, readHostMessage } from '../src/protocol/messages.js';
import { MAX_TOKEN_LENGTH } from '../src/protocol/limits.js';
import {
  VENDOR,
  fakeClock,
  mount,
  nextEvent,
  overhearPorts,
  probeCaughtUp,
  probeReports,
  testScope,
  until,
  type ProbeReport,
} from './support/browser.js';

// Property-based tests (issue 10): hostile endpoint answers and frame messages, seeded so that a failure reproduces.
// FUZZ_RUNS (default 1000) and FUZZ_SEED reach the browser from the shell through the test server.

let settings = { runs: 1000, seed: 20261202 };
before(async () => {
  settings = await (await fetch('/test-api/fuzz-settings', { cache: 'no-store' })).json();
});
const params = (runs = settings.runs) => ({ numRuns: runs, seed: settings.seed, endOnFailure: true });

const CODES: readonly SecureWidgetErrorCode[] = [
  'endpoint-http',
  'endpoint-network',
  'token-missing',
  'token-malformed',
  'token-expired',
  'url-rejected',
];
const TOKEN_CHARACTERS = /^[\w\-.~+/=:]+$/;

const base64url = (text: string) => btoa(text).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');

/** A JWS whose claims are anything the generator likes, iat and exp around now included. */
const jwt = fc
  .record({
    iat: fc.option(fc.integer({ min: -3_600, max: 3_600 }), { nil: undefined }),
    exp: fc.option(fc.oneof(fc.integer({ min: -3_600, max: 7_200 }), fc.double()), { nil: undefined }),
    extra: fc.dictionary(fc.string({ maxLength: 8 }), fc.jsonValue({ maxDepth: 1 }), { maxKeys: 3 }),
  })
  .map(({ iat, exp, extra }) => {
    const now = Math.floor(Date.now() / 1000);
    const claims = {
      ...extra,
      ...(iat !== undefined && { iat: now + iat }),
      ...(exp !== undefined && { exp: Number.isFinite(exp) ? now + exp : exp }),
    };
    return `${base64url('{"alg":"ES256","typ":"JWT"}')}.${base64url(JSON.stringify(claims))}.c2lnbmF0dXJl`;
  });

const tokenValue = fc.oneof(
  { weight: 4, arbitrary: jwt },
  { weight: 2, arbitrary: fc.stringMatching(/^[\w\-.~+/=:]{1,64}$/) },
  { weight: 1, arbitrary: fc.string({ maxLength: 40 }) },
  { weight: 1, arbitrary: fc.constantFrom('', ' ', 'eyJ.x.y', '<html>', '"quoted"', 'a b') },
  {
    weight: 1,
    arbitrary: fc.integer({ min: MAX_TOKEN_LENGTH - 2, max: MAX_TOKEN_LENGTH + 2 }).map((n) => 'a'.repeat(n)),
  },
  { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 2 }) },
);

const hint = fc.oneof(
  fc.constant(undefined),
  fc.integer({ min: -100, max: 100_000 }),
  fc.double(),
  fc.constantFrom('', '0', ' 60 ', 'soon', '2030-01-01T00:00:00Z', 0, -1, 1e12, 0.001),
);

const body = fc.oneof(
  fc.record({ embedToken: tokenValue, expiresAt: hint, expiresIn: hint }),
  fc.record({ token: tokenValue, expiresIn: hint }),
  fc.record({ data: fc.record({ embedToken: tokenValue }) }),
  fc.record({ data: fc.record({ token: tokenValue, expiresAt: hint }) }),
  fc.jsonValue({ maxDepth: 3 }),
);

interface Answer {
  status: number;
  type: string;
  text: string;
  date: string | undefined;
  json: unknown;
}

const answer: fc.Arbitrary<Answer> = fc
  .record({
    status: fc.constantFrom(200, 200, 200, 201, 204, 400, 401, 403, 404, 408, 429, 500, 502, 503),
    type: fc.constantFrom(
      'application/json',
      'application/json; charset=utf-8',
      'application/problem+json',
      'text/plain',
      'text/plain; charset=utf-8',
      'text/html',
      '',
    ),
    json: body,
    raw: fc.option(tokenValue.map(String), { nil: undefined }),
    date: fc.option(fc.constantFrom(new Date().toUTCString(), 'junk', new Date(0).toUTCString()), { nil: undefined }),
  })
  .map(({ status, type, json, raw, date }) => ({
    status,
    type,
    json,
    date,
    text: type.startsWith('text/plain') ? (raw ?? JSON.stringify(json) ?? '') : (JSON.stringify(json) ?? ''),
  }));

function response({ status, type, text, date }: Answer): Response {
  const headers: Record<string, string> = type ? { 'Content-Type': type } : {};
  if (date) headers.Date = date;
  // Bytes, not a string: a string body would get a Content-Type of text/plain from the Response constructor.
  return new Response(status === 204 ? null : new TextEncoder().encode(text), { status, headers });
}

/** The token string the contract says a 2xx answer carries, if any (before any check of its shape). */
function carried({ type, text, json }: Answer): unknown {
  if (type.startsWith('text/plain')) return text;
  const envelopes = [json, typeof json === 'object' && json !== null ? (json as { data?: unknown }).data : undefined];
  for (const envelope of envelopes) {
    if (typeof envelope !== 'object' || envelope === null) continue;
    const { embedToken, token } = envelope as { embedToken?: unknown; token?: unknown };
    if ((embedToken ?? token) !== undefined) return embedToken ?? token;
  }
  return undefined;
}

describe('property: whatever the endpoint answers, the element takes the served token or one typed error', () => {
  afterEach(() => sinon.restore());

  it('endpointLoader: a well-formed token equal to the one served, or a SecureWidgetError with a known code', async function () {
    this.timeout(60_000);
    await fc.assert(
      fc.asyncProperty(answer, async (served) => {
        sinon.restore();
        sinon.stub(window, 'fetch').resolves(response(served));
        const load = endpointLoader({ url: `${location.origin}/fuzz/token`, credentials: 'same-origin' });
        const before = Date.now();
        try {
          const grant = await load(new AbortController().signal);
          const token = carried(served);
          expect(served.status).to.be.within(200, 299);
          expect(typeof token).to.equal('string');
          expect(grant.token).to.equal((token as string).trim());
          expect(grant.token.length).to.be.at.most(MAX_TOKEN_LENGTH);
          expect(grant.token).to.match(TOKEN_CHARACTERS);
          if (grant.expiresAt !== null) expect(grant.expiresAt - before).to.be.at.least(1_000);
        } catch (error) {
          expect(error).to.be.instanceOf(SecureWidgetError);
          expect(CODES).to.include((error as SecureWidgetError).code);
          const token = carried(served);
          if (typeof token === 'string' && token.length > 8) {
            expect((error as Error).message.includes(token)).to.equal(false);
          }
        }
      }),
      params(),
    );
  });

  it('<secure-widget>: the vendor element gets exactly a served token or nothing; no page error; ≤ 1 request a second', async function () {
    this.timeout(180_000);
    const pageErrors: unknown[] = [];
    const onError = (event: ErrorEvent | PromiseRejectionEvent) => pageErrors.push(event);
    window.addEventListener('error', onError);
    window.addEventListener('unhandledrejection', onError);
    let run = 0;
    try {
      await fc.assert(
        fc.asyncProperty(fc.array(answer, { minLength: 1, maxLength: 4 }), async (answers) => {
          sinon.restore();
          // An endpoint of its own per run: a token an earlier run left in the page's brokers is not this run's.
          run += 1;
          const clock = fakeClock();
          let calls = 0;
          sinon.stub(window, 'fetch').callsFake(async () => response(answers[calls++ % answers.length]!));
          const container = mount(
            `<secure-widget token-endpoint="/fuzz/token?run=${run}"><template><fuzz-vendor></fuzz-vendor></template>
            </secure-widget>`,
          );
          const element = container.querySelector('secure-widget')!;
          try {
            await clock.tickAsync(5_000);
            const vendor = element.querySelector(':scope > fuzz-vendor');
            const injected = vendor?.getAttribute('embed-token') ?? null;
            if (injected !== null) {
              const served = answers.map((one) => carried(one)).filter((token) => typeof token === 'string');
              expect(served.map((token) => (token as string).trim())).to.include(injected);
              expect(injected).to.match(TOKEN_CHARACTERS);
              expect(injected.length).to.be.at.most(MAX_TOKEN_LENGTH);
            }
            // The first request, then at most one a second (the floor under every refresh and retry).
            expect(calls).to.be.at.most(1 + 5);
            expect(pageErrors).to.deep.equal([]);
          } finally {
            container.remove();
            await clock.tickAsync(0);
            clock.restore();
          }
        }),
        params(),
      );
    } finally {
      window.removeEventListener('error', onError);
      window.removeEventListener('unhandledrejection', onError);
    }
  });
});

/** Hostile values for messages: JSON junk, huge strings, prototype keys, and near misses of the real shapes. */
const hostileValue = fc.oneof(
  fc.jsonValue({ maxDepth: 3 }),
  fc.constantFrom(
    JSON.parse('{"__proto__": {"polluted": true}, "type": "ready"}'),
    JSON.parse('{"type": "resize", "height": 100, "__proto__": {"polluted": true}}'),
    { constructor: { prototype: { polluted: true } }, type: 'expired' },
    { type: 'resize', height: 1e12 },
    { type: 'resize', height: -1 },
    { type: 'resize', height: 'a'.repeat(100_000) },
    { type: 'expired', code: 'x'.repeat(10_000) },
    { type: 'token', token: `eyJ${'a'.repeat(20_000)}` },
    { type: 'secure-widget:hello', version: 1, instance: 'fuzz-instance-a' },
    { type: 'secure-widget:hello', version: 1, instance: 'fuzz-instance-a' },
    { type: 'secure-widget:hello', version: 2 },
    { type: 'secure-widget:connect', version: 1 },
  ),
  fc.record({
    type: fc.constantFrom('ready', 'expired', 'resize', 'token', 'reload'),
    height: fc.double(),
    code: fc.string(),
  }),
);

function unpolluted(): void {
  expect(({} as { polluted?: unknown }).polluted).to.equal(undefined);
  expect((Object.prototype as { polluted?: unknown }).polluted).to.equal(undefined);
}

describe('property: hostile frame messages', () => {
  it('the protocol readers never throw, and return only the exact shapes or null', () => {
    fc.assert(
      fc.property(hostileValue, (value) => {
        const hello = readHello(value);
        if (hello)
          expect(Object.keys(hello).every((key) => ['type', 'version', 'instance'].includes(key))).to.equal(true);
        const frame = readFrameMessage(value);
        if (frame?.type === 'resize') expect(Number.isFinite(frame.height) && frame.height >= 0).to.equal(true);
        if (frame?.type === 'expired' && frame.code !== undefined) expect(frame.code.length).to.be.at.most(64);
        const host = readHostMessage(value);
        if (host?.type === 'token') expect(host.token.length).to.be.at.most(MAX_TOKEN_LENGTH);
        unpolluted();
      }),
      params(),
    );
  });

  it('a frame flooding the window and the port: no page error, no pollution, one connect per instance, height capped', async function () {
    this.timeout(120_000);
    const scope = await testScope();
    const src =
      `${VENDOR.replace('/vendor', '')}/test-pages/frame-probe.html?scope=${scope.endpoint.split('/')[2]}` +
      `&host=${encodeURIComponent(location.origin)}&mode=fuzz`;
    // The probe's pong comes over the port after a batch's port messages: heard after the element's listener, it says
    // the element has handled them all.
    let pong = -1;
    const stopOverhearing = overhearPorts((data) => {
      const id = (data as { 'probe:pong'?: unknown } | null)?.['probe:pong'];
      if (typeof id === 'number') pong = id;
    });
    const container = mount(`<secure-widget token-endpoint="${scope.endpoint}" src="${src}"></secure-widget>`);
    const element = container.querySelector('secure-widget') as SecureWidget;
    await nextEvent(element, 'secure-widget-ready');
    const frame = element.shadowRoot!.querySelector('iframe')!;
    const pageErrors: unknown[] = [];
    const onError = (event: Event) => pageErrors.push(event);
    window.addEventListener('error', onError);
    let done = -1;
    const onDone = (event: MessageEvent) => {
      const id = (event.data as { 'probe:done'?: number } | null)?.['probe:done'];
      if (typeof id === 'number') done = id;
    };
    window.addEventListener('message', onDone);
    try {
      // A batch of 20 messages per run: 50 runs are 1,000 messages on each channel at the default FUZZ_RUNS.
      const batches = Math.max(1, Math.round(settings.runs / 20));
      let id = 0;
      await fc.assert(
        fc.asyncProperty(fc.array(hostileValue, { minLength: 20, maxLength: 20 }), async (messages) => {
          id += 1;
          frame.contentWindow!.postMessage({ 'probe:fuzz': { id, window: messages, port: messages } }, '*');
          await until(() => done === id, 'the batch');
          frame.contentWindow!.postMessage({ 'probe:ping': id }, '*');
          await until(() => pong === id, 'the batch over the port');
          unpolluted();
          expect(pageErrors).to.deep.equal([]);
          expect(parseFloat(frame.style.height || '0')).to.be.at.most(10_000);
        }),
        params(batches),
      );
      await probeCaughtUp(scope, frame.contentWindow!);
      const reports = await probeReports<ProbeReport & { window?: string }>(scope);
      const connects = reports.filter((report) => report.window === 'connect').length;
      // The probe's own hello, and one fuzzed instance id: whatever the flood, one connect each.
      expect(connects).to.be.at.most(2);
    } finally {
      stopOverhearing();
      window.removeEventListener('error', onError);
      window.removeEventListener('message', onDone);
      container.remove();
    }
  });
});
