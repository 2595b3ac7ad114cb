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

  return {
    vendor,
    async handle(request) {
      const url = new URL(request.url);
      const handler = tokenHandlerFor(url);
      if (handler) return handler(request);
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
