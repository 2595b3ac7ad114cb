/**
 * An Express host that embeds the reference vendor's widget in the two ways a real host does (docs/examples.md):
 *
 * - `GET /`: a server-rendered page. The route asks the token handler for this user's token in-process and EJS prints
 *   it into `embed-token="…"`, so the browser makes no token request at load.
 * - `GET /spa`: the same page without a token, as a single-page app gets it: the widget asks `/api/widget-token`.
 * - `GET /api/widget-token`: the token endpoint (`createTokenHandler` behind `toNodeListener`), which both pages use
 *   for renewals and the SPA for its first token.
 *
 * The reference vendor is mounted on the same server at `/vendor`, reached at 127.0.0.1 while the page is opened at
 * localhost: two origins, as in production (docs/design.md, "The three sides").
 *
 * Run: `npm run example:express` (builds dist/, then listens on PORT, default 3000).
 */
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { createServer } from 'node:http';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import express from 'express';
import type { NextFunction, Request as ExpressRequest, Response as ExpressResponse } from 'express';
import { accessKeyExchange, createTokenHandler, toNodeListener } from '../../../src/server/index.js';
import { demoCredentials, type DemoCredentials } from '../../credentials.js';
import { askTokenHandler } from '../../server-rendered-token.js';
import { createReferenceVendor } from '../../vendor/index.js';

export const TOKEN_ENDPOINT = '/api/widget-token';
const DIST_DIR = fileURLToPath(new URL('../../../dist/', import.meta.url));
const VIEWS_DIR = fileURLToPath(new URL('./views/', import.meta.url));
const PUBLIC_DIR = fileURLToPath(new URL('./public/', import.meta.url));
// The server binds 127.0.0.1, which answers both origins: the page at localhost and the vendor at 127.0.0.1.
const BIND_ADDRESS = '127.0.0.1';
// A page render must not hang on a slow vendor: after this the page goes out without a token and the widget asks.
const RENDER_TIMEOUT_MS = 5_000;
// Keep-alive connections still open this long after close() are cut.
const CLOSE_GRACE_MS = 2_000;
const SESSION_COOKIE = 'sid';
const SESSION_ID = /^[\w-]{32}$/;
// An in-memory store for a demo; a bound keeps a flood of cookie-less requests from growing it without end.
const MAX_SESSIONS = 10_000;

export interface ExampleServerOptions {
  /** Default 3000; 0 picks a free port. */
  port?: number;
  /** The host's access id and key (the vendor of this process is told the same pair). Default: demoCredentials(). */
  credentials?: DemoCredentials;
  /** Lifetime of the vendor's tokens, short so that a renewal through the endpoint shows within a minute. */
  ttlSeconds?: number;
  /** Where the server's log lines go (never a token or a key). Default console.log. */
  log?: (line: string) => void;
}

export interface ExampleServer {
  /** The host page's origin, `http://localhost:PORT`. */
  readonly url: string;
  /** The vendor's origin, `http://127.0.0.1:PORT`. */
  readonly vendorOrigin: string;
  /** Stops accepting connections and resolves once the open ones are done (cut after 2 s). */
  close(): Promise<void>;
}

interface DemoUser {
  id: string;
}

