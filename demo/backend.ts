import { accessKeyExchange, createTokenHandler, tokenExchange } from '../src/server/index.js';
import type { TokenIssuer } from '../src/server/index.js';
import { demoCredentials } from './credentials.js';
import { createReferenceVendor, type ReferenceVendor } from './vendor/index.js';

export interface DemoBackendOptions {
  /** Lifetime of the vendor's tokens; short in the demo so that a visitor sees a refresh happen. */
  ttlSeconds?: number;
}

export interface DemoBackend {
  /** Answers the vendor's routes and the host's token endpoints; null for everything else. */
  handle(request: Request): Promise<Response | null>;
  readonly vendor: ReferenceVendor;
}

/** The attribute-style widget's endpoint (Returning.AI): the host exchanges its access id and key. */
export const TOKEN_ENDPOINT_PATH = '/api/widget-token';
/** The config-object widget's endpoint (Qrvey): the host exchanges its private API key for the user's token. */
export const QRVEY_TOKEN_ENDPOINT_PATH = '/api/qrvey-token';
/**
 * The vendor's publishable dev key, for a dev-mode page (`<secure-widget api-key="pk_…">`): a key made for browsers,
 * served to them the way Stripe's samples serve their publishable key, so that no page hard-codes a key that is new
 * for each process. Never the private API key.
 */
export const DEV_KEY_ENDPOINT_PATH = '/api/dev-key';
/**
 * Dev only, like all of this backend: `POST` breaks both token endpoints (503) for `?seconds=` (default and at most
 * 30), so that a visitor watches the element retry with backoff and recover; `GET` says whether they are broken.
 */
export const BREAK_ENDPOINT_PATH = '/api/demo/break-endpoint';
/** One press's break: long enough for a few retries with backoff, and bounded so that it always ends by itself. */
export const MAX_BREAK_SECONDS = 30;
/** The Qrvey-style application every demo token opens (`appId`). */
export const DEMO_APP_ID = 'demo-app';

interface DemoUser {
  id: string;
}

/**
 * Both back ends of the demo on one server (docs/design.md, "The three sides"): the reference vendor under /vendor, reached by the host as a
 * real vendor would be (over HTTP, at 127.0.0.1, another origin than the page's localhost), and the host's own token
 * endpoints, which hold the vendor credentials and exchange them for embed tokens: the access key (Returning.AI
 * style) at /api/widget-token, the API key (Qrvey style) at /api/qrvey-token.
 */
export async function createDemoBackend(options: DemoBackendOptions = {}): Promise<DemoBackend> {
  const { accessId, accessKey, apiKey } = demoCredentials();
  const vendor = await createReferenceVendor({ accessId, accessKey, apiKey, ttlSeconds: options.ttlSeconds ?? 60 });

  /** Each endpoint's issuer, given the vendor's URL (the vendor lives on the same server, at 127.0.0.1). */
  const issuers = new Map<string, (vendorUrl: string) => TokenIssuer<DemoUser>>([
    [
      TOKEN_ENDPOINT_PATH,
      (vendorUrl) => accessKeyExchange({ url: `${vendorUrl}/api/widget-access-keys/token`, accessId, accessKey }),
    ],
    [
      // The configuration docs/server-issuers.md documents for Qrvey, pointed at the reference vendor.
      QRVEY_TOKEN_ENDPOINT_PATH,
      (vendorUrl) =>
        tokenExchange({
          url: `${vendorUrl}/qrvey/token`,
          headers: { 'x-api-key': apiKey },
          body: (user: DemoUser) => ({ userId: user.id, appId: DEMO_APP_ID }),
        }),
    ],
  ]);
  // One handler per endpoint and port the server answers on; each keeps its own cache of its own tokens.
  const tokenHandlers = new Map<string, (request: Request) => Promise<Response>>();

  const tokenHandlerFor = (url: URL) => {
    const issuer = issuers.get(url.pathname);
    if (!issuer) return null;
    const key = `${url.pathname} ${url.port}`;
    let handler = tokenHandlers.get(key);
    if (!handler) {
      handler = createTokenHandler({
        // The demo has no login: every visitor is the same demo user. A real host returns its session's user here.
        authorize: (): DemoUser => ({ id: 'demo-user' }),
        // That one user stands for every visitor and every browser test, so it gets far more than a person's 30 a
        // minute.
        rateLimit: { max: 1000, windowMs: 60_000 },
        issue: issuer(`http://127.0.0.1:${url.port}/vendor`),
      });
      tokenHandlers.set(key, handler);
    }
    return handler;
  };

  // A deadline, not a timer: the break ends by itself when the clock passes it, with nothing left running.
  let brokenUntil = 0;

  return {
    vendor,
    async handle(request) {
      const url = new URL(request.url);
      if (url.pathname === BREAK_ENDPOINT_PATH) {
        const answer = answerBreakRequest(request, url, brokenUntil);
        brokenUntil = answer.brokenUntil;
        return answer.response;
      }
      const handler = tokenHandlerFor(url);
      if (handler) return Date.now() < brokenUntil ? brokenEndpoint(brokenUntil) : handler(request);
      if (url.pathname === DEV_KEY_ENDPOINT_PATH) return serveDevKey(request, vendor.devKey);
      return vendor.handle(request);
    },
  };
}

