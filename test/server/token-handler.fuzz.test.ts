/**
 * Hostile input, as properties (docs/server.md, "Hostile input"): whatever a client sends, and whatever the vendor, a
 * custom cache or the host's own issuer answers, the token handler answers a documented status with a JSON body and
 * `Cache-Control: no-store`, hands out only a token that was issued, reads no vendor body past MAX_TOKEN_BODY, leaves
 * no vendor body open, and never lets a secret out.
 *
 * Seeded, so that a failure reproduces: `FUZZ_SEED` (default below) and `FUZZ_RUNS` (default 1000; the loopback
 * property runs a twentieth as many). fast-check prints the seed and the shrunk counterexample of a failure.
 *   FUZZ_RUNS=20000 FUZZ_SEED=12345 npm run test:server
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { MAX_TOKEN_BODY, MAX_TOKEN_LENGTH } from '../../src/protocol/limits.js';
import {
  TokenIssueError,
  accessKeyExchange,
  createTokenHandler,
  signToken,
  toNodeListener,
  tokenExchange,
} from '../../src/server/index.js';
import type {
  CachedToken,
  NodeListener,
  TokenCache,
  TokenHandlerErrorCode,
  TokenIssuer,
  TokenIssueErrorCode,
} from '../../src/server/index.js';
import { listen } from './loopback.js';

function envInteger(name: string, fallback: number, min: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  const value = Number(raw);
  if (!Number.isSafeInteger(value) || value < min) throw new Error(`${name} must be an integer of at least ${min}`);
  return value;
}

const SEED = envInteger('FUZZ_SEED', 20_261_210, Number.MIN_SAFE_INTEGER);
const RUNS = envInteger('FUZZ_RUNS', 1000, 1);
const LOOPBACK_RUNS = Math.max(1, Math.round(RUNS / 20));

// Canaries: each secret the server holds, distinctive enough that no generated string contains one by chance.
const ACCESS_KEY = 'canary-access-key-Q7v2Xw9Lp4';
const API_KEY = 'canary-api-key-M3k8Rt5Zn1';
const BODY_SECRET = 'canary-body-secret-H6j1Yc4Vb8';
const SIGNING_KEY = 'canary-signing-key-F2g9Ds7Wq3-0123456789abcdef';
const SECRETS = [ACCESS_KEY, API_KEY, BODY_SECRET, SIGNING_KEY];

// The handler's deadline: tiny, so that a hung vendor costs milliseconds. Every delay below stays under it.
const TIMEOUT_MS = 20;
const MAX_DELAY_MS = 12;
const MAX_REQUEST_BODY = 1024; // the handler's own bound (token-handler.ts), checked from outside here
const T0 = Date.UTC(2026, 0, 1); // the handler's clock starts here and moves only when a scenario moves it
const T0_SECONDS = T0 / 1000;
const HOST = 'https://host.example';
const ALLOWED_ORIGIN = 'https://app.example';
const TEN_MB = 10 * 1024 * 1024;

/** Each error code with its status: a Record, so that a code added to the type without a status fails to compile. */
const STATUS_OF: Record<TokenHandlerErrorCode, number> = {
  'method-not-allowed': 405,
  'payload-too-large': 413,
  'cross-site': 403,
  unauthorized: 401,
  'rate-limited': 429,
  'vendor-failed': 502,
  'vendor-timeout': 504,
  'issuer-failed': 502,
  internal: 500,
};
const ISSUE_CODES: TokenIssueErrorCode[] = [
  'vendor-http',
  'vendor-network',
  'vendor-timeout',
  'vendor-response',
  'issuer-misconfigured',
  'issuer-key',
  'issuer-signing',
];
/**
 * The step (a code), the vendor's HTTP status if any, and why: this library's own words, or a thrown error's class.
 * Secrets are looked for in every line separately (checkWorld).
 */
const LOG_LINE =
  /^secure-widget\/server: token request failed: [a-z-]+(?:: pass options\.userId)?(?: \(vendor status [1-5]\d\d\))?(?:: [^\n]+)?$/;

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
const delay = fc.oneof(
  { weight: 3, arbitrary: fc.constant(0) },
  { weight: 1, arbitrary: fc.integer({ min: 1, max: MAX_DELAY_MS }) },
);

// --- what the vendor (or the host's issuer, or a cache) may answer ---------------------------------------------------

const b64 = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url');

/** A time hint as issuers give them, and junk: epoch seconds and ms near the clock, durations, non-numbers. */
const hint = fc.oneof(
  fc.integer({ min: -100, max: 4000 }).map((seconds) => T0_SECONDS + seconds),
  fc.integer({ min: -100, max: 4000 }).map((seconds) => (T0_SECONDS + seconds) * 1000),
  fc.integer({ min: -100, max: 4000 }),
  fc.double(),
  fc.date({ noInvalidDate: true }).map((date) => date.toISOString()),
  fc.constantFrom('tomorrow', '', 'NaN', null, true, {}, [1]),
);

/**
 * A long token, written out only when it is sent: a counterexample shows `'t'.repeat(16385)`, not the token, and
 * shrinks its length like any number.
 */
class LongToken {
  constructor(readonly length: number) {}
  get text(): string {
    return 't'.repeat(this.length);
  }
  [fc.toStringMethod](): string {
    return `'t'.repeat(${this.length})`;
  }
}
/** A plan's value as it goes out: every LongToken in it written out. */
function spelled(value: unknown): unknown {
  if (value instanceof LongToken) return value.text;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return value;
  return Object.fromEntries(Object.entries(value).map(([key, field]) => [key, spelled(field)]));
}

