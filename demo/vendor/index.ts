import { createHash, randomBytes } from 'node:crypto';
import { createLocalJWKSet } from 'jose';
import type { JSONWebKeySet } from 'jose';
import { isWebPageOrigin } from '../../src/protocol/origin.js';
import { createAccessKeyCheck, createApiKeyCheck } from './access-keys.js';
import { VENDOR_AUDIENCE, VENDOR_ISSUER } from './claims.js';
import { signEmbedToken } from './issuer.js';
import { generateVendorSigningKey, isVendorKeyPair, vendorSigningKey } from './keys.js';
import type { VendorSigningKey } from './keys.js';
import { EmbedTokenRejectedError, verifyEmbedToken } from './verify-token.js';
import { configWidgetBundle, debugPageBundle, framePageBundle, widgetBundle } from './widget-bundle.js';

export interface ReferenceVendorOptions {
  accessId: string;
  accessKey: string;
  /**
   * The customer's private API key for the Qrvey-style token API (`POST /qrvey/token` with `x-api-key`). Server to
   * server only: it must not look publishable (`pk_…`), and it never opens the data API. Without it, that token API
   * answers 401 to every call.
   */
  apiKey?: string;
  /**
   * The publishable dev key (`pk_…`) that the data API accepts in `x-api-key` in place of a token: Qrvey's "API key,
   * for dev mode only", made safe to put in a page. Default: `pk_test_` and a random part, new for each process.
   */
  devKey?: string;
  /** Token lifetime in seconds; default 900 (15 min), as Returning.AI's access-key tokens. */
  ttlSeconds?: number;
  /** Where the vendor is mounted; default '/vendor'. */
  basePath?: string;
  /** ms since epoch, default Date.now: the vendor's clock, which may differ from the host's and the browser's. */
  now?: () => number;
  /**
   * Host page origins allowed to frame the iframe page (`frame.html`, and the support hook's relay `debug.html`) and to
   * talk to them, such as 'https://shop.example'. Default: `http://localhost:<port of the request>`, the demo's and the
   * tests' host page.
   */
  allowedHostOrigins?: string[];
  /**
   * An ES256 key pair to sign with instead of a fresh, non-extractable one: for tests that must sign tokens the vendor
   * never would (a missing claim, a future `nbf`). Never a key kept in the repository for the demo.
   */
  signingKeyPair?: CryptoKeyPair;
}

export interface ReferenceVendor {
  /** Answers any request under basePath; resolves null for paths outside it. Never throws (500 with a generic JSON body). */
  handle(request: Request): Promise<Response | null>;
  /** Mints a token directly (tests and the demo's test backend use it). `now` (ms) overrides the vendor clock for this one token. */
  issueToken(options?: { ttlSeconds?: number; subject?: string; now?: number }): Promise<string>;
  /**
   * Signs every new token with a fresh key, published beside the current one, so tokens already issued stay valid until
   * they expire. The JWKS holds two keys at most: a second rotation retires the oldest key and the tokens it signed, so
   * rotate no more often than a token lives.
   */
  rotateSigningKey(): Promise<void>;
  /** The publishable dev key the data API accepts (safe to show: it is made to be put in a page). */
  readonly devKey: string;
  readonly issuer: string;
  readonly audience: string;
}

const DEFAULT_TTL_SECONDS = 900;
const DEFAULT_BASE_PATH = '/vendor';
// An id and a key fit in a few hundred bytes; the cap keeps an unauthenticated caller from making us buffer more.
const MAX_TOKEN_REQUEST_BYTES = 4096;
// A userId or an appId becomes a claim of every token and a line of the widget's card: an id, not a document.
const MAX_ID_LENGTH = 256;
// A publishable key: the `pk_` prefix every vendor gives browser keys, and a random part made of URL-safe characters.
const PUBLISHABLE_KEY = /^pk_[\w-]{8,256}$/;

const JSON_CONTENT_TYPE = 'application/json; charset=utf-8';
const JAVASCRIPT_CONTENT_TYPE = 'text/javascript; charset=utf-8';
const HTML_CONTENT_TYPE = 'text/html; charset=utf-8';

