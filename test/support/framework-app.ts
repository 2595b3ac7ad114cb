/**
 * Plumbing for the tests of the framework examples (demo/examples/<framework>/): each is a real app with its own
 * package.json and package-lock.json, installed into a temporary copy with the library's packed tarball, built and
 * served by the framework's own CLI, and opened in Chromium. Every function here is shared by those tests; keep its
 * API as it is (add, do not change).
 *
 *   const reason = skipReason('example-nextjs');         // false, or why the test cannot run (printed once)
 *   describe('…', { skip: reason, timeout: 240_000 }, () => {
 *     const vendor = await startVendor({ ttlSeconds: 8 });  // the reference vendor on http://127.0.0.1:<port>
 *     const app = await installApp('nextjs');               // temp copy + `npm ci` + the packed tarball
 *     await app.run('node_modules/.bin/next', ['build'], { env });       // throws with the output when it fails
 *     const server = await app.start('node_modules/.bin/next', ['start', '-p', '{port}'], { env });
 *     const browser = await launchBrowser();
 *     const visit = await openPage(browser, `${server.url}/`);         // console, errors, requests, widget events
 *     visit.problems();                                                 // console errors + hydration warnings
 *     await server.stop(); await browser.close(); app.remove(); await vendor.close();
 *   });
 *
 * - `skipReason(name, extra?)`: checks what every such test needs (the built `dist/`, Chromium, npm) plus `extra`
 *   (`{ what: string, missing: boolean }[]`); prints `# <name>: skipped, missing …` once and returns that reason.
 * - `packTarball()`: `npm pack` of the repository into a temporary folder, once per process; the tarball's path.
 * - `installApp(example, options?)`: copies `demo/examples/<example>` (without node_modules and build output) into a
 *   temporary folder, runs `npm ci --prefer-offline --no-audit --no-fund` there, then installs the tarball with
 *   `--no-save`. `options.node` is a node binary (a folder with `node` in it is put first on PATH for every command
 *   and server of the app), for frameworks whose CLI needs another Node.
 * - `app.run(command, args, { env?, timeoutMs? })`: runs a command in the app's folder (relative commands are the
 *   app's own, such as `node_modules/.bin/next`); resolves with its output, throws with it on failure.
 * - `app.start(command, args, { env?, path?, timeoutMs? })`: starts a server on a free port; `{port}` in args and in
 *   env's values (and `PORT`/`NITRO_PORT` in its environment) is that port. Resolves once
 *   `http://localhost:<port><path>` answers any HTTP status; `server.stop()` ends its process group by its PID
 *   (SIGTERM, SIGKILL after 5 s).
 * - `launchBrowser()`: Chromium via puppeteer-core (`CHROME_PATH`, else /usr/bin/chromium) with a temporary profile;
 *   `close()` kills it by its PID if it does not close in 5 s.
 * - `openPage(browser, url)`: a new page that records, from before the first byte: console messages, uncaught errors,
 *   every request URL, and each `secure-widget-*` event (type, and the token event's source, the error's code) in
 *   `window.secureWidgetEvents`; `visit.problems()` lists console errors, uncaught errors and any console message that
 *   speaks of hydration, and failed requests (`visit.failures`: a status of 400 or more, or a network error other
 *   than an abort);
 *   `visit.events()` reads the event list (each with its `performance.now()` time);
 *   `visit.timings(pathname)` when each request to a path started, on the same clock (`visit.startedAt(pathname)`: in
 *   ms since the epoch, to compare with a token's `exp`); `visit.requestsTo(pathname)` counts requests.
 * - `startVendor({ ttlSeconds })`: the reference vendor (`createReferenceVendor`) in this process, on 127.0.0.1 (a
 *   different origin from the app on localhost), with a random access id and key; `vendor.env` holds the variables the
 *   examples read (`WIDGET_VENDOR_TOKEN_URL`, `WIDGET_BUNDLE_URL`, `WIDGET_ACCESS_ID`, `WIDGET_ACCESS_KEY`);
 *   `vendor.tokenCalls()` counts its token API calls.
 */
