/**
 * Plumbing for test/server/runtimes.test.ts: the runtimes from their npm packages (installed into this folder, out of
 * the root install), each example of demo/examples/runtimes/ started on one of them over real HTTP, and stopped by its
 * PID.
 *
 *   const installed = installRuntimes();                     // npm ci here, unless node_modules matches the lockfile
 *   const reason = whyNot('deno', installed);                // null, or why this runtime cannot run here (printed)
 *   const server = await startExample('deno', 'deno.js', env);   // http://127.0.0.1:<port>, answering
 *   server.output();                                         // what it printed: its log lines
 *   await server.stop();
 *
 * Node, Deno and Bun run the example files as they are: each resolves `secure-widget/server` by the repository's own
 * package name to the built dist/server.js, and `jose` from the root node_modules, as an installed package would.
 * workerd runs what a Worker deploys: the example bundled by esbuild with the Workers' export conditions, given to
 * Miniflare with no compatibility flag, so that any `node:` import fails its start.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { build } from 'esbuild';
import { freePort } from '../support/free-port.js';

export const ROOT = path.resolve(import.meta.dirname, '../..');
export const RUNTIMES_DIR = import.meta.dirname;
export const EXAMPLES_DIR = path.join(ROOT, 'demo/examples/runtimes');
const MODULES = path.join(RUNTIMES_DIR, 'node_modules');
const STAMP = path.join(MODULES, '.installed-lockfile.sha256');
const BIN = path.join(MODULES, '.bin');
const START_TIMEOUT_MS = 20_000;
const STOP_GRACE_MS = 5_000;

export type Runtime = 'node' | 'deno' | 'bun' | 'workerd';

export interface Installed {
  /** null when the runtimes are in node_modules, else why not (npm's own words). */
  failure: string | null;
  /** What the install took, in ms (0 when node_modules already matched the lockfile). */
  ms: number;
}

/**
 * `npm ci --prefer-offline` in this folder, skipped when node_modules was installed from this very lockfile. No
 * install script runs (package.json's allowScripts): the binaries come in the packages' platform dependencies.
 */
export function installRuntimes(): Installed {
  const lockHash = createHash('sha256')
    .update(readFileSync(path.join(RUNTIMES_DIR, 'package-lock.json')))
    .digest('hex');
  if (existsSync(STAMP) && readFileSync(STAMP, 'utf8') === lockHash) return { failure: null, ms: 0 };
  const started = performance.now();
  const npm = spawnSync('npm', ['ci', '--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error'], {
    cwd: RUNTIMES_DIR,
    encoding: 'utf8',
    timeout: 300_000,
  });
  const ms = Math.round(performance.now() - started);
  if (npm.status !== 0) {
    const said = `${npm.stderr ?? ''}${npm.stdout ?? ''}`.trim().split('\n').slice(-3).join(' ');
    return { failure: `npm ci in test/runtimes failed (${npm.error?.message ?? `exit ${npm.status}`}): ${said}`, ms };
  }
  writeFileSync(STAMP, lockHash);
  return { failure: null, ms };
}

/**
 * The runtime's own binary. Not `node_modules/.bin`: there `deno` is a Node script that runs the binary as its child
 * (stopping the script by its PID would leave the server running) and `bun` a stub its install script replaces, and
 * no install script runs here. Each package brings the binary in its platform dependency (`@deno/linux-x64-glibc`,
 * `@oven/bun-linux-x64`), the one npm installed for this machine. workerd is started by Miniflare, which finds its
 * own; its `.bin` entry serves the version probe.
 */
function binaryOf(runtime: Exclude<Runtime, 'node'>): string {
  if (runtime === 'workerd') return path.join(BIN, 'workerd');
  const [scope, file] = runtime === 'deno' ? ['@deno', 'deno'] : ['@oven', path.join('bin', 'bun')];
  const dir = path.join(MODULES, scope);
  const found = existsSync(dir)
    ? readdirSync(dir)
        .map((name) => path.join(dir, name, file))
        .filter(existsSync)
    : [];
  return found[0] ?? path.join(dir, `(no ${runtime} binary for ${process.platform}-${process.arch})`);
}

/** null when `runtime` can run here, else why not: the install failed, or its binary does not start. */
export function whyNot(runtime: Runtime, installed: Installed): string | null {
  if (runtime === 'node') return null;
  if (installed.failure) return installed.failure;
  const binary = binaryOf(runtime);
  const probe = spawnSync(binary, ['--version'], { encoding: 'utf8', timeout: 30_000 });
  if (probe.status === 0) return null;
  const said = `${probe.stderr ?? ''}${probe.stdout ?? ''}`.trim().split('\n')[0] ?? '';
  return `${path.relative(ROOT, binary)} --version failed (${probe.error?.message ?? `exit ${probe.status}`}) ${said}`;
}

/** The runtime's version, for the test's names. */
export function versionOf(runtime: Runtime): string {
  if (runtime === 'node') return process.version;
  return spawnSync(binaryOf(runtime), ['--version'], { encoding: 'utf8' }).stdout.trim().split('\n')[0]!;
}

export interface RunningExample {
  /** `http://127.0.0.1:<port>` */
  readonly origin: string;
  /** Everything it printed so far, stdout and stderr. */
  output(): string;
  stop(): Promise<void>;
}