const tokenText = fc.oneof(
  { weight: 4, arbitrary: fc.stringMatching(/^[A-Za-z0-9._~-]{1,40}$/) },
  { weight: 1, arbitrary: fc.string({ maxLength: 30 }) },
  { weight: 1, arbitrary: fc.constantFrom('', ' ', '\n\t ', ' padded-token \n') },
  {
    weight: 1,
    arbitrary: fc.integer({ min: MAX_TOKEN_LENGTH - 2, max: MAX_TOKEN_LENGTH + 2 }).map((n) => new LongToken(n)),
  },
  {
    weight: 1,
    arbitrary: fc
      .record({ exp: hint, iat: hint }, { requiredKeys: [] })
      .map((claims) => `${b64({ alg: 'HS256', typ: 'JWT' })}.${b64(claims)}.c2ln`),
  },
);
const tokenValue = fc.oneof(
  { weight: 6, arbitrary: tokenText },
  {
    weight: 1,
    arbitrary: fc.oneof(
      fc.integer(),
      fc.constant(null),
      fc.boolean(),
      fc.array(fc.string(), { maxLength: 2 }),
      fc.object({ maxDepth: 1 }),
    ),
  },
);

const plausibleToken = fc.oneof(fc.stringMatching(/^[A-Za-z0-9._~-]{1,40}$/), tokenText);
const vendorJson = fc.oneof(
  {
    // What a working vendor answers, with its hints: the shape every issuer here reads a token from.
    weight: 4,
    arbitrary: fc.record(
      {
        token: plausibleToken,
        expiresIn: hint,
        data: fc.record({ embedToken: plausibleToken }),
        access_token: plausibleToken,
        expires_in: hint,
      },
      { requiredKeys: ['token', 'data', 'access_token'] },
    ),
  },
  {
    weight: 5,
    arbitrary: fc.record(
      {
        token: tokenValue,
        expiresAt: hint,
        expiresIn: hint,
        data: fc.record({ embedToken: tokenValue, expiresIn: hint }, { requiredKeys: [] }),
        access_token: tokenValue,
        expires_in: hint,
      },
      { requiredKeys: [] },
    ),
  },
  { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 3 }) },
);

type BodyPlan =
  /** JSON, maybe with the request echoed in a field of its own, maybe padded with whitespace to a size in bytes. */
  | { kind: 'json'; value: unknown; echo: boolean; padTo: number | undefined }
  | { kind: 'text'; text: string; echo: boolean }
  | { kind: 'bytes'; bytes: Uint8Array }
  /** Whitespace of this many bytes, made as it is read: a 10 MB answer costs nothing until someone reads it. */
  | { kind: 'filler'; size: number }
  | { kind: 'nested'; depth: number };

const bodyPlan: fc.Arbitrary<BodyPlan> = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.record({
      kind: fc.constant('json' as const),
      value: vendorJson,
      echo: fc.boolean(),
      padTo: fc.option(fc.integer({ min: MAX_TOKEN_BODY - 2, max: MAX_TOKEN_BODY + 2 }), { nil: undefined, freq: 4 }),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('text' as const),
      text: fc.string({ maxLength: 60 }),
      echo: fc.boolean(),
    }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('bytes' as const), bytes: fc.uint8Array({ maxLength: 64 }) }) },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('filler' as const),
      size: fc.oneof(
        fc.constantFrom(0, MAX_TOKEN_BODY, MAX_TOKEN_BODY + 1, TEN_MB),
        fc.integer({ min: 0, max: 3 * MAX_TOKEN_BODY }),
      ),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('nested' as const),
      depth: fc.integer({ min: 1, max: MAX_TOKEN_BODY / 2 }),
    }),
  },
);

type VendorPlan =
  | { kind: 'throws' }
  | { kind: 'rejects' }
  | { kind: 'hangs'; heedsSignal: boolean }
  | { kind: 'junk'; value: unknown }
  | {
      kind: 'answers';
      delayMs: number;
      /** A real fetch rejects once its signal aborts before the headers are in; a custom one may not. */
      heedsSignal: boolean;
      status: number;
      contentType: string | undefined;
      contentLength: 'none' | 'true' | 'low' | 'high' | 'junk';
      body: BodyPlan;
      chunk: number;
      pauseMs: number;
      /** The body stops coming after this many bytes and never ends. */
      stallAt: number | undefined;
      /** The first chunk is a string, not bytes. */
      junkChunk: boolean;
    };

const vendorPlan: fc.Arbitrary<VendorPlan> = fc.oneof(
  { weight: 1, arbitrary: fc.constantFrom<VendorPlan>({ kind: 'throws' }, { kind: 'rejects' }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('hangs' as const), heedsSignal: fc.boolean() }) },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('junk' as const),
      value: fc.oneof(fc.constant(undefined), fc.constant(null), fc.constant({ status: 200 }), fc.string()),
    }),
  },
  {
    weight: 14,
    arbitrary: fc.record({
      kind: fc.constant('answers' as const),
      delayMs: delay,
      heedsSignal: fc.boolean(),
      status: fc.oneof(
        { weight: 8, arbitrary: fc.constant(200) },
        {
          weight: 1,
          arbitrary: fc.constantFrom(201, 204, 205, 301, 302, 304, 307, 400, 401, 403, 404, 429, 500, 502, 503),
        },
        { weight: 1, arbitrary: fc.integer({ min: 200, max: 599 }) },
      ),
      contentType: fc.constantFrom(
        undefined,
        'application/json',
        'application/json; charset=utf-8',
        'text/html',
        'x/junk',
      ),
      contentLength: fc.constantFrom('none', 'none', 'true', 'true', 'low', 'high', 'junk'),
      body: bodyPlan,
      chunk: fc.oneof(fc.constantFrom(1, 1024, 16_384, 65_536), fc.integer({ min: 1, max: 65_536 })),
      pauseMs: fc.oneof(
        { weight: 5, arbitrary: fc.constant(0) },
        { weight: 1, arbitrary: fc.integer({ min: 1, max: 3 }) },
      ),
      stallAt: fc.option(fc.integer({ min: 0, max: 2 * MAX_TOKEN_BODY }), { nil: undefined, freq: 12 }),
      junkChunk: fc.oneof({ weight: 30, arbitrary: fc.constant(false) }, { weight: 1, arbitrary: fc.constant(true) }),
    }),
  },
);

type IssuerResultPlan =
  | { kind: 'resolves'; value: unknown; delayMs: number }
  | { kind: 'throws-issue-error'; code: TokenIssueErrorCode; status: unknown; sync: boolean }
  | { kind: 'throws'; sync: boolean; what: 'error' | 'string' }
  | { kind: 'hangs' }
  | { kind: 'evil-object' };