import { spawn, spawnSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer as createHttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import puppeteer from 'puppeteer-core';
import type { Browser, Page } from 'puppeteer-core';
import { createReferenceVendor } from '../../demo/vendor/index.js';
import { toNodeListener } from '../../src/server/index.js';
import { chromiumArgs, chromiumPath } from './chromium.mjs';
import { freePort } from './free-port.js';

const ROOT = path.resolve(import.meta.dirname, '../..');
const EXAMPLES = path.join(ROOT, 'demo/examples');
/** What an example's copy leaves behind: installs and build output of a local run. */
const NOT_COPIED = new Set(['node_modules', '.next', '.nuxt', '.output', '.svelte-kit', '.angular', 'dist', 'build']);

// ---------------------------------------------------------------------------------------------------------------
// Skipping

/** False when the test can run; else the reason, printed once as `# <name>: skipped, missing …`. */
export function skipReason(name: string, extra: { what: string; missing: boolean }[] = []): string | false {
  const missing = [
    !existsSync(path.join(ROOT, 'dist/secure-widget.js')) && 'dist/ (npm run build)',
    !existsSync(chromiumPath) && `Chromium at ${chromiumPath} (apt-get install chromium, or set CHROME_PATH)`,
    spawnSync('npm', ['--version'], { stdio: 'ignore' }).error && 'npm',
    ...extra.filter((item) => item.missing).map((item) => item.what),
  ].filter(Boolean);
  if (missing.length === 0) return false;
  const reason = `missing ${missing.join(', ')}`;
  console.log(`# ${name}: skipped, ${reason}`);
  return reason;
}

// ---------------------------------------------------------------------------------------------------------------
// Processes

/** The environment of every command and server: this one's, less what belongs to the test runner, with no telemetry. */
function childEnv(extra: Record<string, string | undefined> = {}, nodeDir?: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  // node --test marks its children with NODE_TEST_CONTEXT; a framework's CLI must not think it is one. NODE_ENV is the
  // framework's to set (build: production, dev: development).
  for (const name of ['NODE_TEST_CONTEXT', 'NODE_ENV', 'NODE_OPTIONS']) delete env[name];
  Object.assign(env, {
    NEXT_TELEMETRY_DISABLED: '1',
    NUXT_TELEMETRY_DISABLED: '1',
    ASTRO_TELEMETRY_DISABLED: '1',
    NG_CLI_ANALYTICS: 'false',
    DO_NOT_TRACK: '1',
    npm_config_update_notifier: 'false',
    npm_config_fund: 'false',
    npm_config_audit: 'false',
  });
  if (nodeDir) env.PATH = `${nodeDir}${path.delimiter}${env.PATH ?? ''}`;
  for (const [key, value] of Object.entries(extra)) {
    if (value === undefined) delete env[key];
    else env[key] = value;
  }
  return env;
}

interface Spawned {
  child: ChildProcess;
  output: () => string;
}

function spawnIn(cwd: string, command: string, args: readonly string[], env: NodeJS.ProcessEnv): Spawned {
  const executable = command.includes('/') && !path.isAbsolute(command) ? path.join(cwd, command) : command;
  // Its own process group, so that stop() ends what it started too (a dev server's workers) by this one PID.
  const child = spawn(executable, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  let output = '';
  const collect = (chunk: Buffer) => {
    output += chunk.toString();
  };
  child.stdout!.on('data', collect);
  child.stderr!.on('data', collect);
  return { child, output: () => output };
}

function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    // The group is gone already.
  }
}

/** A process as /proc shows it: its id, and its start time (so that a reused id is never mistaken for it). */
interface ProcessId {
  pid: number;
  start: string;
}

/** pid, ppid and start time from /proc/<pid>/stat; null when it is gone (or there is no /proc). */
function readStat(pid: number): { ppid: number; start: string } | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // pid (comm) state ppid …: comm may hold spaces and parentheses, so the fields are read after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return { ppid: Number(fields[1]), start: fields[19]! };
  } catch {
    return null;
  }
}

/**
 * The processes below `pid` (Linux; elsewhere none). A server's worker may move to a process group of its own
 * (`next start` runs `next-server` so), where a signal to the server's group does not reach it.
 */