// The data API carries its credential in a header, never a cookie, so any origin may call it: the token is the gate.
const OPEN_CORS = { 'Access-Control-Allow-Origin': '*' } as const;

type ErrorCode =
  | 'bad_request'
  | 'invalid_api_key'
  | 'invalid_credentials'
  | 'method_not_allowed'
  | 'not_found'
  | 'payload_too_large'
  | 'token_expired'
  | 'token_invalid'
  | 'internal_error';

export async function createReferenceVendor(options: ReferenceVendorOptions): Promise<ReferenceVendor> {
  const config = checkOptions(options);
  const credentialsMatch = createAccessKeyCheck(config.accessId, config.accessKey);
  // No API key configured: a check that nothing passes, so the Qrvey-style token API is closed rather than open.
  const apiKeyMatches = config.apiKey === undefined ? () => false : createApiKeyCheck(config.apiKey);
  const devKeyMatches = createApiKeyCheck(config.devKey);
  let signingKey = config.signingKeyPair
    ? await vendorSigningKey(config.signingKeyPair)
    : await generateVendorSigningKey();
  let retiredKey: VendorSigningKey | null = null;
  let publishedKeys: ReturnType<typeof createLocalJWKSet>;
  let jwksBody: string;
  publish();

  function publish(): void {
    const jwks: JSONWebKeySet = { keys: [signingKey.publicJwk, ...(retiredKey ? [retiredKey.publicJwk] : [])] };
    // The data API checks tokens against the very JWKS it publishes, so what the widget trusts and what the API trusts
    // cannot drift apart. jose snapshots the set, so each rotation builds a new one.
    publishedKeys = createLocalJWKSet(jwks);
    jwksBody = JSON.stringify(jwks);
  }

  async function rotateSigningKey(): Promise<void> {
    const next = await generateVendorSigningKey();
    retiredKey = signingKey;
    signingKey = next;
    publish();
  }

  // async so that a bad option is a rejected promise, like every other failure of this call.
  async function issueToken(request: { ttlSeconds?: number; subject?: string; now?: number } = {}): Promise<string> {
    const ttlSeconds =
      request.ttlSeconds === undefined ? config.ttlSeconds : checkTtl('issueToken', request.ttlSeconds);
    const subject =
      request.subject === undefined ? config.accessId : checkNonEmpty('issueToken', 'subject', request.subject);
    const now = request.now === undefined ? config.now() : request.now;
    if (typeof now !== 'number' || !Number.isFinite(now)) {
      throw new TypeError('issueToken: now must be a finite number of ms since epoch');
    }
    return signEmbedToken(signingKey, { subject, ttlSeconds, now });
  }

  async function exchangeAccessKey(request: Request): Promise<Response> {
    if (request.method !== 'POST') {
      return errorResponse(405, 'method_not_allowed', 'Use POST', { Allow: 'POST' });
    }
    const body = await readBodyWithin(request, MAX_TOKEN_REQUEST_BYTES);
    if (body === TOO_LARGE) {
      return errorResponse(413, 'payload_too_large', `Request body must be at most ${MAX_TOKEN_REQUEST_BYTES} bytes`);
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(body ?? '');
    } catch {
      // Never the parser's own message: V8 quotes the input in it, and the input holds the access key.
      return errorResponse(400, 'bad_request', 'Request body must be JSON');
    }
    if (!isRecord(parsed) || typeof parsed.accessId !== 'string' || typeof parsed.accessKey !== 'string') {
      return errorResponse(400, 'bad_request', 'Request body must be {"accessId": string, "accessKey": string}');
    }
    if (!credentialsMatch(parsed.accessId, parsed.accessKey)) {
      // One answer for a wrong id and a wrong key, so the endpoint cannot be used to discover valid ids.
      return errorResponse(401, 'invalid_credentials', 'Invalid access credentials');
    }
    const embedToken = await signEmbedToken(signingKey, {
      subject: parsed.accessId,
      ttlSeconds: config.ttlSeconds,
      now: config.now(),
    });
    return jsonResponse(200, { data: { embedToken } });
  }

  /**
   * Qrvey's shape of the same exchange ("Generate Token"): the customer's private key in `x-api-key`, the user and the
   * application in the body, `{token}` back. Signed by the same key, for the same lifetime, as the access-key tokens.
   */
  async function exchangeApiKey(request: Request): Promise<Response> {
    if (request.method !== 'POST') {
      return errorResponse(405, 'method_not_allowed', 'Use POST', { Allow: 'POST' });
    }
    // The key first: the credential is in a header, so an unauthenticated caller gets nothing read from its body.
    if (!apiKeyMatches(request.headers.get('x-api-key'))) {
      await request.body?.cancel().catch(() => {});
      // Never the key that was sent, nor a hint of how close it was.
      return errorResponse(401, 'invalid_api_key', 'Invalid API key');
    }
    const body = await readBodyWithin(request, MAX_TOKEN_REQUEST_BYTES);
    if (body === TOO_LARGE) {
      return errorResponse(413, 'payload_too_large', `Request body must be at most ${MAX_TOKEN_REQUEST_BYTES} bytes`);
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(body ?? '');
    } catch {
      return errorResponse(400, 'bad_request', 'Request body must be JSON');
    }
    if (!isRecord(parsed) || !isId(parsed.userId) || !isId(parsed.appId)) {
      return errorResponse(
        400,
        'bad_request',
        `Request body must be {"userId": string, "appId": string}, each 1 to ${MAX_ID_LENGTH} characters`,
      );
    }
    const token = await signEmbedToken(signingKey, {
      subject: parsed.userId,
      appId: parsed.appId,
      ttlSeconds: config.ttlSeconds,
      now: config.now(),
    });
    return jsonResponse(200, { token });
  }

  function serveJwks(request: Request): Response {
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      return errorResponse(405, 'method_not_allowed', 'Use GET', { Allow: 'GET, HEAD' });
    }
    return withoutBodyForHead(
      request,
      new Response(jwksBody, {
        status: 200,
        headers: {
          'Content-Type': JSON_CONTENT_TYPE,
          // The widget fetches the key set from the host page's origin.
          ...OPEN_CORS,
          // Short enough that a rotated key reaches browsers within minutes; jose refetches on an unknown kid anyway.
          'Cache-Control': 'public, max-age=300',
          'X-Content-Type-Options': 'nosniff',
        },
      }),
    );
  }

  function serveScript(bundle: () => Promise<string>): (request: Request) => Promise<Response> {
    return async (request) => {
      if (request.method !== 'GET' && request.method !== 'HEAD') {
        return errorResponse(405, 'method_not_allowed', 'Use GET', { Allow: 'GET, HEAD' });
      }
      const script = await bundle();
      const etag = `"${createHash('sha256').update(script).digest('base64url')}"`;
      const headers = {
        'Content-Type': JAVASCRIPT_CONTENT_TYPE,
        // CORS lets the host load the script with crossorigin="anonymous", which Subresource Integrity requires.
        ...OPEN_CORS,
        // Revalidate every time (cheap with the ETag) so a rebuilt widget is never hidden behind a stale copy.
        'Cache-Control': 'no-cache',
        ETag: etag,
        'X-Content-Type-Options': 'nosniff',
      };
      if (request.headers.get('If-None-Match') === etag) return new Response(null, { status: 304, headers });
      return withoutBodyForHead(request, new Response(script, { status: 200, headers }));
    };
  }

  /** Host origins that may frame the vendor's pages and talk to them. */
  function hostOriginsFor(request: Request): readonly string[] {
    // The demo's host page is localhost on the port the vendor answers on (127.0.0.1): two origins, one server.
    return config.allowedHostOrigins ?? [new URL(`http://localhost:${new URL(request.url).port}`).origin];
  }

  function servePage(html: (allowedOrigins: readonly string[]) => string): (request: Request) => Response {
    return (request) => {
      if (request.method !== 'GET' && request.method !== 'HEAD') {
        return errorResponse(405, 'method_not_allowed', 'Use GET', { Allow: 'GET, HEAD' });
      }
      const allowedOrigins = hostOriginsFor(request);
      return withoutBodyForHead(
        request,
        new Response(html(allowedOrigins), {
          status: 200,
          headers: {
            'Content-Type': HTML_CONTENT_TYPE,
            // The config is per request (the default origin follows the port): never served from a cache.
            'Cache-Control': 'no-store',
            'Content-Security-Policy': framePagePolicy(allowedOrigins),
            'X-Content-Type-Options': 'nosniff',
          },
        }),
      );
    };
  }

  async function serveWidgetData(request: Request): Promise<Response> {
    if (request.method === 'OPTIONS') {
      return new Response(null, {
        status: 204,
        headers: {
          ...OPEN_CORS,
          'Access-Control-Allow-Headers': allowedDataHeaders(request.headers.get('Access-Control-Request-Headers')),
          'Access-Control-Allow-Methods': 'GET',
          'Access-Control-Max-Age': '600',
          // The answer depends on which headers were asked for: a cache must not hand one preflight's to another.
          Vary: 'Access-Control-Request-Headers',
        },
      });
    }
    if (request.method !== 'GET') {
      return errorResponse(405, 'method_not_allowed', 'Use GET', { Allow: 'GET, OPTIONS', ...OPEN_CORS });
    }
    const authorization = request.headers.get('Authorization');
    const apiKey = request.headers.get('x-api-key');
    // A token wins over a dev key, as it does in the host's element: dev mode is what is left without one.
    if (authorization === null && apiKey !== null) {
      if (!devKeyMatches(apiKey)) return errorResponse(401, 'invalid_api_key', 'Invalid API key', OPEN_CORS);
      return jsonResponse(200, { credential: 'dev-key' }, OPEN_CORS);
    }
    const token = bearerToken(authorization);
    if (token === null) {
      return tokenRejected('token_invalid', 'A Bearer token is required');
    }
    try {
      const claims = await verifyEmbedToken(token, publishedKeys, { now: config.now() });
      const { subject, issuedAt, expiresAt, appId } = claims;
      const answer = appId === null ? { subject, issuedAt, expiresAt } : { subject, issuedAt, expiresAt, appId };
      // Date tells a widget on another origin how far `expiresAt` is by the vendor's clock, whatever its own says.
      return jsonResponse(200, answer, { ...OPEN_CORS, 'Access-Control-Expose-Headers': 'Date' });
    } catch (error) {
      // Every failure but expiry (signature, claims, malformed, unknown kid) is one generic answer: the detail helps only
      // an attacker. Anything that is not a verdict on the token is our own failure, a 500 from handle().
      if (!(error instanceof EmbedTokenRejectedError)) throw error;
      return tokenRejected(error.code, error.message);
    }
  }

  const routes = new Map<string, (request: Request) => Response | Promise<Response>>([
    ['/api/widget-access-keys/token', exchangeAccessKey],
    ['/qrvey/token', exchangeApiKey],
    ['/.well-known/jwks.json', serveJwks],
    ['/widget.js', serveScript(widgetBundle)],
    ['/config-widget.js', serveScript(configWidgetBundle)],
    ['/frame.html', servePage(framePageHtml)],
    ['/frame.js', serveScript(framePageBundle)],
    // The "expire now" support hook's relay (debug-hook.ts): hosts that may frame frame.html may frame this one.
    ['/debug.html', servePage(debugPageHtml)],
    ['/debug.js', serveScript(debugPageBundle)],
    ['/api/widget-data', serveWidgetData],
  ]);

  async function handle(request: Request): Promise<Response | null> {
    try {
      const { pathname } = new URL(request.url);
      if (pathname !== config.basePath && !pathname.startsWith(`${config.basePath}/`)) return null;
      const route = routes.get(pathname.slice(config.basePath.length));
      if (!route) return errorResponse(404, 'not_found', 'Not found');
      return await route(request);
    } catch (error) {
      // Only the error's own text is logged, never the request: its body may hold an access key or a token.
      console.error('[reference-vendor] request failed:', error instanceof Error ? error.message : String(error));
      return errorResponse(500, 'internal_error', 'Internal server error');
    }
  }

  return {
    handle,
    issueToken,
    rotateSigningKey,
    devKey: config.devKey,
    issuer: VENDOR_ISSUER,
    audience: VENDOR_AUDIENCE,
  };
}