function serveDevKey(request: Request, devKey: string): Response {
  const headers = { 'Cache-Control': 'no-store', 'X-Content-Type-Options': 'nosniff' };
  if (request.method !== 'GET' && request.method !== 'HEAD') {
    return new Response(null, { status: 405, headers: { ...headers, Allow: 'GET, HEAD' } });
  }
  // Same-origin only (no CORS headers): the page that embeds the widget is the one that needs it.
  const body = request.method === 'HEAD' ? null : JSON.stringify({ apiKey: devKey });
  const contentType = 'application/json; charset=utf-8';
  return new Response(body, { status: 200, headers: { ...headers, 'Content-Type': contentType } });
}

const JSON_HEADERS = {
  'Content-Type': 'application/json; charset=utf-8',
  'Cache-Control': 'no-store',
  'X-Content-Type-Options': 'nosniff',
};

function json(status: number, body: unknown, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), { status, headers: { ...JSON_HEADERS, ...headers } });
}

function secondsLeft(brokenUntil: number): number {
  return Math.max(0, Math.ceil((brokenUntil - Date.now()) / 1000));
}

/** The break route's answer, and the deadline it leaves (unchanged unless a break begins). */
function answerBreakRequest(
  request: Request,
  url: URL,
  brokenUntil: number,
): { response: Response; brokenUntil: number } {
  const endpoints = [TOKEN_ENDPOINT_PATH, QRVEY_TOKEN_ENDPOINT_PATH];
  const status = (until: number) => ({ broken: secondsLeft(until) > 0, secondsLeft: secondsLeft(until), endpoints });
  if (request.method === 'GET') return { response: json(200, status(brokenUntil)), brokenUntil };
  if (request.method !== 'POST') {
    const response = json(
      405,
      { error: { code: 'method-not-allowed', message: 'Use POST (or GET for the state)' } },
      {
        Allow: 'GET, POST',
      },
    );
    return { response, brokenUntil };
  }
  // Only the demo page itself: another site's form must not break a developer's running demo.
  const site = request.headers.get('Sec-Fetch-Site');
  const origin = request.headers.get('Origin');
  if ((site !== null && site !== 'same-origin' && site !== 'none') || (origin !== null && origin !== url.origin)) {
    const response = json(403, {
      error: { code: 'cross-site', message: 'Only the demo page may break its endpoints' },
    });
    return { response, brokenUntil };
  }
  const asked = url.searchParams.get('seconds');
  const seconds = asked === null ? MAX_BREAK_SECONDS : /^\d{1,2}$/.test(asked) ? Number(asked) : Number.NaN;
  if (!(seconds >= 1 && seconds <= MAX_BREAK_SECONDS)) {
    const message = `seconds must be a whole number from 1 to ${MAX_BREAK_SECONDS}`;
    return { response: json(400, { error: { code: 'bad-request', message } }), brokenUntil };
  }
  // A new press starts the break again from now: it never adds up to more than one break's length.
  const until = Date.now() + seconds * 1000;
  const body = { ...status(until), seconds, endsAt: new Date(until).toISOString() };
  return { response: json(200, body), brokenUntil: until };
}

/**
 * What a broken token endpoint answers: a 503 in the token handler's error shape. No `Retry-After`, which the element
 * would honour with one wait to the end: without it the visitor sees the element's own backoff, 1 s doubling.
 */
function brokenEndpoint(brokenUntil: number): Response {
  const message = `The demo broke this endpoint on purpose; it answers again in ${secondsLeft(brokenUntil)} s`;
  return json(503, { error: { code: 'demo-endpoint-broken', message } });
}