const issuerResult: fc.Arbitrary<IssuerResultPlan> = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.record({
      kind: fc.constant('resolves' as const),
      value: fc.oneof(
        tokenValue,
        fc.record({ token: tokenValue, expiresAt: hint, expiresIn: hint }, { requiredKeys: [] }),
        fc.anything({ maxDepth: 1 }),
      ),
      delayMs: delay,
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('throws-issue-error' as const),
      code: fc.constantFrom(...ISSUE_CODES),
      status: fc.oneof(fc.constant(undefined), fc.integer({ min: 100, max: 599 }), fc.double(), fc.constant(1e21)),
      sync: fc.boolean(),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('throws' as const),
      sync: fc.boolean(),
      what: fc.constantFrom('error' as const, 'string' as const),
    }),
  },
  { weight: 1, arbitrary: fc.constantFrom<IssuerResultPlan>({ kind: 'hangs' }, { kind: 'evil-object' }) },
);

type IssuerPlan =
  | { kind: 'access-key'; vendor: VendorPlan[] }
  | { kind: 'token-exchange'; vendor: VendorPlan[]; oauthPick: boolean }
  | {
      kind: 'sign-token';
      ttl: number;
      subject: 'id' | 'empty' | 'none';
      claims: 'object' | 'registered' | 'array' | 'none';
    }
  | { kind: 'custom'; results: IssuerResultPlan[] };

const vendorPlans = fc.array(vendorPlan, { minLength: 1, maxLength: 3 });
const issuerPlan: fc.Arbitrary<IssuerPlan> = fc.oneof(
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('access-key' as const), vendor: vendorPlans }) },
  {
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constant('token-exchange' as const),
      vendor: vendorPlans,
      oauthPick: fc.boolean(),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('sign-token' as const),
      ttl: fc.integer({ min: 1, max: 3600 }),
      subject: fc.constantFrom('id' as const, 'empty' as const, 'none' as const),
      claims: fc.constantFrom('object' as const, 'registered' as const, 'array' as const, 'none' as const),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('custom' as const),
      results: fc.array(issuerResult, { minLength: 1, maxLength: 3 }),
    }),
  },
);

type StoreAnswer =
  | { kind: 'miss' }
  | { kind: 'entry'; token: unknown; expiresAt: unknown; issuedAt: unknown }
  | { kind: 'junk'; value: unknown }
  | { kind: 'throws' }
  | { kind: 'rejects' }
  | { kind: 'getter-throws' };

const storeTime = fc.oneof(
  fc.integer({ min: -100, max: 4000 }).map((seconds) => T0_SECONDS + seconds),
  fc.double(),
  fc.constant('soon'),
);
const storeAnswer: fc.Arbitrary<StoreAnswer> = fc.oneof(
  { weight: 2, arbitrary: fc.constant<StoreAnswer>({ kind: 'miss' }) },
  {
    weight: 4,
    arbitrary: fc.record({
      kind: fc.constant('entry' as const),
      token: fc.oneof(tokenValue, fc.constant(new LongToken(TEN_MB))),
      expiresAt: storeTime,
      issuedAt: storeTime,
    }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('junk' as const), value: fc.anything({ maxDepth: 1 }) }) },
  {
    weight: 1,
    arbitrary: fc.constantFrom<StoreAnswer>({ kind: 'throws' }, { kind: 'rejects' }, { kind: 'getter-throws' }),
  },
);

type CachePlan =
  | { kind: 'memory' }
  | { kind: 'off' }
  /** An honest shared store, behind a delay. */
  | { kind: 'map'; delayMs: number }
  | { kind: 'hostile'; answers: StoreAnswer[]; setFails: boolean };

const cachePlan: fc.Arbitrary<CachePlan> = fc.oneof(
  fc.constant<CachePlan>({ kind: 'memory' }),
  fc.constant<CachePlan>({ kind: 'off' }),
  fc.record({ kind: fc.constant('map' as const), delayMs: delay }),
  fc.record({
    kind: fc.constant('hostile' as const),
    answers: fc.array(storeAnswer, { minLength: 1, maxLength: 3 }),
    setFails: fc.boolean(),
  }),
);

interface HandlerPlan {
  issuer: IssuerPlan;
  cache: CachePlan;
  allowedOrigins: boolean;
  rateLimit: false | undefined | { max: number; windowMs: number };
  refreshMargin: number;
  userId: 'default' | 'function' | 'throws';
  loggerThrows: boolean;
}

const handlerPlan: fc.Arbitrary<HandlerPlan> = fc.record({
  issuer: issuerPlan,
  cache: cachePlan,
  allowedOrigins: fc.boolean(),
  rateLimit: fc.oneof(
    fc.constant(false as const),
    fc.constant(undefined),
    fc.record({ max: fc.integer({ min: 1, max: 3 }), windowMs: fc.integer({ min: 1, max: 120_000 }) }),
  ),
  refreshMargin: fc.constantFrom(0, 60, 120),
  userId: fc.oneof(
    { weight: 8, arbitrary: fc.constant('default' as const) },
    { weight: 1, arbitrary: fc.constantFrom('function' as const, 'throws' as const) },
  ),
  loggerThrows: fc.boolean(),
});

// --- what a client may send ------------------------------------------------------------------------------------------

type AuthorizeMode = 'user' | 'string' | 'number' | 'null' | 'undefined' | 'throws' | 'rejects' | 'no-id' | 'empty-id';
const USER_MODES: readonly AuthorizeMode[] = ['user', 'string', 'number', 'no-id', 'empty-id'];
/** The documented 500s: authorize throwing, or a user without an id (token-handler.ts). */
const INTERNAL_MODES: readonly AuthorizeMode[] = ['throws', 'rejects', 'no-id', 'empty-id'];

type RequestBodyPlan =
  | { kind: 'none' }
  | { kind: 'text'; text: string }
  | { kind: 'bytes'; bytes: Uint8Array<ArrayBuffer> }
  /** Streamed, with no Content-Length of its own: chunked over HTTP. */
  | { kind: 'stream'; size: number; chunk: number };