function descendants(pid: number): ProcessId[] {
  let entries: string[];
  try {
    entries = readdirSync('/proc').filter((name) => /^\d+$/.test(name));
  } catch {
    return [];
  }
  const children = new Map<number, ProcessId[]>();
  for (const entry of entries) {
    const stat = readStat(Number(entry));
    if (stat) children.set(stat.ppid, [...(children.get(stat.ppid) ?? []), { pid: Number(entry), start: stat.start }]);
  }
  const found: ProcessId[] = [];
  const queue = [pid];
  while (queue.length > 0) {
    for (const child of children.get(queue.shift()!) ?? []) {
      found.push(child);
      queue.push(child.pid);
    }
  }
  return found;
}

/** SIGKILL for each of these processes that still runs (the same process: same id, same start time). */
function killStragglers(processes: readonly ProcessId[]): void {
  for (const { pid, start } of processes) {
    if (readStat(pid)?.start !== start) continue;
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // Gone meanwhile.
    }
  }
}

async function stopProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) {
    killGroup(child, 'SIGKILL'); // Any worker it left behind.
    return;
  }
  const below = child.pid === undefined ? [] : descendants(child.pid);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  killGroup(child, 'SIGTERM');
  const timer = setTimeout(() => killGroup(child, 'SIGKILL'), 5_000);
  await exited;
  clearTimeout(timer);
  killGroup(child, 'SIGKILL');
  // Workers in a group of their own, had the server not ended them itself.
  killStragglers(below);
}

/**
 * Deletes a folder and all in it. `rm -rf` first: on an installed app (15,000 files) Node's rmSync takes seconds, and
 * half a minute on a busy machine, where rm takes a fraction of one.
 */
function removeTree(folder: string): void {
  const removed = spawnSync('rm', ['-rf', folder], { stdio: 'ignore' });
  if (removed.error || removed.status !== 0) rmSync(folder, { recursive: true, force: true });
}

// ---------------------------------------------------------------------------------------------------------------
// The packed library and the app

let tarball: Promise<string> | undefined;

/**
 * `npm pack` of the repository (its `dist/` as built), once per process. Resolves with the tarball's path. Fails, saying
 * which, when a file that package.json's `exports` names is not in it (`dist/` not built, or a build still running).
 */