const CONTEXT = 'createReferenceVendor';

interface VendorConfig {
  accessId: string;
  accessKey: string;
  apiKey: string | undefined;
  devKey: string;
  ttlSeconds: number;
  basePath: string;
  now: () => number;
  allowedHostOrigins: readonly string[] | undefined;
  signingKeyPair: CryptoKeyPair | undefined;
}

function checkOptions(options: ReferenceVendorOptions): VendorConfig {
  if (!isRecord(options)) throw new TypeError(`${CONTEXT}: options must be an object`);
  const accessId = checkNonEmpty(CONTEXT, 'accessId', options.accessId);
  // The message names the option only: a key's value must never reach an error, and so a log.
  const accessKey = checkNonEmpty(CONTEXT, 'accessKey', options.accessKey);
  const apiKey = options.apiKey === undefined ? undefined : checkNonEmpty(CONTEXT, 'apiKey', options.apiKey);
  // A private key shaped like a publishable one would be handed to browsers without a second thought.
  if (apiKey?.startsWith('pk_')) {
    throw new TypeError(`${CONTEXT}: apiKey is the private server-to-server key; it must not look publishable (pk_…)`);
  }
  const devKey = options.devKey === undefined ? `pk_test_${randomBytes(18).toString('base64url')}` : options.devKey;
  if (typeof devKey !== 'string' || !PUBLISHABLE_KEY.test(devKey) || /secret/i.test(devKey)) {
    throw new TypeError(`${CONTEXT}: devKey must be a publishable key: pk_ and 8 to 256 letters, digits, _ or -`);
  }
  if (devKey === apiKey) throw new TypeError(`${CONTEXT}: devKey must differ from apiKey`);
  const ttlSeconds = options.ttlSeconds === undefined ? DEFAULT_TTL_SECONDS : checkTtl(CONTEXT, options.ttlSeconds);
  const basePath = checkBasePath(options.basePath === undefined ? DEFAULT_BASE_PATH : options.basePath);
  const now = options.now === undefined ? Date.now : options.now;
  if (typeof now !== 'function') throw new TypeError(`${CONTEXT}: now must be a function returning ms since epoch`);
  const allowedHostOrigins =
    options.allowedHostOrigins === undefined ? undefined : checkHostOrigins(options.allowedHostOrigins);
  if (options.signingKeyPair !== undefined && !isVendorKeyPair(options.signingKeyPair)) {
    throw new TypeError(
      `${CONTEXT}: signingKeyPair must be an ES256 (ECDSA P-256) CryptoKeyPair whose private key can sign`,
    );
  }
  return {
    accessId,
    accessKey,
    apiKey,
    devKey,
    ttlSeconds,
    basePath,
    now,
    allowedHostOrigins,
    signingKeyPair: options.signingKeyPair,
  };
}

