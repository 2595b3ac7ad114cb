/**
 * The Express example (demo/examples/express) as a visitor meets it: started on a free port, its pages loaded in
 * Chromium. The server-rendered page must bring the widget to ready with no token request at all, and the SPA page with
 * exactly one. Needs dist/secure-widget.js (`npm run build`).
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { decodeJwt } from 'jose';
import puppeteer from 'puppeteer-core';
import type { Browser, Page } from 'puppeteer-core';
import { pageToken, startExampleServer, TOKEN_ENDPOINT } from '../../demo/examples/express/server.js';
import type { ExampleServer } from '../../demo/examples/express/server.js';
import { chromiumArgs, chromiumPath } from '../support/chromium.mjs';
import { waitForVendorCard } from '../support/vendor-card.js';

const DIST_BUNDLE = fileURLToPath(new URL('../../dist/secure-widget.js', import.meta.url));
const READY_TIMEOUT_MS = 8_000;
const CREDENTIALS = { accessId: 'example-host', accessKey: `example-key-${randomBytes(16).toString('hex')}` };
const JWT = /^[\w-]+\.[\w-]+\.[\w-]+$/;

describe('the Express example', { timeout: 30_000 }, () => {
  let server: ExampleServer | undefined;
  let browser: Browser | undefined;
  let userDataDir: string | undefined;
  const logLines: string[] = [];
  const tokensSeen = new Set<string>();

  before(async () => {
    assert.ok(existsSync(DIST_BUNDLE), 'dist/secure-widget.js is missing: run `npm run build` before this test');
    server = await startExampleServer({ port: 0, credentials: CREDENTIALS, log: (line) => logLines.push(line) });
    userDataDir = mkdtempSync(join(tmpdir(), 'secure-widget-example-'));
    browser = await puppeteer.launch({
      executablePath: chromiumPath,
      headless: true,
      args: chromiumArgs,
      userDataDir,
    });
  });

  after(async () => {
    const pid = browser?.process()?.pid;
    // A browser that does not close within 5 s is killed by its PID: the test must never leave one behind.
    const closed = browser?.close().catch(() => {});
    await Promise.race([closed, new Promise((resolve) => setTimeout(resolve, 5_000).unref())]);
    if (pid !== undefined) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // Already gone, as it should be.
      }
    }
    await server?.close();
    if (userDataDir) rmSync(userDataDir, { recursive: true, force: true });
  });

  /** Opens `path` in a new page and counts its requests to the token endpoint, and the token events' sources. */
  async function open(path: string): Promise<{ page: Page; tokenRequests: () => number }> {
    const page = await browser!.newPage();
    let tokenRequests = 0;
    page.on('request', (request) => {
      if (new URL(request.url()).pathname === TOKEN_ENDPOINT) tokenRequests += 1;
    });
    await page.evaluateOnNewDocument(() => {
      const sources: string[] = [];
      Object.assign(window, { tokenSources: sources });
      document.addEventListener('secure-widget-token', (event) => {
        sources.push((event as CustomEvent<{ source: string }>).detail.source);
      });
    });
    await page.goto(new URL(path, server!.url).href, { waitUntil: 'load' });
    return { page, tokenRequests: () => tokenRequests };
  }

  /** Waits for the element to be ready and the vendor's card to show its signed-in user; returns what the DOM says. */
  async function widgetReady(page: Page) {
    await waitForVendorCard(page, 'Signed in as visitor-', READY_TIMEOUT_MS);
    return page.evaluate(() => {
      const widget = document.querySelector('secure-widget')!;
      return {
        hasEmbedTokenAttribute: widget.hasAttribute('embed-token'),
        // The vendor element holds the token (its own embed-token); the host element keeps none in its attributes.
        tokenOnHostElement: [...widget.attributes].some((attribute) => attribute.value.includes('eyJ')),
        sources: (window as unknown as { tokenSources: string[] }).tokenSources,
        card: widget.querySelector('demo-widget')!.textContent,
      };
    });
  }

  it('renders a fresh token into the page, with a session cookie and no secret', async () => {
    const response = await fetch(new URL('/', server!.url));
    assert.equal(response.status, 200);
    assert.equal(response.headers.get('Cache-Control'), 'no-store');
    assert.match(response.headers.get('Set-Cookie') ?? '', /^sid=[\w-]{32}; Path=\/; HttpOnly; SameSite=Lax$/);
    const html = await response.text();
    // The attribute on its own line of the tag (the page's prose also quotes `embed-token="…"`).
    const token = /^\s*embed-token="([^"]*)"$/m.exec(html)?.[1];
    assert.ok(token && JWT.test(token), 'the page carries a JWT in embed-token');
    tokensSeen.add(token);
    assert.ok(decodeJwt(token).exp! * 1000 > Date.now(), 'the rendered token is unexpired');
    assert.ok(html.includes(`bundle-url="${server!.vendorOrigin}/vendor/widget.js"`), 'the vendor is on 127.0.0.1');
    assert.ok(!html.includes(CREDENTIALS.accessKey), 'the access key never reaches the page');
  });

  it('answers the token endpoint for a signed-in session only', async () => {
    const anonymous = await fetch(new URL(TOKEN_ENDPOINT, server!.url));
    assert.equal(anonymous.status, 401);
    await anonymous.body?.cancel();

    const page = await fetch(new URL('/spa', server!.url));
    const cookie = (page.headers.get('Set-Cookie') ?? '').split(';')[0]!;
    assert.doesNotMatch(await page.text(), /^\s*embed-token=/m, 'the SPA page carries no token');

    const signedIn = await fetch(new URL(TOKEN_ENDPOINT, server!.url), { headers: { Cookie: cookie } });
    assert.equal(signedIn.status, 200);
    assert.equal(signedIn.headers.get('Cache-Control'), 'no-store');
    const body = (await signedIn.json()) as { embedToken: string };
    assert.match(body.embedToken, JWT);
    tokensSeen.add(body.embedToken);
  });

  it("refuses a signed-in user's token to another site's request", async () => {
    const page = await fetch(new URL('/spa', server!.url));
    const cookie = (page.headers.get('Set-Cookie') ?? '').split(';')[0]!;
    await page.body?.cancel();
    const foreign: Record<string, string>[] = [{ 'Sec-Fetch-Site': 'cross-site' }, { Origin: 'https://evil.example' }];
    for (const headers of foreign) {
      const response = await fetch(new URL(TOKEN_ENDPOINT, server!.url), { headers: { Cookie: cookie, ...headers } });
      assert.equal(response.status, 403, JSON.stringify(headers));
      const body = (await response.json()) as { error: { code: string }; embedToken?: unknown };
      assert.equal(body.embedToken, undefined);
    }
  });

  it('/ brings the widget to ready in Chromium with zero token requests', async () => {
    const { page, tokenRequests } = await open('/');
    const seen = await widgetReady(page);
    assert.equal(tokenRequests(), 0, 'no request to the token endpoint at load');
    assert.deepEqual(seen.sources, ['markup'], 'the first token came from the page');
    assert.equal(seen.hasEmbedTokenAttribute, false, 'the element removed embed-token once read');
    assert.equal(seen.tokenOnHostElement, false, 'no token left on <secure-widget>');
    assert.match(seen.card ?? '', /Community 42/);
    await page.close();
  });

  it('/spa brings the widget to ready with exactly one token request', async () => {
    const { page, tokenRequests } = await open('/spa');
    const seen = await widgetReady(page);
    assert.equal(tokenRequests(), 1, 'one request to the token endpoint');
    assert.deepEqual(seen.sources, ['endpoint']);
    await page.close();
  });

  it('logs no token and no key when the page renders without a token', async () => {
    const lines: string[] = [];
    const failing = async () => Response.json({ error: { code: 'vendor-failed' } }, { status: 502 });
    const log = (line: string) => lines.push(line);
    const token = await pageToken(failing, { origin: server!.url, sid: 'x'.repeat(32), log });
    assert.equal(token, null);
    assert.deepEqual(lines, [
      'example: no server-rendered token (the handler answered HTTP 502); the widget will fetch its own',
    ]);
    for (const line of logLines) {
      assert.ok(!line.includes(CREDENTIALS.accessKey), `a log line holds the access key: ${line}`);
      for (const seenToken of tokensSeen) assert.ok(!line.includes(seenToken), 'a log line holds a token');
    }
  });
});
