/**
 * The PHP example (demo/examples/php) against docs/endpoint.md: `php -S … router.php` started on free ports with its
 * environment pointing at the reference vendor (or at a fake one that fails in a chosen way), asked over HTTP, and its
 * page loaded in Chromium. Skipped when `php` is not on PATH (CI installs php-cli). The browser part needs
 * dist/secure-widget.classic.js (`npm run build`).
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer as createHttpServer } from 'node:http';
import type { IncomingMessage, RequestListener, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { decodeJwt } from 'jose';
import puppeteer from 'puppeteer-core';
import type { Browser } from 'puppeteer-core';
import { createReferenceVendor } from '../../demo/vendor/index.js';
import type { ReferenceVendor } from '../../demo/vendor/index.js';
import { toNodeListener } from '../../src/server/index.js';
import { chromiumArgs, chromiumPath } from '../support/chromium.mjs';
import { waitForVendorCard } from '../support/vendor-card.js';
import { killAll, phpMissing, startPhp, type PhpServer } from '../support/php-server.js';

const EXAMPLE_DIR = fileURLToPath(new URL('../../demo/examples/php/', import.meta.url));
const CLASSIC_BUNDLE = fileURLToPath(new URL('../../dist/secure-widget.classic.js', import.meta.url));
const TOKEN_ENDPOINT = '/api/widget-token';
const TOKEN_API_PATH = '/vendor/api/widget-access-keys/token';
const CREDENTIALS = { accessId: 'php-example-host', accessKey: `php-example-key-${randomBytes(16).toString('hex')}` };
const TTL_SECONDS = 60;
const VENDOR_TIMEOUT_MS = 300;
// What the fake vendor puts in its failing answers: it must never come back out of the endpoint.
const VENDOR_BODY_MARKER = 'vendor-internal-detail-7f3a';
const READY_TIMEOUT_MS = 8_000;
const JWT = /^[\w-]+\.[\w-]+\.[\w-]+$/;

if (phpMissing) console.log('# example-php: skipped, `php` is not on PATH (apt-get install php-cli)');

describe('the PHP example endpoint', { skip: phpMissing && 'php is not on PATH', timeout: 20_000 }, () => {
  let vendor: ReferenceVendor;
  let vendorUrl: string;
  let vendorTokenCalls = 0;
  const php = new Map<string, PhpServer>();
  const httpServers: Server[] = [];
  let browser: Browser | undefined;
  let userDataDir: string | undefined;

  /** A node:http server on 127.0.0.1 and a free port, closed (open connections cut) in after(). */
  async function listen(listener: RequestListener): Promise<string> {
    const server = createHttpServer(listener);
    httpServers.push(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }

  before(async () => {
    vendor = await createReferenceVendor({ ...CREDENTIALS, ttlSeconds: TTL_SECONDS });
    const vendorListener = toNodeListener(vendor.handle);
    vendorUrl = await listen((req, res) => {
      if (req.url === TOKEN_API_PATH) vendorTokenCalls += 1;
      vendorListener(req, res, () => {
        res.statusCode = 404;
        res.end();
      });
    });
    const fakeUrl = await listen(fakeVendor(`${vendorUrl}${TOKEN_API_PATH}`));

    const base = { WIDGET_ACCESS_ID: CREDENTIALS.accessId, WIDGET_ACCESS_KEY: CREDENTIALS.accessKey };
    const real = { ...base, WIDGET_VENDOR_TOKEN_URL: `${vendorUrl}${TOKEN_API_PATH}` };
    const signedIn = { WIDGET_DEMO_USER: 'php-visitor' };
    const fake = (path: string) => ({ ...base, ...signedIn, WIDGET_VENDOR_TOKEN_URL: `${fakeUrl}${path}` });
    const configs: Record<string, Record<string, string>> = {
      real: { ...real, ...signedIn, WIDGET_BUNDLE_URL: `${vendorUrl}/vendor/widget.js` },
      signedOut: real,
      junk: fake('/junk'),
      failing: fake('/fail'),
      redirecting: fake('/redirect'),
      oversized: fake('/oversized'),
      hanging: { ...fake('/hang'), WIDGET_VENDOR_TIMEOUT_MS: String(VENDOR_TIMEOUT_MS) },
    };
    const started = await Promise.all(
      Object.entries(configs).map(async ([name, env]) => [
        name,
        await startPhp(['router.php'], { cwd: EXAMPLE_DIR, env }),
      ]),
    );
    for (const [name, server] of started) php.set(name as string, server as PhpServer);
  });

  after(async () => {
    const pid = browser?.process()?.pid;
    const closed = browser?.close().catch(() => {});
    await Promise.race([closed, new Promise((resolve) => setTimeout(resolve, 5_000).unref())]);
    killAll([pid, ...[...php.values()].map((server) => server.child.pid)]);
    for (const server of httpServers) server.closeAllConnections();
    await Promise.all(httpServers.map((server) => new Promise((resolve) => server.close(resolve))));
    if (userDataDir) rmSync(userDataDir, { recursive: true, force: true });
  });

  const ask = (name: string, init: RequestInit = {}) => fetch(new URL(TOKEN_ENDPOINT, php.get(name)!.url), init);

  /** The headers docs/endpoint.md requires on every answer, errors included. */
  function assertEndpointHeaders(response: Response): void {
    assert.equal(response.headers.get('Cache-Control'), 'no-store');
    assert.equal(response.headers.get('Content-Type'), 'application/json; charset=utf-8');
    assert.equal(response.headers.get('X-Content-Type-Options'), 'nosniff');
    assert.equal(response.headers.get('Access-Control-Allow-Origin'), null);
    const date = Date.parse(response.headers.get('Date') ?? '');
    assert.ok(Math.abs(date - Date.now()) < 5_000, 'one Date header, from the server clock');
  }

  async function assertError(response: Response, status: number, code: string, message: string): Promise<void> {
    assert.equal(response.status, status);
    assertEndpointHeaders(response);
    const text = await response.text();
    assert.equal(text, JSON.stringify({ error: { code, message } }), 'the error body secure-widget/server writes');
    assert.ok(!text.includes(CREDENTIALS.accessKey) && !text.includes(VENDOR_BODY_MARKER));
  }

  it('answers a signed-in GET with a token the vendor verifies, and its expiry', async () => {
    const response = await ask('real', { headers: { Accept: 'application/json, text/plain;q=0.9' } });
    assert.equal(response.status, 200);
    assertEndpointHeaders(response);
    const text = await response.text();
    assert.ok(!text.includes(CREDENTIALS.accessKey), 'the access key never leaves the server');
    const body = JSON.parse(text) as { embedToken: string; expiresAt: number };
    assert.deepEqual(Object.keys(body), ['embedToken', 'expiresAt']);
    assert.match(body.embedToken, JWT);
    const { exp, iat, sub } = decodeJwt(body.embedToken);
    assert.equal(body.expiresAt, exp, 'expiresAt is the JWT exp, in epoch seconds');
    assert.equal(exp! - iat!, TTL_SECONDS);
    const remaining = exp! - Date.parse(response.headers.get('Date')!) / 1000;
    assert.ok(remaining > TTL_SECONDS - 5 && remaining <= TTL_SECONDS + 1, `exp − Date is its life: ${remaining}`);

    const headers = { Authorization: `Bearer ${body.embedToken}` };
    const verdict = await vendor.handle(new Request('http://127.0.0.1/vendor/api/widget-data', { headers }));
    assert.equal(verdict?.status, 200, 'the reference vendor accepts the token');
    assert.equal(((await verdict!.json()) as { subject: string }).subject, sub);
  });

  it('refuses cross-site requests with 403 before the vendor is called, and lets its own origin through', async () => {
    const calls = vendorTokenCalls;
    const foreign: Record<string, string>[] = [
      { 'Sec-Fetch-Site': 'cross-site' },
      { 'Sec-Fetch-Site': 'cross-site', Origin: php.get('real')!.url },
      { 'Sec-Fetch-Site': 'same-site', Origin: 'https://user-content.example' },
      { Origin: 'https://evil.example' },
    ];
    for (const headers of foreign) {
      const response = await ask('real', { headers });
      await assertError(response, 403, 'cross-site', 'Token requests from other sites are refused.');
    }
    assert.equal(vendorTokenCalls, calls, 'no vendor call for a refused request');

    const own: Record<string, string>[] = [{ 'Sec-Fetch-Site': 'same-origin' }, { Origin: php.get('real')!.url }];
    for (const headers of own) {
      const response = await ask('real', { headers });
      assert.equal(response.status, 200, JSON.stringify(headers));
      await response.body?.cancel();
    }
  });

  it('answers 405 with Allow for a method other than GET or POST', async () => {
    const response = await ask('real', { method: 'DELETE' });
    assert.equal(response.headers.get('Allow'), 'GET, POST');
    await assertError(response, 405, 'method-not-allowed', 'Use GET or POST.');
  });

  it('answers 401 without a session, and never calls the vendor', async () => {
    const calls = vendorTokenCalls;
    await assertError(await ask('signedOut'), 401, 'unauthorized', 'Sign in to load this widget.');
    assert.equal(vendorTokenCalls, calls);
  });

  it('answers 502 when the vendor fails, redirects or answers junk, without echoing its body', async () => {
    const calls = vendorTokenCalls;
    for (const name of ['junk', 'failing', 'redirecting', 'oversized']) {
      await assertError(await ask(name), 502, 'vendor-failed', 'The widget vendor could not issue a token.');
    }
    assert.equal(vendorTokenCalls, calls, 'the vendor redirect was not followed: the key went nowhere else');
    const log = ['junk', 'failing', 'redirecting', 'oversized'].map((name) => php.get(name)!.log()).join('\n');
    assert.match(log, /token request failed: vendor-failed \(vendor status 500\)/);
    assert.match(log, /token request failed: vendor-failed \(vendor status 302\)/);
    assert.match(log, /token request failed: vendor-response \(vendor status 200\)/);
    assert.ok(!log.includes(CREDENTIALS.accessKey) && !log.includes(VENDOR_BODY_MARKER), 'no key or body in the log');
  });

  it('answers 504 on time when the vendor hangs', async () => {
    const started = Date.now();
    await assertError(await ask('hanging'), 504, 'vendor-timeout', 'The widget vendor did not answer in time.');
    const took = Date.now() - started;
    assert.ok(took >= VENDOR_TIMEOUT_MS - 50 && took < VENDOR_TIMEOUT_MS + 1_500, `answered after ${took} ms`);
  });

  it("brings the PHP-served page's widget to ready in Chromium with the reference vendor's bundle", async (t) => {
    if (!existsSync(CLASSIC_BUNDLE)) {
      t.skip('dist/secure-widget.classic.js is missing: run `npm run build`');
      return;
    }
    userDataDir = mkdtempSync(join(tmpdir(), 'secure-widget-php-example-'));
    browser = await puppeteer.launch({ executablePath: chromiumPath, headless: true, args: chromiumArgs, userDataDir });
    const page = await browser.newPage();
    let tokenRequests = 0;
    page.on('request', (request) => {
      if (new URL(request.url()).pathname === TOKEN_ENDPOINT) tokenRequests += 1;
    });
    await page.goto(php.get('real')!.url, { waitUntil: 'load' });
    await waitForVendorCard(page, 'verified by the vendor', READY_TIMEOUT_MS);
    assert.equal(tokenRequests, 1, 'one request to the PHP endpoint');
    const html = await page.content();
    assert.ok(!html.includes(CREDENTIALS.accessKey), 'the access key never reaches the page');
    assert.equal(await page.$eval('#status', (element) => element.textContent), 'ready');
    await page.close();
  });
});

/** A vendor that fails in the way its path names; its bodies carry VENDOR_BODY_MARKER. */
function fakeVendor(realTokenApi: string) {
  return (req: IncomingMessage, res: ServerResponse) => {
    req.resume();
    switch (req.url) {
      case '/junk':
        res.writeHead(200, { 'Content-Type': 'text/html' }).end(`<html>${VENDOR_BODY_MARKER}</html>`);
        return;
      case '/fail':
        res.writeHead(500, { 'Content-Type': 'application/json' });
        res.end(JSON.stringify({ error: { message: VENDOR_BODY_MARKER } }));
        return;
      case '/redirect':
        // To the real token API: a client that followed it would POST the access key there and get a token.
        res.writeHead(302, { Location: realTokenApi }).end();
        return;
      case '/oversized':
        res.writeHead(200, { 'Content-Type': 'application/json' });
        res.end(JSON.stringify({ data: { embedToken: `${VENDOR_BODY_MARKER}.${'a'.repeat(30_000)}.b` } }));
        return;
      case '/hang':
        return; // Never answers; after() cuts the connection.
      default:
        res.writeHead(404).end();
    }
  };
}