export function packTarball(): Promise<string> {
  tarball ??= (async () => {
    const folder = mkdtempSync(path.join(tmpdir(), 'secure-widget-tarball-'));
    process.once('exit', () => rmSync(folder, { recursive: true, force: true }));
    const child = spawn('npm', ['pack', '--json', '--pack-destination', folder], {
      cwd: ROOT,
      env: childEnv(),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    if (code !== 0) throw new Error(`npm pack failed:\n${stderr}${stdout}`);
    const [packed] = JSON.parse(stdout) as { filename: string; files: { path: string }[] }[];
    const files = new Set(packed!.files.map((file) => file.path));
    const manifest = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { exports: unknown };
    const missing = [...new Set(exportTargets(manifest.exports))].filter((target) => !files.has(target));
    if (missing.length > 0) {
      throw new Error(
        `the packed library lacks ${missing.join(', ')}: run \`npm run build\` (and let it finish) first`,
      );
    }
    return path.join(folder, packed!.filename);
  })();
  return tarball;
}

/** Every file that an `exports` map names, as a path in the package (`dist/server.js`). */
function exportTargets(exports: unknown): string[] {
  if (typeof exports === 'string') return exports === './package.json' ? [] : [exports.replace(/^\.\//, '')];
  if (typeof exports !== 'object' || exports === null) return [];
  return Object.values(exports).flatMap(exportTargets);
}

export interface RunOptions {
  env?: Record<string, string | undefined>;
  /** Default 300 s. */
  timeoutMs?: number;
}

export interface StartOptions extends RunOptions {
  /** The path whose answer (any HTTP status) means the server is up; default `/`. */
  path?: string;
  /** Default 120 s. */
  timeoutMs?: number;
}

export interface AppServer {
  /** `http://localhost:<port>`: the page's origin (the vendor is on 127.0.0.1, another origin). */
  readonly url: string;
  readonly port: number;
  readonly pid: number;
  /** Everything the server printed so far. */
  output(): string;
  stop(): Promise<void>;
}

export interface InstalledApp {
  /** The temporary copy of the example, installed. */
  readonly dir: string;
  run(command: string, args: readonly string[], options?: RunOptions): Promise<string>;
  start(command: string, args: readonly string[], options?: StartOptions): Promise<AppServer>;
  /** Deletes the copy, in the background (stop its servers first). */
  remove(): void;
}

/**
 * Copies `demo/examples/<example>` into a temporary folder, installs it from its lockfile with `npm ci
 * --prefer-offline`, then adds the packed library (`--no-save`: the lockfile stays the example's).
 */
export async function installApp(example: string, options: { node?: string } = {}): Promise<InstalledApp> {
  const source = path.join(EXAMPLES, example);
  if (!existsSync(path.join(source, 'package-lock.json'))) throw new Error(`${source} has no package-lock.json`);
  const library = await packTarball();
  const work = mkdtempSync(path.join(tmpdir(), `secure-widget-${example}-`));
  const dir = path.join(work, example);
  cpSync(source, dir, { recursive: true, filter: (from) => !NOT_COPIED.has(path.basename(from)) });
  const nodeDir = options.node ? path.dirname(options.node) : undefined;
  const servers = new Set<Spawned>();

  const app: InstalledApp = {
    dir,
    async run(command, args, { env, timeoutMs = 300_000 } = {}) {
      const spawned = spawnIn(dir, command, args, childEnv(env, nodeDir));
      const timer = setTimeout(() => killGroup(spawned.child, 'SIGKILL'), timeoutMs);
      const code = await new Promise<number | null>((resolve) => spawned.child.once('exit', resolve));
      clearTimeout(timer);
      killGroup(spawned.child, 'SIGKILL'); // Whatever it left running.
      if (code !== 0) {
        const why = code === null ? `was killed (timeout ${timeoutMs} ms?)` : `exited with ${code}`;
        throw new Error(`${command} ${args.join(' ')} ${why}:\n${spawned.output()}`);
      }
      return spawned.output();
    },
    async start(command, args, { env, path: readyPath = '/', timeoutMs = 120_000 } = {}) {
      const port = await freePort();
      const withPort = args.map((arg) => arg.replaceAll('{port}', String(port)));
      const envWithPort = Object.entries(env ?? {}).map(([name, value]) => [
        name,
        value?.replaceAll('{port}', `${port}`),
      ]);
      const spawned = spawnIn(
        dir,
        command,
        withPort,
        childEnv({ PORT: String(port), NITRO_PORT: String(port), ...Object.fromEntries(envWithPort) }, nodeDir),
      );
      servers.add(spawned);
      const url = `http://localhost:${port}`;
      const exited = new Promise<string>((resolve) =>
        spawned.child.once('exit', (code, signal) => resolve(`exited (${code ?? signal})`)),
      );
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const problem = await Promise.race([
          exited,
          fetch(new URL(readyPath, url), { signal: AbortSignal.timeout(30_000), redirect: 'manual' }).then(
            async (response) => {
              await response.body?.cancel();
              return null;
            },
            () => undefined,
          ),
        ]);
        if (problem === null) break;
        if (typeof problem === 'string' || Date.now() > deadline) {
          await stopProcess(spawned.child);
          const why = typeof problem === 'string' ? problem : `did not answer within ${timeoutMs} ms`;
          throw new Error(`${command} ${withPort.join(' ')} ${why}:\n${spawned.output()}`);
        }
        await new Promise((resolve) => setTimeout(resolve, 250));
      }
      return {
        url,
        port,
        pid: spawned.child.pid!,
        output: spawned.output,
        async stop() {
          await stopProcess(spawned.child);
          servers.delete(spawned);
        },
      };
    },
    remove() {
      for (const server of servers) killGroup(server.child, 'SIGKILL');
      // In the background: deleting a fresh install (15,000 files) took 40 s on this machine while other tests wrote to
      // the same disk, and nothing waits for it. rm ends by itself; the test's process does not wait for it.
      const rm = spawn('rm', ['-rf', work], { detached: true, stdio: 'ignore' });
      rm.once('error', () => removeTree(work));
      rm.unref();
    },
  };

  try {
    await app.run('npm', ['ci', '--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error']);
    await app.run('npm', [
      'install',
      '--no-save',
      '--prefer-offline',
      '--no-audit',
      '--no-fund',
      '--loglevel=error',
      library,
    ]);
  } catch (error) {
    app.remove();
    throw error;
  }
  return app;
}

// ---------------------------------------------------------------------------------------------------------------
// Chromium

export interface LaunchedBrowser {
  readonly browser: Browser;
  close(): Promise<void>;
}

export async function launchBrowser(): Promise<LaunchedBrowser> {
  const userDataDir = mkdtempSync(path.join(tmpdir(), 'secure-widget-chromium-'));
  const browser = await puppeteer.launch({
    executablePath: chromiumPath,
    headless: true,
    args: chromiumArgs,
    userDataDir,
  });
  return {
    browser,
    async close() {
      const pid = browser.process()?.pid;
      const closed = browser.close().catch(() => {});
      await Promise.race([closed, new Promise((resolve) => setTimeout(resolve, 5_000).unref())]);
      if (pid !== undefined) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // Closed, as it should be.
        }
      }
      removeTree(userDataDir);
    },
  };
}

export interface ConsoleEntry {
  type: string;
  text: string;
}

/** One `secure-widget-*` event as `openPage` records it. */
export interface RecordedEvent {
  type: string;
  /** The element's `id`, if it has one. */
  id: string;
  /** `secure-widget-token`: where the token came from. */
  source?: string;
  /** `secure-widget-error`: its code. */
  code?: string;
  /** `performance.now()` in the page when it fired (the timeline of `visit.timings(pathname)`). */
  time: number;
}

export interface Visit {
  readonly page: Page;
  readonly console: readonly ConsoleEntry[];
  readonly errors: readonly string[];
  readonly requests: readonly string[];
  /** Responses with an HTTP status of 400 or more, and requests that failed (`net::…`), as `<status> <url>`. */
  readonly failures: readonly string[];
  /** Requests whose URL has this pathname (any origin, any query). */
  requestsTo(pathname: string): number;
  /** Console errors, uncaught errors, and any console message about hydration: what a clean page has none of. */
  problems(): string[];
  /** The `secure-widget-*` events so far, in order. */
  events(): Promise<RecordedEvent[]>;
  /**
   * When each request to `pathname` started, by the page's own clock (`performance.now()`, Resource Timing): compare
   * with the events' `time` to tell what happened before what, with no sleep.
   */
  timings(pathname: string): Promise<number[]>;
  /** The same starts in ms since the epoch (`performance.timeOrigin` added): to compare with a token's `iat`/`exp`. */
  startedAt(pathname: string): Promise<number[]>;
  close(): Promise<void>;
}

const HYDRATION = /hydrat|did ?n[o']t match|mismatch/i;

/** Opens `url` in a new page of `browser`, recording from before the first request; resolves after `load`. */
export async function openPage(browser: Browser, url: string): Promise<Visit> {
  const page = await browser.newPage();
  const consoleEntries: ConsoleEntry[] = [];
  const errors: string[] = [];
  const requests: string[] = [];
  page.on('console', (message) => consoleEntries.push({ type: message.type(), text: message.text() }));
  page.on('pageerror', (error) =>
    errors.push(error instanceof Error ? `${error.name}: ${error.message}` : String(error)),
  );
  const failures: string[] = [];
  page.on('request', (request) => requests.push(request.url()));
  page.on('response', (response) => {
    if (response.status() >= 400) failures.push(`${response.status()} ${response.url()}`);
  });
  page.on('requestfailed', (request) => failures.push(`${request.failure()?.errorText ?? 'failed'} ${request.url()}`));
  await page.evaluateOnNewDocument(() => {
    const events: { type: string; id: string; source?: string; code?: string; time: number }[] = [];
    Object.assign(window, { secureWidgetEvents: events });
    // A dev server's page loads hundreds of modules: keep every request in the timeline, not the first 250.
    performance.setResourceTimingBufferSize(100_000);
    for (const type of ['secure-widget-token', 'secure-widget-ready', 'secure-widget-reload', 'secure-widget-error']) {
      document.addEventListener(
        type,
        (event) => {
          const detail = ((event as CustomEvent).detail ?? {}) as { source?: string; code?: string };
          const target = event.composedPath()[0] as Element | undefined;
          events.push({
            type,
            id: target?.id ?? '',
            source: detail.source,
            code: detail.code,
            time: performance.now(),
          });
        },
        { capture: true },
      );
    }
  });
  await page.goto(url, { waitUntil: 'load', timeout: 60_000 });
  return {
    page,
    console: consoleEntries,
    errors,
    requests,
    failures,
    requestsTo: (pathname) => requests.filter((request) => new URL(request).pathname === pathname).length,
    problems: () => [
      ...consoleEntries
        .filter((entry) => entry.type === 'error' || HYDRATION.test(entry.text))
        .map((entry) => `console.${entry.type}: ${entry.text}`),
      ...errors.map((error) => `uncaught: ${error}`),
      // Chromium's "Failed to load resource" console line does not say which: these do. A request the page aborted
      // (net::ERR_ABORTED: a vendor widget dropping a superseded data request) is no problem in itself; a test that
      // cares about one asserts on `failures`.
      ...failures.filter((failure) => !failure.startsWith('net::ERR_ABORTED ')).map((failure) => `request: ${failure}`),
    ],
    events: () =>
      page.evaluate(() => [...(window as unknown as { secureWidgetEvents: RecordedEvent[] }).secureWidgetEvents]),
    timings: (pathname) =>
      page.evaluate(
        (wanted) =>
          performance
            .getEntriesByType('resource')
            .filter((entry) => new URL(entry.name).pathname === wanted)
            .map((entry) => entry.startTime),
        pathname,
      ),
    startedAt: (pathname) =>
      page.evaluate(
        (wanted) =>
          performance
            .getEntriesByType('resource')
            .filter((entry) => new URL(entry.name).pathname === wanted)
            .map((entry) => performance.timeOrigin + entry.startTime),
        pathname,
      ),
    close: () => page.close(),
  };
}

// ---------------------------------------------------------------------------------------------------------------
// The reference vendor

export const VENDOR_TOKEN_PATH = '/vendor/api/widget-access-keys/token';

export interface RunningVendor {
  /** `http://127.0.0.1:<port>`. */
  readonly origin: string;
  readonly bundleUrl: string;
  readonly tokenUrl: string;
  readonly accessId: string;
  /** Secret: pass it to the app's server only, never to a page or a log. */
  readonly accessKey: string;
  /** The variables the examples read on their server. */
  readonly env: Record<string, string>;
  /** Calls to the token API so far. */
  tokenCalls(): number;
  close(): Promise<void>;
}

/** The reference vendor on 127.0.0.1 in this process; `ttlSeconds` is its tokens' lifetime (short: a refresh soon). */
export async function startVendor({ ttlSeconds }: { ttlSeconds: number }): Promise<RunningVendor> {
  const accessId = 'framework-example';
  const accessKey = `framework-key-${randomBytes(16).toString('hex')}`;
  const vendor = await createReferenceVendor({ accessId, accessKey, ttlSeconds });
  const listener = toNodeListener(vendor.handle);
  let calls = 0;
  const server = createHttpServer((req, res) => {
    if (req.url === VENDOR_TOKEN_PATH) calls += 1;
    listener(req, res, () => res.writeHead(404).end());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const bundleUrl = `${origin}/vendor/widget.js`;
  const tokenUrl = `${origin}${VENDOR_TOKEN_PATH}`;
  return {
    origin,
    bundleUrl,
    tokenUrl,
    accessId,
    accessKey,
    env: {
      WIDGET_VENDOR_TOKEN_URL: tokenUrl,
      WIDGET_BUNDLE_URL: bundleUrl,
      WIDGET_ACCESS_ID: accessId,
      WIDGET_ACCESS_KEY: accessKey,
    },
    tokenCalls: () => calls,
    async close() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