function checkHostOrigins(value: unknown): readonly string[] {
  if (!Array.isArray(value) || value.length === 0) {
    throw new TypeError(
      `${CONTEXT}: allowedHostOrigins must be a non-empty array of origins like "https://shop.example"`,
    );
  }
  value.forEach((origin: unknown, index) => {
    if (!isWebPageOrigin(origin)) {
      throw new TypeError(
        `${CONTEXT}: allowedHostOrigins[${index}] must be an origin like "https://shop.example" (scheme, host and ` +
          `port only; never "*" or "null")`,
      );
    }
  });
  // A copy: the caller changing its array later must not widen who may frame the page.
  return Object.freeze([...(value as string[])]);
}

/**
 * The iframe page: a config the script reads (which host origins may connect) and the script itself, by a relative URL
 * so the page works wherever the vendor is mounted. Kept free of inline script so a strict CSP can apply to it.
 */
function framePageHtml(allowedOrigins: readonly string[]): string {
  const config = jsonForScriptElement({ allowedOrigins });
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Reference vendor widget</title>
<script type="application/json" id="vendor-config">${config}</script>
<script type="module" src="frame.js"></script>
<style>body{margin:0}</style>
</head>
<body>
<main id="vendor-widget"></main>
</body>
</html>
`;
}

/** The relay page of the "expire now" hook: no content, only the config (who may ask) and its script. */
function debugPageHtml(allowedOrigins: readonly string[]): string {
  const config = jsonForScriptElement({ allowedOrigins });
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Reference vendor: support hook</title>
<script type="application/json" id="vendor-config">${config}</script>
<script type="module" src="debug.js"></script>
</head>
<body></body>
</html>
`;
}