export async function startExampleServer(options: ExampleServerOptions = {}): Promise<ExampleServer> {
  if (!existsSync(resolve(DIST_DIR, 'secure-widget.js'))) {
    throw new Error('dist/secure-widget.js is missing: run `npm run build` first (`npm run example:express` does).');
  }
  const log = options.log ?? ((line: string) => console.log(line));
  const credentials = options.credentials ?? demoCredentials();
  const vendor = await createReferenceVendor({ ...credentials, ttlSeconds: options.ttlSeconds ?? 60 });

  // The vendor's token API URL holds the port, which is known once the server listens; no request is read before
  // the app is attached below (the 'listening' callback runs before any connection is handled).
  const server = createServer();
  server.listen(options.port ?? 3000, BIND_ADDRESS);
  await once(server, 'listening');
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('the server has no TCP address');
  const url = `http://localhost:${address.port}`;
  const vendorOrigin = `http://${BIND_ADDRESS}:${address.port}`;

  const sessions = createSessions();
  const tokenHandler = createTokenHandler({
    // The host's own session: the sid cookie names a signed-in user, or there is none (401, the vendor is not called).
    authorize: (request) => sessions.user(readCookie(request.headers.get('cookie'), SESSION_COOKIE)),
    issue: accessKeyExchange({ url: `${vendorOrigin}/vendor/api/widget-access-keys/token`, ...credentials }),
    logger: { warn: log },
  });

  const app = express();
  app.disable('x-powered-by');
  app.set('views', VIEWS_DIR);
  app.set('view engine', 'ejs');

  app.use('/vendor', toNodeListener(vendor.handle));
  app.get(TOKEN_ENDPOINT, toNodeListener(tokenHandler));
  app.use('/dist', express.static(DIST_DIR, { index: false }));
  app.use('/static', express.static(PUBLIC_DIR, { index: false }));

  /** Every visitor is signed in as a new demo user on first visit: the stand-in for a host's real login. */
  const signedIn = (req: ExpressRequest, res: ExpressResponse, next: NextFunction): void => {
    let sid = readCookie(req.get('cookie'), SESSION_COOKIE);
    let user = sessions.user(sid);
    if (!sid || !user) {
      ({ sid, user } = sessions.signIn());
      // A real host also sets `secure: true` (HTTPS only); left out here so the example runs on plain http.
      res.cookie(SESSION_COOKIE, sid, { httpOnly: true, sameSite: 'lax', path: '/' });
    }
    res.locals.sid = sid;
    res.locals.user = user;
    // The page names the user, and / carries a live token: no browser or proxy may keep it.
    res.set('Cache-Control', 'no-store');
    next();
  };

  const page = (pattern: 'server-rendered' | 'spa', token: string | null) => ({
    pattern,
    token,
    tokenEndpoint: TOKEN_ENDPOINT,
    bundleUrl: `${vendorOrigin}/vendor/widget.js`,
  });

  app.get('/', signedIn, async (_req, res) => {
    const token = await pageToken(tokenHandler, { origin: url, sid: res.locals.sid as string, log });
    res.render('page', { ...page('server-rendered', token), user: res.locals.user as DemoUser });
  });

  app.get('/spa', signedIn, (_req, res) => {
    res.render('page', { ...page('spa', null), user: res.locals.user as DemoUser });
  });

  // Express's default error page would print the stack; the name is enough here, and says nothing secret.
  app.use((error: unknown, _req: ExpressRequest, res: ExpressResponse, _next: NextFunction) => {
    log(`example: request failed (${error instanceof Error ? error.name : 'error'})`);
    if (!res.headersSent) res.status(500).type('text/plain').send('Internal server error');
  });

  server.on('request', app);

  let closing: Promise<void> | null = null;
  return {
    url,
    vendorOrigin,
    close() {
      closing ??= new Promise<void>((resolveClose, rejectClose) => {
        const force = setTimeout(() => server.closeAllConnections(), CLOSE_GRACE_MS);
        server.close((error) => {
          clearTimeout(force);
          if (error) rejectClose(error);
          else resolveClose();
        });
        server.closeIdleConnections();
      });
      return closing;
    },
  };
}

/**
 * This user's token for the page being rendered, from the same handler the browser calls: asked in-process with a
 * `Request` that carries the user's session cookie, so it goes through the same session check, per-user cache and
 * limits as the endpoint, with no HTTP hop. null (and one log line, without the token) when none can be had: the page
 * then goes out without `embed-token`, and the widget fetches from its `token-endpoint`.
 */
export async function pageToken(
  handler: (request: Request) => Promise<Response>,
  { origin, sid, log }: { origin: string; sid: string; log: (line: string) => void },
): Promise<string | null> {
  const answer = await askTokenHandler(
    handler,
    new Request(new URL(TOKEN_ENDPOINT, origin), {
      headers: { Accept: 'application/json', Cookie: `${SESSION_COOKIE}=${sid}` },
      signal: AbortSignal.timeout(RENDER_TIMEOUT_MS),
    }),
  );
  if ('token' in answer) return answer.token;
  log(`example: no server-rendered token (${answer.failure}); the widget will fetch its own`);
  return null;
}

function createSessions() {
  const users = new Map<string, DemoUser>();
  return {
    user(sid: string | null): DemoUser | null {
      return sid ? (users.get(sid) ?? null) : null;
    },
    signIn(): { sid: string; user: DemoUser } {
      if (users.size >= MAX_SESSIONS) users.delete(users.keys().next().value!);
      const sid = randomBytes(24).toString('base64url');
      const user = { id: `visitor-${randomBytes(3).toString('hex')}` };
      users.set(sid, user);
      return { sid, user };
    },
  };
}

function readCookie(header: string | null | undefined, name: string): string | null {
  for (const part of header?.split(';') ?? []) {
    const [key, value] = part.trim().split('=', 2);
    if (key === name && value !== undefined && SESSION_ID.test(value)) return value;
  }
  return null;
}

async function main(): Promise<void> {
  const port = Number(process.env.PORT ?? 3000);
  if (!Number.isInteger(port) || port < 0 || port > 65_535) throw new Error('PORT must be a port number');
  const server = await startExampleServer({ port, ttlSeconds: Number(process.env.DEMO_TOKEN_TTL) || 60 });
  console.log(
    `\n  secure-widget Express example\n` +
      `  server-rendered token: ${server.url}/\n` +
      `  SPA (token endpoint):  ${server.url}/spa\n` +
      `  vendor:                ${server.vendorOrigin}/vendor/\n`,
  );
  const stop = (signal: NodeJS.Signals) => {
    console.log(`${signal}: closing (again to force)`);
    server.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  // once: a second Ctrl-C gets Node's default, which ends the process at once.
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  });
}
