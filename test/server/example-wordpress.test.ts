/**
 * The WordPress example (demo/examples/wordpress) in a real WordPress: Debian's package (`wordpress`, with
 * `mariadb-server` for its database; CI installs both) copied into a temporary folder with the test's wp-config.php,
 * its own MariaDB on a Unix socket, the plugin folder laid out as the example's README says (secure-widget.php,
 * widget-token.php, dist/secure-widget.classic.js), and block.html saved by the administrator as a post's Custom HTML
 * block. `php -S` serves it; Chromium signs in through wp-login.php and opens the post; the reference vendor issues
 * and verifies the token. Skipped when WordPress, MariaDB or PHP is missing.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { decodeJwt } from 'jose';
import puppeteer from 'puppeteer-core';
import type { Browser, Page } from 'puppeteer-core';
import { createReferenceVendor } from '../../demo/vendor/index.js';
import type { ReferenceVendor } from '../../demo/vendor/index.js';
import { toNodeListener } from '../../src/server/index.js';
import { chromiumArgs, chromiumPath } from '../support/chromium.mjs';
import { waitForVendorCard } from '../support/vendor-card.js';
import { freePort, killAll, phpMissing, startPhp, type PhpServer } from '../support/php-server.js';

const repository = (path: string) => fileURLToPath(new URL(`../../${path}`, import.meta.url));
const WORDPRESS = '/usr/share/wordpress';
const SUPPORT = repository('test/support/wordpress');
const CLASSIC_BUNDLE = repository('dist/secure-widget.classic.js');
/** The files of the plugin folder, as demo/examples/wordpress/README.md lists them. */
const PLUGIN_FILES = [
  repository('demo/examples/wordpress/secure-widget.php'),
  repository('demo/examples/php/widget-token.php'),
  CLASSIC_BUNDLE,
];
const BLOCK = repository('demo/examples/wordpress/block.html');
const ENDPOINT = '/wp-admin/admin-ajax.php?action=secure_widget_token';
const TOKEN_API_PATH = '/vendor/api/widget-access-keys/token';
const CREDENTIALS = { accessId: 'wordpress-host', accessKey: `wordpress-key-${randomBytes(16).toString('hex')}` };
const READY_TIMEOUT_MS = 8_000;

const missing = [
  !existsSync(join(WORDPRESS, 'wp-load.php')) && 'wordpress',
  spawnSync('mariadbd', ['--version'], { stdio: 'ignore' }).error && 'mariadb-server',
  phpMissing && 'php-cli',
  !existsSync(CLASSIC_BUNDLE) && 'dist/ (npm run build)',
].filter(Boolean);
if (missing.length) console.log(`# example-wordpress: skipped, missing ${missing.join(', ')}`);

/** Runs `command` to its end; throws with its output when it fails. */
function run(command: string, args: string[], env?: Record<string, string>): string {
  const result = spawnSync(command, args, { env: env && { PATH: process.env.PATH ?? '/usr/bin:/bin', ...env } });
  if (result.status !== 0) throw new Error(`${command} failed: ${result.stderr}${result.stdout}`);
  return result.stdout.toString();
}

const skip = missing.length > 0 && `missing ${missing.join(', ')}`;