interface RequestPlan {
  method: string;
  site: string | undefined;
  origin: string | undefined;
  contentLength: 'none' | 'true' | 'negative' | 'huge' | 'overflow' | 'junk' | 'low' | 'high' | 'limit';
  cookie: string | undefined;
  body: RequestBodyPlan;
  authorize: AuthorizeMode;
  authorizeDelayMs: number;
  user: 'u1' | 'u2';
  /** The client gives up after this many ms. */
  abortAfterMs: number | undefined;
  /** How far the handler's clock moves before this request, in a sequential scenario. */
  advanceMs: number;
}

const headerJunk = fc.string({ maxLength: 24 }).map((value) => value.replace(/[^\t\x20-\x7e]/g, ''));
// Each field is mostly what a browser sends, so that most requests get past the checks to the vendor; the rest is
// junk, foreign or contradictory.
const originChoice = fc.oneof(
  { weight: 10, arbitrary: fc.constantFrom(undefined, 'same', ALLOWED_ORIGIN) },
  {
    weight: 2,
    arbitrary: fc.constantFrom('https://evil.example', 'null', 'http://host.example', `${ALLOWED_ORIGIN}/`),
  },
  { weight: 1, arbitrary: headerJunk },
);
const siteChoice = fc.oneof(
  { weight: 10, arbitrary: fc.constantFrom(undefined, 'same-origin', 'none') },
  { weight: 2, arbitrary: fc.constantFrom('same-site', 'cross-site', 'Same-Origin') },
  { weight: 1, arbitrary: headerJunk },
);

function requestPlan(
  methods: fc.Arbitrary<string>,
  contentLengths: fc.Arbitrary<RequestPlan['contentLength']>,
): fc.Arbitrary<RequestPlan> {
  return fc.record({
    method: methods,
    site: siteChoice,
    origin: originChoice,
    contentLength: contentLengths,
    cookie: fc.option(
      headerJunk.map((value) => `session=${value}`),
      { nil: undefined },
    ),
    body: fc.oneof(
      { weight: 9, arbitrary: fc.constant<RequestBodyPlan>({ kind: 'none' }) },
      { weight: 1, arbitrary: fc.record({ kind: fc.constant('text' as const), text: fc.string({ maxLength: 40 }) }) },
      {
        weight: 1,
        arbitrary: fc.record({ kind: fc.constant('bytes' as const), bytes: fc.uint8Array({ maxLength: 40 }) }),
      },
      {
        weight: 1,
        arbitrary: fc.record({
          kind: fc.constant('stream' as const),
          size: fc.oneof(
            fc.constantFrom(0, MAX_REQUEST_BODY, MAX_REQUEST_BODY + 1, 1 << 20),
            fc.integer({ min: 0, max: 4096 }),
          ),
          chunk: fc.integer({ min: 1, max: 2048 }),
        }),
      },
    ),
    authorize: fc.oneof(
      { weight: 12, arbitrary: fc.constantFrom<AuthorizeMode>('user', 'string') },
      {
        weight: 3,
        arbitrary: fc.constantFrom<AuthorizeMode>(
          'number',
          'null',
          'undefined',
          'throws',
          'rejects',
          'no-id',
          'empty-id',
        ),
      },
    ),
    authorizeDelayMs: fc.oneof(
      { weight: 4, arbitrary: fc.constant(0) },
      { weight: 1, arbitrary: fc.integer({ min: 1, max: 3 }) },
    ),
    user: fc.constantFrom('u1' as const, 'u2' as const),
    abortAfterMs: fc.option(fc.integer({ min: 0, max: 25 }), { nil: undefined, freq: 8 }),
    advanceMs: fc.constantFrom(0, 0, 1000, 400_000, 900_000, 4_000_000),
  });
}

const inProcessRequest = requestPlan(
  fc.oneof(
    { weight: 12, arbitrary: fc.constantFrom('GET', 'POST') },
    {
      weight: 3,
      arbitrary: fc.constantFrom('OPTIONS', 'HEAD', 'PUT', 'DELETE', 'PATCH', 'get', 'post', 'options', 'Get', 'BREW'),
    },
    { weight: 1, arbitrary: fc.stringMatching(/^[A-Za-z!#$%&'*+.^_`|~-]{1,10}$/) },
  ),
  fc.oneof(
    { weight: 8, arbitrary: fc.constant('none' as const) },
    { weight: 3, arbitrary: fc.constantFrom('true', 'negative', 'huge', 'overflow', 'junk', 'low', 'high', 'limit') },
  ),
);
// node:http's parser answers an unknown method or a malformed Content-Length with its own 400 before any listener
// runs, and a Content-Length above the bytes sent waits for them: only what reaches the adapter, framed as sent.
const loopbackRequest = requestPlan(
  fc.oneof(
    { weight: 12, arbitrary: fc.constantFrom('GET', 'POST') },
    { weight: 3, arbitrary: fc.constantFrom('OPTIONS', 'HEAD', 'PUT', 'DELETE', 'PATCH') },
  ),
  fc.oneof(
    { weight: 8, arbitrary: fc.constant('none' as const) },
    { weight: 2, arbitrary: fc.constantFrom('true', 'huge') },
  ),
);

interface Scenario {
  handler: HandlerPlan;
  requests: RequestPlan[];
  parallel: boolean;
}

const scenario = (requests: fc.Arbitrary<RequestPlan>): fc.Arbitrary<Scenario> =>
  fc.record({
    handler: handlerPlan,
    requests: fc.array(requests, { minLength: 1, maxLength: 4 }),
    parallel: fc.boolean(),
  });

// --- the world one scenario runs in ----------------------------------------------------------------------------------

/** A body the fakes hand out, watched: how much of it was read, and whether it was finished or cancelled. */
interface WatchedBody {
  side: 'vendor' | 'client';
  pulled: number;
  chunk: number;
  state: 'open' | 'done' | 'cancelled';
}

interface ByteSource {
  size: number;
  slice(start: number, end: number): Uint8Array;
}

const bytesOf = (bytes: Uint8Array): ByteSource => ({
  size: bytes.byteLength,
  slice: (start, end) => bytes.subarray(start, end),
});
const whitespace = (size: number): ByteSource => ({
  size,
  slice: (start, end) => new Uint8Array(end - start).fill(0x20),
});

function watchedStream(
  source: ByteSource,
  options: { side: WatchedBody['side']; chunk: number; pauseMs?: number; stallAt?: number; junkChunk?: boolean },
  watched: WatchedBody[],
): ReadableStream<Uint8Array> {
  // At most 256 chunks a body: a 20 KiB body a byte at a time would cost as much as a hundred scenarios.
  const chunk = Math.max(options.chunk, Math.ceil(Math.min(source.size, 2 * MAX_TOKEN_BODY) / 256));
  const body: WatchedBody = { side: options.side, pulled: 0, chunk, state: 'open' };
  watched.push(body);
  let junkSent = !options.junkChunk;
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        if (options.stallAt !== undefined && body.pulled >= options.stallAt) return new Promise<void>(() => {});
        if (options.pauseMs) await sleep(options.pauseMs);
        if (body.state !== 'open') return;
        if (!junkSent) {
          junkSent = true;
          controller.enqueue('not bytes' as never);
          return;
        }
        if (body.pulled >= source.size) {
          body.state = 'done';
          controller.close();
          return;
        }
        const end = Math.min(source.size, body.pulled + chunk);
        controller.enqueue(source.slice(body.pulled, end));
        body.pulled = end;
      },
      cancel() {
        if (body.state === 'open') body.state = 'cancelled';
      },
    },
    // No read-ahead: what is pulled is what the reader asked for.
    { highWaterMark: 0 },
  );
}