/**
 * frame-ancestors is the vendor's say over who may embed its pages (the browser refuses to render them anywhere else);
 * the rest keeps each page to its own script, since the widget page is handed live tokens.
 */
function framePagePolicy(allowedOrigins: readonly string[]): string {
  return [
    `frame-ancestors ${allowedOrigins.join(' ')}`,
    "script-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
  ].join('; ');
}

/** JSON that cannot end the script element it sits in (`</script>`) or start a comment (`<!--`) there. */
function jsonForScriptElement(value: unknown): string {
  return JSON.stringify(value)
    .replace(/</g, '\\u003c')
    .replace(/>/g, '\\u003e')
    .replace(/&/g, '\\u0026')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');
}

function checkNonEmpty(context: string, name: string, value: unknown): string {
  if (typeof value !== 'string' || value.length === 0) {
    throw new TypeError(`${context}: ${name} must be a non-empty string`);
  }
  return value;
}

function checkTtl(context: string, value: unknown): number {
  // Whole seconds: exp is a NumericDate, and iat + ttl must land on the second the caller asked for.
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value <= 0) {
    throw new TypeError(`${context}: ttlSeconds must be a positive whole number of seconds`);
  }
  return value;
}

function checkBasePath(value: unknown): string {
  if (typeof value !== 'string' || !value.startsWith('/') || /[?#]/.test(value)) {
    throw new TypeError(`${CONTEXT}: basePath must be a path starting with "/"`);
  }
  // '/vendor/' and '/vendor' mount the same place; '/' mounts at the root.
  return value.replace(/\/+$/, '');
}

const TOO_LARGE = Symbol('too large');

/** The body as text, or TOO_LARGE as soon as it passes `limit` bytes: a missing Content-Length must not bypass the cap. */
async function readBodyWithin(request: Request, limit: number): Promise<string | null | typeof TOO_LARGE> {
  const declared = request.headers.get('Content-Length');
  if (declared !== null && Number(declared) > limit) return TOO_LARGE;
  if (!request.body) return null;
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      await reader.cancel();
      return TOO_LARGE;
    }
    chunks.push(value);
  }
  const bytes = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    // Invalid UTF-8 is as malformed as invalid JSON; '' makes the caller answer 400.
    return '';
  }
}