describe('the WordPress example in WordPress', { skip, timeout: 60_000 }, () => {
  let folder: string;
  let vendor: ReferenceVendor;
  let vendorServer: Server;
  let vendorTokenCalls = 0;
  let database: ReturnType<typeof spawn> | undefined;
  let wordpress: PhpServer;
  let browser: Browser | undefined;
  let postUrl: string;
  const visitorPassword = randomBytes(12).toString('hex');

  before(async () => {
    folder = mkdtempSync(join(tmpdir(), 'secure-widget-wordpress-'));
    vendor = await createReferenceVendor({ ...CREDENTIALS, ttlSeconds: 60 });
    const vendorListener = toNodeListener(vendor.handle);
    vendorServer = createHttpServer((req, res) => {
      if (req.url === TOKEN_API_PATH) vendorTokenCalls += 1;
      vendorListener(req, res, () => res.writeHead(404).end());
    });
    await new Promise<void>((resolve) => vendorServer.listen(0, '127.0.0.1', resolve));
    const vendorUrl = `http://127.0.0.1:${(vendorServer.address() as AddressInfo).port}`;

    // MariaDB: a data directory and a socket of its own, no TCP port, gone with the folder.
    const socket = join(folder, 'mariadb.sock');
    // As root (CI), MariaDB runs only when told to.
    const asRoot = process.getuid?.() === 0 ? ['--user=root'] : [];
    const dataDir = `--datadir=${join(folder, 'db')}`;
    const authentication = '--auth-root-authentication-method=normal';
    run('mariadb-install-db', ['--no-defaults', dataDir, authentication, '--skip-test-db', ...asRoot]);
    database = spawn(
      'mariadbd',
      [
        '--no-defaults',
        dataDir,
        `--socket=${socket}`,
        `--pid-file=${join(folder, 'mariadb.pid')}`,
        `--log-error=${join(folder, 'mariadb.err')}`,
        '--skip-networking',
        '--skip-log-bin',
        '--innodb-buffer-pool-size=16M',
        ...asRoot,
      ],
      { stdio: 'ignore' },
    );
    const started = Date.now();
    while (!existsSync(socket)) {
      if (Date.now() - started > 10_000) {
        throw new Error(`MariaDB did not start: ${readFileSync(join(folder, 'mariadb.err'), 'utf8')}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    run('mariadb', ['--no-defaults', `--socket=${socket}`, '-u', 'root', '-e', 'CREATE DATABASE wordpress']);

    // WordPress: Debian's files, the test's wp-config.php and theme, the plugin folder of the README.
    const root = join(folder, 'wordpress');
    cpSync(WORDPRESS, root, { recursive: true, verbatimSymlinks: true });
    cpSync(join(SUPPORT, 'wp-config.php'), join(root, 'wp-config.php'));
    cpSync(join(SUPPORT, 'theme'), join(root, 'wp-content/themes/secure-widget-test'), { recursive: true });
    const plugin = join(root, 'wp-content/plugins/secure-widget');
    mkdirSync(plugin, { recursive: true });
    for (const file of PLUGIN_FILES) cpSync(file, join(plugin, file.split('/').at(-1)!));
    // The block as the README gives it, with the reference vendor's bundle in place of the demo's.
    const block = join(folder, 'block.html');
    const markup = readFileSync(BLOCK, 'utf8');
    writeFileSync(block, markup.replace('http://127.0.0.1:5173/vendor/widget.js', `${vendorUrl}/vendor/widget.js`));

    const port = await freePort();
    const site = {
      SW_WP_ROOT: root,
      SW_WP_URL: `http://127.0.0.1:${port}`,
      SW_WP_DB_SOCKET: socket,
      SW_WP_SALT: randomBytes(16).toString('hex'),
    };
    const installed = JSON.parse(
      run('php', [join(SUPPORT, 'setup.php')], {
        ...site,
        SW_WP_BLOCK_FILE: block,
        SW_WP_ADMIN_PASSWORD: randomBytes(12).toString('hex'),
        SW_WP_VISITOR_PASSWORD: visitorPassword,
      }),
    ) as { post: number };
    postUrl = `${site.SW_WP_URL}/?p=${installed.post}`;
    // The secret is in the server's environment only (README, step 2); WIDGET_DEMO_USER is not set: WordPress's login
    // is the user.
    wordpress = await startPhp(['-t', root], {
      cwd: root,
      port,
      env: {
        ...site,
        WIDGET_VENDOR_TOKEN_URL: `${vendorUrl}${TOKEN_API_PATH}`,
        WIDGET_ACCESS_ID: CREDENTIALS.accessId,
        WIDGET_ACCESS_KEY: CREDENTIALS.accessKey,
      },
    });
    browser = await puppeteer.launch({
      executablePath: chromiumPath,
      headless: true,
      args: chromiumArgs,
      userDataDir: join(folder, 'chromium'),
    });
  });

  after(async () => {
    const pid = browser?.process()?.pid;
    const closed = browser?.close().catch(() => {});
    await Promise.race([closed, new Promise((resolve) => setTimeout(resolve, 5_000).unref())]);
    killAll([pid, wordpress?.child.pid, database?.pid]);
    vendorServer?.closeAllConnections();
    await new Promise((resolve) => (vendorServer ? vendorServer.close(resolve) : resolve(undefined)));
    if (folder) rmSync(folder, { recursive: true, force: true });
  });

  /** Opens the post in a fresh browser context; resolves with the page and what its token endpoint answered. */
  async function openPost(signIn: boolean): Promise<{ page: Page; statuses: number[] }> {
    const context = await browser!.createBrowserContext();
    const page = await context.newPage();
    // Statuses only: Chromium may no longer hold a body the page has read (or cancelled, as the element does with an
    // error's) by the time a test asks for it.
    const statuses: number[] = [];
    page.on('response', (response) => {
      const url = new URL(response.url());
      if (url.pathname + url.search === ENDPOINT) statuses.push(response.status());
    });
    if (signIn) {
      // As a visitor signs in: wp-login.php's form, back to the post.
      await page.goto(`${new URL(postUrl).origin}/wp-login.php?redirect_to=${encodeURIComponent(postUrl)}`);
      await page.type('#user_login', 'visitor');
      await page.type('#user_pass', visitorPassword);
      await Promise.all([page.waitForNavigation(), page.click('#wp-submit')]);
      assert.equal(page.url(), postUrl, 'wp-login.php sent the visitor back to the post');
    } else {
      await page.goto(postUrl);
    }
    return { page, statuses };
  }

  it("brings a signed-in visitor's widget to ready, with a token the vendor verifies", async () => {
    const calls = vendorTokenCalls;
    const { page, statuses } = await openPost(true);
    await waitForVendorCard(page, 'verified by the vendor', READY_TIMEOUT_MS);
    assert.deepEqual(statuses, [200], 'one request to admin-ajax');
    const embedToken = await page.$eval('secure-widget demo-widget', (vendor) => vendor.getAttribute('embed-token'));
    // The access-key flow's token is the site's (its access id); WordPress's login decides who may have one.
    assert.equal(decodeJwt(embedToken!).sub, CREDENTIALS.accessId);
    assert.equal(vendorTokenCalls, calls + 1);
    const html = await page.content();
    assert.ok(!html.includes(CREDENTIALS.accessKey), 'the access key never reaches the page');
    await page.browserContext().close();
  });

  it("shows a signed-out visitor the block's error slot on the endpoint's 401, and calls no vendor", async () => {
    const calls = vendorTokenCalls;
    const { page, statuses } = await openPost(false);
    await page.waitForFunction(() => document.querySelector('secure-widget')?.getAttribute('status') === 'error', {
      timeout: READY_TIMEOUT_MS,
    });
    assert.deepEqual(statuses, [401]);
    const direct = await fetch(new URL(ENDPOINT, wordpress.url), { headers: { 'Sec-Fetch-Site': 'same-origin' } });
    assert.equal(direct.status, 401);
    assert.deepEqual(await direct.json(), { error: { code: 'unauthorized', message: 'Sign in to load this widget.' } });
    const shown = await page.$eval(
      'secure-widget [slot="error"]',
      (slot) => (slot as HTMLElement).offsetHeight > 0 && slot.textContent,
    );
    assert.equal(shown, 'Sign in to see this widget.');
    assert.equal(vendorTokenCalls, calls, 'no vendor call without a WordPress session');
    await page.browserContext().close();
  });

  it('refuses a token request from another site with 403 through admin-ajax, before any vendor call', async () => {
    const calls = vendorTokenCalls;
    const response = await fetch(new URL(ENDPOINT, wordpress.url), { headers: { 'Sec-Fetch-Site': 'cross-site' } });
    assert.equal(response.status, 403);
    assert.equal(response.headers.get('Cache-Control'), 'no-store');
    const refused = { error: { code: 'cross-site', message: 'Token requests from other sites are refused.' } };
    assert.deepEqual(await response.json(), refused);
    assert.equal(vendorTokenCalls, calls);
  });
});