class World {
  clock = T0;
  readonly logs: string[] = [];
  /** Every token an issuer resolved or a store held: a 200 may hand out only one of these. */
  readonly tokens = new Set<string>();
  readonly bodies: WatchedBody[] = [];
  /** Vendor answers still on their way (a fake that ignores its signal answers after the handler gave up). */
  readonly pending: Array<Promise<unknown>> = [];
  readonly handler: (request: Request) => Promise<Response>;
  readonly requests: RequestPlan[];
  #vendorCalls = 0;
  #issuerCalls = 0;
  #storeCalls = 0;

  constructor(plan: HandlerPlan, requests: RequestPlan[]) {
    this.requests = requests;
    this.handler = createTokenHandler<unknown>({
      authorize: (request) => this.#authorize(request),
      issue: this.#recording(this.#issuer(plan.issuer)),
      ...(plan.userId === 'function' ? { userId: userIdOf } : {}),
      ...(plan.userId === 'throws'
        ? {
            userId: () => {
              throw new Error(`userId failed ${ACCESS_KEY}`);
            },
          }
        : {}),
      allowedOrigins: plan.allowedOrigins ? [ALLOWED_ORIGIN] : [],
      ...(plan.rateLimit === undefined ? {} : { rateLimit: plan.rateLimit }),
      ...this.#cacheOption(plan.cache),
      refreshMargin: plan.refreshMargin,
      timeoutMs: TIMEOUT_MS,
      now: () => this.clock,
      logger: {
        warn: (message) => {
          this.logs.push(message);
          if (plan.loggerThrows) throw new Error(`logger down ${ACCESS_KEY}`);
        },
      },
    });
  }