/** Starts `example` (a file of demo/examples/runtimes/) on `runtime` with exactly `env`, once it answers HTTP. */
export async function startExample(
  runtime: Runtime,
  example: string,
  env: Record<string, string>,
): Promise<RunningExample> {
  if (runtime === 'workerd') return startWorker(example, env);
  const port = await freePort();
  const file = path.join(EXAMPLES_DIR, example);
  const [command, args] = commandFor(runtime, file);
  const child = spawn(command, args, {
    cwd: ROOT,
    // Only what the example reads, and what the runtime needs to start: nothing of this test's own environment.
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? tmpdir(),
      ...quiet(runtime),
      ...env,
      PORT: String(port),
      HOST: '127.0.0.1',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  const origin = `http://127.0.0.1:${port}`;
  const stop = () => stopProcess(child);
  try {
    await answering(origin, child, () => output);
  } catch (error) {
    await stop();
    throw error;
  }
  return { origin, output: () => output, stop };
}

function commandFor(runtime: Exclude<Runtime, 'workerd'>, file: string): [string, string[]] {
  switch (runtime) {
    case 'node':
      return [process.execPath, [file]];
    case 'deno':
      // The permissions the handler needs, and no more: its port and the vendor on loopback, its variables, its files.
      return [binaryOf('deno'), ['run', '--allow-net=127.0.0.1', '--allow-env', `--allow-read=${ROOT}`, file]];
    case 'bun':
      return [binaryOf('bun'), [file]];
  }
}

/** Update checks and telemetry off: a test makes no request but its own. */
function quiet(runtime: Runtime): Record<string, string> {
  if (runtime === 'deno') return { DENO_NO_UPDATE_CHECK: '1', DENO_NO_PROMPT: '1', NO_COLOR: '1' };
  // NODE_PATH: where Bun finds hono, which only this folder installs.
  if (runtime === 'bun') return { DO_NOT_TRACK: '1', NO_COLOR: '1', NODE_PATH: MODULES };
  return {};
}

/**
 * The Worker as it is deployed: bundled (the Workers' export conditions, no `node:` module allowed to resolve) and
 * run by workerd with no compatibility flag, so that the handler gets no Node API at all.
 */
async function startWorker(example: string, bindings: Record<string, string>): Promise<RunningExample> {
  const dir = mkdtempSync(path.join(tmpdir(), 'secure-widget-worker-'));
  const outfile = path.join(dir, 'worker.js');
  await build({
    entryPoints: [path.join(EXAMPLES_DIR, example)],
    bundle: true,
    format: 'esm',
    platform: 'neutral',
    conditions: ['workerd', 'worker', 'browser'],
    mainFields: ['module', 'main'],
    outfile,
    logLevel: 'silent',
  });
  const require = createRequire(path.join(RUNTIMES_DIR, 'package.json'));
  // Loaded from this folder's node_modules, which the type check cannot count on (the test installs it): typed here.
  const { Miniflare } = require('miniflare') as { Miniflare: new (options: object) => MiniflareInstance };
  let output = '';
  const collect = (stream: NodeJS.ReadableStream) =>
    stream.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  const worker = new Miniflare({
    modules: [{ type: 'ESModule', path: outfile, contents: readFileSync(outfile, 'utf8') }],
    modulesRoot: dir,
    compatibilityDate: '2026-04-01',
    compatibilityFlags: [],
    bindings,
    host: '127.0.0.1',
    port: await freePort(),
    handleRuntimeStdio: (stdout: NodeJS.ReadableStream, stderr: NodeJS.ReadableStream) => {
      collect(stdout);
      collect(stderr);
    },
  });
  let url: URL;
  try {
    url = await worker.ready;
  } catch (error) {
    await worker.dispose().catch(() => {});
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`workerd did not start the Worker: ${(error as Error).message}\n${output}`);
  }
  return {
    origin: url.origin,
    output: () => output,
    async stop() {
      // Miniflare ends the workerd process it started.
      await worker.dispose();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** The little of Miniflare's API this file uses. */
interface MiniflareInstance {
  readonly ready: Promise<URL>;
  dispose(): Promise<void>;
}

/** Resolves once `origin` answers any HTTP status; rejects with the output when the process exits or time runs out. */
async function answering(origin: string, child: ChildProcess, output: () => string): Promise<void> {
  const deadline = performance.now() + START_TIMEOUT_MS;
  let exited: string | null = null;
  child.once('exit', (code, signal) => (exited = `exited (${signal ?? code})`));
  for (;;) {
    if (exited) throw new Error(`${path.basename(child.spawnfile)} ${exited} before answering:\n${output()}`);
    try {
      const response = await fetch(`${origin}/`, { signal: AbortSignal.timeout(1000) });
      await response.body?.cancel();
      return;
    } catch {
      // Not listening yet.
    }
    if (performance.now() > deadline)
      throw new Error(`no answer from ${origin} within ${START_TIMEOUT_MS} ms:\n${output()}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** SIGTERM to the process by its PID, SIGKILL if it is still there after 5 s. */
async function stopProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  process.kill(child.pid, 'SIGTERM');
  const timer = setTimeout(() => {
    if (child.exitCode === null && child.signalCode === null) process.kill(child.pid!, 'SIGKILL');
  }, STOP_GRACE_MS);
  await exited;
  clearTimeout(timer);
}