/**
 * The data API's two credential headers, or those of them a preflight asks for: a page sends one or the other, and
 * the answer names no header the page did not ask about.
 */
function allowedDataHeaders(requested: string | null): string {
  const allowed = ['authorization', 'x-api-key'];
  const asked = new Set((requested ?? '').split(',').map((name) => name.trim().toLowerCase()));
  const granted = allowed.filter((name) => asked.has(name));
  return (granted.length > 0 ? granted : allowed).join(', ');
}

function isId(value: unknown): value is string {
  return typeof value === 'string' && value.trim().length > 0 && value.length <= MAX_ID_LENGTH;
}

function bearerToken(header: string | null): string | null {
  const match = header === null ? null : /^Bearer +([A-Za-z0-9\-._~+/]+=*) *$/i.exec(header);
  return match?.[1] ?? null;
}

function tokenRejected(code: 'token_expired' | 'token_invalid', message: string): Response {
  return errorResponse(401, code, message, { ...OPEN_CORS, 'WWW-Authenticate': 'Bearer error="invalid_token"' });
}

function errorResponse(
  status: number,
  code: ErrorCode,
  message: string,
  headers: Record<string, string> = {},
): Response {
  return jsonResponse(status, { error: { code, message } }, headers);
}

function jsonResponse(status: number, body: unknown, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: {
      'Content-Type': JSON_CONTENT_TYPE,
      // Tokens and credential answers must never be stored by a browser or a shared cache.
      'Cache-Control': 'no-store',
      'X-Content-Type-Options': 'nosniff',
      ...headers,
    },
  });
}

function withoutBodyForHead(request: Request, response: Response): Response {
  return request.method === 'HEAD'
    ? new Response(null, { status: response.status, headers: response.headers })
    : response;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