  #authorize(request: Request): unknown {
    const plan = this.requests[Number(request.headers.get('x-fuzz-request'))]!;
    const answer = (): unknown => {
      switch (plan.authorize) {
        case 'user':
          return { id: plan.user };
        case 'string':
          return plan.user;
        case 'number':
          return 42;
        case 'null':
          return null;
        case 'undefined':
          return undefined;
        case 'throws':
          throw new Error(`session store down ${ACCESS_KEY}`);
        case 'rejects':
          return Promise.reject(new Error(`session store down ${API_KEY}`));
        case 'no-id':
          return { name: plan.user };
        case 'empty-id':
          return { id: '' };
      }
    };
    return plan.authorizeDelayMs > 0 ? sleep(plan.authorizeDelayMs).then(answer) : answer();
  }

  /** Records what the issuer resolved, and otherwise changes nothing: a synchronous throw stays synchronous. */
  #recording(issue: TokenIssuer<unknown>): TokenIssuer<unknown> {
    return (user, context) =>
      Promise.resolve(issue(user, context)).then((result) => {
        try {
          const token = typeof result === 'string' ? result : (result as { token?: unknown } | null)?.token;
          if (typeof token === 'string') this.tokens.add(token.trim());
        } catch {
          // An evil getter: the handler meets it too.
        }
        return result;
      }) as ReturnType<TokenIssuer<unknown>>;
  }

  #issuer(plan: IssuerPlan): TokenIssuer<unknown> {
    const url = 'https://vendor.example/token';
    switch (plan.kind) {
      case 'access-key':
        return accessKeyExchange({
          url,
          accessId: 'host-42',
          accessKey: ACCESS_KEY,
          fetch: this.#fakeFetch(plan.vendor),
        });
      case 'token-exchange':
        return tokenExchange({
          url,
          headers: { 'x-api-key': API_KEY },
          body: (user: unknown) => ({ user: userIdOf(user), password: BODY_SECRET }),
          fetch: this.#fakeFetch(plan.vendor),
          ...(plan.oauthPick
            ? { pick: (json: any) => ({ token: json.access_token, expiresIn: json.expires_in }) }
            : {}),
        });
      case 'sign-token':
        return signToken<unknown>({
          key: SIGNING_KEY,
          alg: 'HS256',
          issuer: HOST,
          audience: 'vendor',
          ttl: plan.ttl,
          now: () => this.clock,
          ...(plan.subject === 'none'
            ? {}
            : { subject: (user) => (plan.subject === 'id' ? userIdOf(user) || 'anonymous' : '') }),
          ...(plan.claims === 'none'
            ? {}
            : {
                claims: () =>
                  (plan.claims === 'object'
                    ? { resource: { dashboard: 7 } }
                    : plan.claims === 'registered'
                      ? { sub: 'x' }
                      : []) as Record<string, unknown>,
              }),
        });
      case 'custom':
        return () => this.#customResult(plan.results[this.#issuerCalls++ % plan.results.length]!);
    }
  }

  #customResult(plan: IssuerResultPlan): ReturnType<TokenIssuer<unknown>> {
    switch (plan.kind) {
      case 'resolves':
        return (plan.delayMs > 0 ? sleep(plan.delayMs) : Promise.resolve()).then(() =>
          spelled(plan.value),
        ) as ReturnType<TokenIssuer<unknown>>;
      case 'throws-issue-error': {
        const error = new TokenIssueError(plan.code, `vendor said ${ACCESS_KEY}`, {
          status: plan.status as number,
          cause: API_KEY,
        });
        if (plan.sync) throw error;
        return Promise.reject(error);
      }
      case 'throws': {
        const error =
          plan.what === 'error' ? new Error(`issuer failed ${SIGNING_KEY}`) : `issuer failed ${SIGNING_KEY}`;
        if (plan.sync) throw error;
        return Promise.reject(error);
      }
      case 'hangs':
        // Ignores its signal: the handler's own timer must still answer.
        return new Promise<never>(() => {});
      case 'evil-object':
        return Promise.resolve({
          get token(): string {
            throw new Error(`getter ${ACCESS_KEY}`);
          },
        }) as ReturnType<TokenIssuer<unknown>>;
    }
  }

  #fakeFetch(plans: VendorPlan[]): typeof fetch {
    return ((_input: unknown, init?: RequestInit) => {
      const plan = plans[this.#vendorCalls++ % plans.length]!;
      const signal = init?.signal ?? undefined;
      // Whatever the host sent, secrets and all: a careless vendor echoes it back.
      const echo = `${String(init?.body ?? '')} ${JSON.stringify([...new Headers(init?.headers)])}`;
      switch (plan.kind) {
        case 'throws':
          throw new Error(`vendor down: ${echo}`);
        case 'rejects':
          return Promise.reject(new TypeError(`fetch failed: ${echo}`));
        case 'hangs':
          return new Promise((_, reject) => {
            if (plan.heedsSignal) signal?.addEventListener('abort', () => reject(signal.reason), { once: true });
          });
        case 'junk':
          return Promise.resolve(plan.value);
        case 'answers': {
          const answer = sleep(plan.delayMs).then(() => {
            if (plan.heedsSignal) signal?.throwIfAborted();
            return this.#respond(plan, echo);
          });
          this.pending.push(answer.catch(() => {}));
          return answer;
        }
      }
    }) as typeof fetch;
  }

  #respond(plan: Extract<VendorPlan, { kind: 'answers' }>, echo: string): Response {
    const headers = new Headers();
    if (plan.contentType !== undefined) headers.set('Content-Type', plan.contentType);
    if ([204, 205, 304].includes(plan.status)) return new Response(null, { status: plan.status, headers });
    const source = vendorBytes(plan.body, echo);
    const declared = {
      none: undefined,
      true: source.size,
      low: Math.floor(source.size / 2),
      high: source.size * 2 + 1,
      junk: 'abc',
    }[plan.contentLength];
    if (declared !== undefined) headers.set('Content-Length', String(declared));
    const body = watchedStream(
      source,
      { side: 'vendor', chunk: plan.chunk, pauseMs: plan.pauseMs, stallAt: plan.stallAt, junkChunk: plan.junkChunk },
      this.bodies,
    );
    return new Response(body, { status: plan.status, headers });
  }

  #cacheOption(plan: CachePlan): { cache?: TokenCache | false } {
    switch (plan.kind) {
      case 'memory':
        return {};
      case 'off':
        return { cache: false };
      case 'map': {
        const entries = new Map<string, CachedToken>();
        const later = <T>(value: () => T): Promise<T> => sleep(plan.delayMs).then(value);
        return {
          cache: {
            get: (key) => later(() => entries.get(key)),
            set: (key, entry) => later(() => void entries.set(key, entry)),
          },
        };
      }
      case 'hostile':
        return {
          cache: {
            get: () => this.#storeAnswer(plan.answers[this.#storeCalls++ % plan.answers.length]!),
            set: () => {
              if (plan.setFails) throw new Error(`store full ${ACCESS_KEY}`);
            },
          },
        };
    }
  }

  #storeAnswer(answer: StoreAnswer): CachedToken | undefined | Promise<CachedToken | undefined> {
    switch (answer.kind) {
      case 'miss':
        return undefined;
      case 'entry': {
        const token = spelled(answer.token);
        if (typeof token === 'string') this.tokens.add(token);
        return { token, expiresAt: answer.expiresAt, issuedAt: answer.issuedAt } as CachedToken;
      }
      case 'junk':
        return answer.value as CachedToken;
      case 'throws':
        throw new Error(`store down ${ACCESS_KEY}`);
      case 'rejects':
        return Promise.reject(new Error(`store down ${ACCESS_KEY}`));
      case 'getter-throws':
        return Object.defineProperty({ expiresAt: T0_SECONDS + 900, issuedAt: T0_SECONDS }, 'token', {
          get: () => {
            throw new Error(`corrupt ${ACCESS_KEY}`);
          },
        }) as CachedToken;
    }
  }

  /**
   * The request's body as the client sends it. In process the handler is its only reader, so it is watched and the
   * handler's bound on it checked; over loopback the client's own writer reads it.
   */
  requestBody(plan: RequestPlan, watched: boolean): { body: BodyInit | undefined; size: number } {
    switch (plan.body.kind) {
      case 'none':
        return { body: undefined, size: 0 };
      case 'text':
        return { body: plan.body.text, size: Buffer.byteLength(plan.body.text) };
      case 'bytes':
        return { body: plan.body.bytes, size: plan.body.bytes.byteLength };
      case 'stream':
        return {
          body: watchedStream(
            whitespace(plan.body.size),
            { side: 'client', chunk: plan.body.chunk },
            watched ? this.bodies : [],
          ),
          size: plan.body.size,
        };
    }
  }

  /** Waits for every fake vendor answer still on its way, and for the handler to have dealt with it. */
  async settle(): Promise<void> {
    await Promise.all(this.pending);
    for (let i = 0; i < 3; i++) await new Promise((resolve) => setImmediate(resolve));
  }
}

