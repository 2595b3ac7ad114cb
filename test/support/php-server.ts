/**
 * `php -S` for the Node tests of the PHP examples: started on a free port of 127.0.0.1 with exactly the environment
 * given (and PATH), resolved once PHP says it listens, its output kept for the test to read.
 */
import { spawn, spawnSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { freePort } from './free-port.js';

export { freePort };

export interface PhpServer {
  readonly url: string;
  readonly child: ChildProcess;
  /** Everything PHP printed (its access log and error_log lines). */
  readonly log: () => string;
}

export const phpMissing = spawnSync('php', ['-v'], { stdio: 'ignore' }).error !== undefined;

/** `php -S 127.0.0.1:<port> <args…>` in `cwd`; `port` defaults to a free one. */
export async function startPhp(
  args: readonly string[],
  { cwd, env, port }: { cwd: string; env: Record<string, string>; port?: number },
): Promise<PhpServer> {
  const listenOn = port ?? (await freePort());
  const child = spawn('php', ['-S', `127.0.0.1:${listenOn}`, ...args], {
    cwd,
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const collect = (chunk: Buffer) => {
    output += chunk.toString();
  };
  child.stdout!.on('data', collect);
  child.stderr!.on('data', collect);
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`php -S did not start: ${output}`)), 5_000);
    const check = () => {
      if (/Development Server .* started/.test(output)) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout!.on('data', check);
    child.stderr!.on('data', check);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`php -S exited (${code}): ${output}`));
    });
  });
  return { url: `http://127.0.0.1:${listenOn}`, child, log: () => output };
}

/** SIGKILL for each pid still running. */
export function killAll(pids: readonly (number | undefined)[]): void {
  for (const pid of pids) {
    if (pid === undefined) continue;
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // Already gone.
    }
  }
}
