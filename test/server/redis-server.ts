/**
 * A real redis-server of the test's own: a free port on 127.0.0.1, a temporary directory, no persistence, stopped by
 * its PID. For test/server/redis-store.test.ts.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { setPriority, tmpdir } from 'node:os';
import path from 'node:path';
import { freePort } from '../support/free-port.js';

/** Why the Redis tests cannot run here, or undefined when they can. */
export function redisMissing(): string | undefined {
  const found = spawnSync('redis-server', ['--version'], { stdio: 'ignore' });
  return found.error || found.status !== 0
    ? 'redis-server is not on PATH: install it (Debian: apt-get install -y redis-server; .ci/run does)'
    : undefined;
}

export interface RedisServer {
  readonly url: string;
  readonly pid: number;
  /** SIGKILL, as a crash: no goodbye to the clients. */
  kill(): Promise<void>;
  /** SIGSTOP / SIGCONT: a Redis that is there but answers nothing. */
  pause(): void;
  resume(): void;
  /** A fresh, empty server on the same port (after kill). */
  restart(): Promise<void>;
  /** SIGTERM and wait; the temporary directory is removed. */
  stop(): Promise<void>;
}

function launch(port: number, dir: string): Promise<ChildProcess> {
  const child = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  return new Promise((resolve, reject) => {
    let output = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`redis-server did not start on port ${port}: ${output.slice(-500)}`));
    }, 10_000);
    child.stdout!.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes('Ready to accept connections')) {
        clearTimeout(timer);
        child.stdout!.removeAllListeners('data');
        child.stdout!.resume();
        resolve(child);
      }
    });
    child.stderr!.resume();
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`redis-server exited with ${code}: ${output.slice(-500)}`));
    });
  });
}

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

export interface RedisServerOptions {
  /**
   * Run redis-server ahead of this machine's other processes (a negative nice value; root only, else as is): for
   * tests that load the machine on purpose, where Redis stands for a server of its own, as it is in production.
   */
  ahead?: boolean;
}

/** The nice value of a Redis that runs ahead: enough to be scheduled before a CPU hog's busy loop, at once. */
const AHEAD_NICE = -10;

export async function startRedis({ ahead = false }: RedisServerOptions = {}): Promise<RedisServer> {
  const port = await freePort();
  const dir = mkdtempSync(path.join(tmpdir(), 'secure-widget-redis-'));
  const launchAhead = async (): Promise<ChildProcess> => {
    const started = await launch(port, dir);
    if (ahead) {
      try {
        setPriority(started.pid!, AHEAD_NICE);
      } catch {
        // Not root: Redis shares the CPU as it is, and a loaded machine may slow its answers too.
      }
    }
    return started;
  };
  let child = await launchAhead();
  let paused = false;
  const signal = async (name: NodeJS.Signals): Promise<void> => {
    const running = child;
    if (running.exitCode !== null || running.signalCode !== null) return;
    process.kill(running.pid!, name);
    await exited(running);
  };
  return {
    url: `redis://127.0.0.1:${port}`,
    get pid() {
      return child.pid!;
    },
    kill: () => signal('SIGKILL'),
    pause() {
      process.kill(child.pid!, 'SIGSTOP');
      paused = true;
    },
    resume() {
      process.kill(child.pid!, 'SIGCONT');
      paused = false;
    },
    async restart() {
      await signal('SIGKILL');
      child = await launchAhead();
    },
    async stop() {
      if (paused) process.kill(child.pid!, 'SIGCONT');
      await signal('SIGTERM');
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