function userIdOf(user: unknown): string {
  if (typeof user === 'object' && user !== null) return String((user as { id?: unknown }).id ?? '');
  return String(user);
}

function vendorBytes(plan: BodyPlan, echo: string): ByteSource {
  const encode = (text: string): ByteSource => bytesOf(new TextEncoder().encode(text));
  switch (plan.kind) {
    case 'json': {
      const plain = spelled(plan.value);
      const value =
        plan.echo && typeof plain === 'object' && plain !== null && !Array.isArray(plain)
          ? { ...plain, detail: echo }
          : plain;
      const text = JSON.stringify(value) ?? 'null';
      const size = Buffer.byteLength(text);
      return encode(plan.padTo !== undefined && plan.padTo > size ? text + ' '.repeat(plan.padTo - size) : text);
    }
    case 'text':
      return encode(plan.echo ? `<html>${plan.text} ${echo}</html>` : plan.text);
    case 'bytes':
      return bytesOf(plan.bytes);
    case 'filler':
      return whitespace(plan.size);
    case 'nested':
      return encode('['.repeat(plan.depth) + ']'.repeat(plan.depth));
  }
}

// --- one request, and what its answer must be ------------------------------------------------------------------------

interface Answer {
  status: number;
  headers: Array<[string, string]>;
  text: string;
}

/** The headers a request plan sends, on the origin it is sent to. */
function headersFor(plan: RequestPlan, index: number, origin: string, size: number): Array<[string, string]> {
  const headers: Array<[string, string]> = [['x-fuzz-request', String(index)]];
  if (plan.site !== undefined) headers.push(['sec-fetch-site', plan.site]);
  if (plan.origin !== undefined) headers.push(['origin', plan.origin === 'same' ? origin : plan.origin]);
  if (plan.cookie !== undefined) headers.push(['cookie', plan.cookie]);
  const length = {
    none: undefined,
    true: String(size),
    negative: '-1',
    huge: '99999999999',
    overflow: '99999999999999999999',
    junk: 'twelve',
    low: String(Math.max(0, size - 1)),
    high: String(size + 1),
    limit: String(MAX_REQUEST_BODY),
  }[plan.contentLength];
  if (length !== undefined) headers.push(['content-length', length]);
  return headers.filter(([name, value]) => {
    try {
      new Headers([[name, value]]);
      return true;
    } catch {
      return false;
    }
  });
}

function within<T>(promise: Promise<T>, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const hung = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not answer within 2 s`)), 2000);
  });
  return Promise.race([promise, hung]).finally(() => clearTimeout(timer));
}

async function sendInProcess(world: World, plan: RequestPlan, index: number): Promise<Answer | undefined> {
  const method = plan.method;
  const noBody = ['GET', 'HEAD'].includes(method.toUpperCase());
  const { body, size } = noBody ? { body: undefined, size: 0 } : world.requestBody(plan, true);
  const client = new AbortController();
  let request: Request;
  try {
    request = new Request(`${HOST}/api/widget-token`, {
      method,
      headers: headersFor(plan, index, HOST, size),
      body,
      signal: client.signal,
      duplex: 'half',
    } as RequestInit);
  } catch {
    return undefined; // the runtime refuses it (TRACE, a method it cannot name): no handler ever sees it
  }
  const timer = plan.abortAfterMs === undefined ? undefined : setTimeout(() => client.abort(), plan.abortAfterMs);
  try {
    const response = await within(world.handler(request), 'the handler');
    return { status: response.status, headers: [...response.headers], text: await response.text() };
  } finally {
    clearTimeout(timer);
  }
}

function checkAnswer(world: World, answer: Answer, plan: RequestPlan, handler: HandlerPlan, headOnly: boolean): void {
  const header = (name: string): string | undefined => answer.headers.find(([key]) => key.toLowerCase() === name)?.[1];
  for (const secret of SECRETS) {
    assert.ok(!answer.text.includes(secret), 'a response body shows a secret');
    assert.ok(!answer.headers.some(([name, value]) => `${name}: ${value}`.includes(secret)), 'a header shows a secret');
  }
  assert.equal(header('cache-control'), 'no-store');
  const method = plan.method.toUpperCase();

  if (answer.status === 204) {
    // The preflight an allowed origin gets: no body to be JSON.
    assert.equal(method, 'OPTIONS');
    assert.equal(answer.text, '');
    assert.equal(header('access-control-allow-origin'), ALLOWED_ORIGIN);
    return;
  }
  assert.equal(header('content-type'), 'application/json; charset=utf-8');
  if (headOnly) {
    assert.equal(answer.text, '');
    assert.notEqual(answer.status, 200);
    return;
  }
  const json: unknown = JSON.parse(answer.text);

  if (answer.status === 200) {
    assert.ok(method === 'GET' || method === 'POST', `200 to ${plan.method}`);
    assert.ok(USER_MODES.includes(plan.authorize), `200 when authorize answered ${plan.authorize}`);
    const body = json as Record<string, unknown>;
    assert.deepEqual(
      Object.keys(body).filter((key) => key !== 'embedToken' && key !== 'expiresAt'),
      [],
    );
    const { embedToken, expiresAt } = body;
    assert.equal(typeof embedToken, 'string');
    assert.ok(
      (embedToken as string).length > 0 && (embedToken as string).length <= MAX_TOKEN_LENGTH,
      'embedToken length',
    );
    assert.equal(embedToken, (embedToken as string).trim());
    assert.ok(world.tokens.has(embedToken as string), 'a 200 hands out a token nobody issued');
    assert.ok(expiresAt === undefined || (typeof expiresAt === 'number' && Number.isFinite(expiresAt)), 'expiresAt');
    return;
  }

  assert.equal(typeof json, 'object');
  assert.deepEqual(Object.keys(json as object), ['error']);
  const error = (json as { error: Record<string, unknown> }).error;
  assert.deepEqual(Object.keys(error), ['code', 'message']);
  assert.ok(Object.hasOwn(STATUS_OF, error.code as string), `unknown error code ${String(error.code)}`);
  assert.equal(answer.status, STATUS_OF[error.code as TokenHandlerErrorCode]);
  assert.equal(typeof error.message, 'string');
  if (answer.status === 500) {
    const userIdThrew = handler.userId === 'throws' && USER_MODES.includes(plan.authorize);
    assert.ok(INTERNAL_MODES.includes(plan.authorize) || userIdThrew, `500 when authorize answered ${plan.authorize}`);
  }
}

function checkWorld(world: World): void {
  for (const line of world.logs) {
    assert.match(line, LOG_LINE);
    for (const secret of SECRETS) assert.ok(!line.includes(secret), 'a log line shows a secret');
  }
  for (const body of world.bodies) {
    const limit = body.side === 'vendor' ? MAX_TOKEN_BODY : MAX_REQUEST_BODY;
    assert.ok(body.pulled <= limit + body.chunk, `read ${body.pulled} bytes of a ${body.side} body, past its limit`);
    // Every vendor body the exchange got was read to its end or cancelled: none is left hanging on a socket.
    if (body.side === 'vendor') assert.notEqual(body.state, 'open', 'a vendor body was left open');
  }
}

async function runScenario(
  { handler, requests, parallel }: Scenario,
  send: (world: World, plan: RequestPlan, index: number) => Promise<Answer | undefined>,
  headOnly: (plan: RequestPlan) => boolean,
): Promise<void> {
  const world = new World(handler, requests);
  const check = (answer: Answer | undefined, index: number): void => {
    if (answer) checkAnswer(world, answer, requests[index]!, handler, headOnly(requests[index]!));
  };
  if (parallel) {
    (await Promise.all(requests.map((plan, index) => send(world, plan, index)))).forEach(check);
  } else {
    for (const [index, plan] of requests.entries()) {
      world.clock += plan.advanceMs;
      check(await send(world, plan, index), index);
    }
  }
  await world.settle();
  checkWorld(world);
}

// --- the properties ------------------------------------------------------------------------------------------------

describe('the token handler holds its contract against hostile requests, vendors, issuers and caches', () => {
  it(`in process: ${RUNS} runs, seed ${SEED}`, { timeout: 300_000 }, async () => {
    await fc.assert(
      fc.asyncProperty(scenario(inProcessRequest), (input) => runScenario(input, sendInProcess, () => false)),
      { seed: SEED, numRuns: RUNS, includeErrorInReport: true },
    );
  });

  it(`through toNodeListener on loopback: ${LOOPBACK_RUNS} runs, seed ${SEED}`, { timeout: 300_000 }, async () => {
    let current: NodeListener = (_req, res) => res.end();
    const origin = await listen((req, res) => current(req, res));
    const { hostname, port } = new URL(origin);
    const sendOverHttp = (world: World, plan: RequestPlan, index: number): Promise<Answer | undefined> => {
      const noBody = ['GET', 'HEAD'].includes(plan.method);
      const body = noBody ? { body: undefined, size: 0 } : world.requestBody(plan, false);
      const headers = headersFor(plan, index, origin, body.size);
      // node:http chunks a body by default only for some methods; sent unframed, it would be the next request.
      if (body.body !== undefined && plan.contentLength === 'none') headers.push(['transfer-encoding', 'chunked']);
      return within(
        new Promise<Answer | undefined>((resolve, reject) => {
          const request = http.request(
            {
              hostname,
              port,
              method: plan.method,
              path: '/api/widget-token',
              headers: Object.fromEntries(headers),
              agent: false,
            },
            (response) => {
              const chunks: Buffer[] = [];
              response.on('data', (chunk: Buffer) => chunks.push(chunk));
              response.on('end', () => {
                const pairs: Array<[string, string]> = [];
                for (let i = 0; i < response.rawHeaders.length; i += 2)
                  pairs.push([response.rawHeaders[i]!, response.rawHeaders[i + 1]!]);
                resolve({ status: response.statusCode!, headers: pairs, text: Buffer.concat(chunks).toString() });
              });
              response.on('error', () => resolve(undefined));
            },
          );
          // A client that gives up, or a server that cut an oversized body short: nothing to check but the logs.
          request.on('error', (error: NodeJS.ErrnoException) =>
            plan.abortAfterMs !== undefined || ['ECONNRESET', 'EPIPE'].includes(error.code ?? '')
              ? resolve(undefined)
              : reject(error),
          );
          if (plan.abortAfterMs !== undefined) setTimeout(() => request.destroy(), plan.abortAfterMs);
          void writeBody(request, plan, body.body);
        }),
        'the loopback server',
      );
    };

    await fc.assert(
      fc.asyncProperty(scenario(loopbackRequest), (input) => {
        let world: World | undefined;
        return runScenario(
          input,
          (w, plan, index) => {
            if (world !== w) {
              world = w;
              current = toNodeListener(w.handler);
            }
            return sendOverHttp(w, plan, index);
          },
          (plan) => plan.method === 'HEAD',
        );
      }),
      { seed: SEED, numRuns: LOOPBACK_RUNS, includeErrorInReport: true },
    );
  });
});

/**
 * Resolves on the first of 'drain' and 'close', and takes both listeners off: a once-listener that never fires stays,
 * and a body written in many chunks left one 'close' listener per chunk (Node's MaxListenersExceededWarning).
 */
function drainedOrClosed(request: http.ClientRequest): Promise<void> {
  return new Promise((resolve) => {
    const settle = () => {
      request.off('drain', settle).off('close', settle);
      resolve();
    };
    request.once('drain', settle).once('close', settle);
  });
}

async function writeBody(request: http.ClientRequest, plan: RequestPlan, body: BodyInit | undefined): Promise<void> {
  try {
    // A declared length far above the bytes sent: the handler refuses it unread, so nothing is sent.
    if (plan.contentLength === 'huge' || body === undefined) return;
    if (body instanceof ReadableStream) {
      const reader = body.getReader();
      for (let chunk = await reader.read(); !chunk.done && !request.destroyed; chunk = await reader.read()) {
        if (!request.write(chunk.value)) await drainedOrClosed(request);
      }
      await reader.cancel();
    } else {
      request.write(body as string | Uint8Array);
    }
  } catch {
    // The server hung up on an oversized body.
  } finally {
    if (!request.destroyed) request.end();
  }
}
