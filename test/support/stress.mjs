#!/usr/bin/env node
/**
 * `npm run test:stress`: the test suite on a busy machine. One CPU hog per core spins while the tests run, so that a
 * test that leans on the machine's speed (a sleep, a tight margin) fails here rather than once in a while elsewhere.
 *
 *   node test/support/stress.mjs                          # npm test, under one hog per core
 *   node test/support/stress.mjs npm run test:browser     # any other command
 *   STRESS_HOGS=4 node test/support/stress.mjs            # more hogs than cores
 *
 * The hogs are stopped by their PIDs whatever happens (the command failing, Ctrl-C, an error here); each also stops by
 * itself after STRESS_MAX_MINUTES (60) should this process be killed outright. Exits with the command's status.
 */
import { spawn } from 'node:child_process';
import { availableParallelism } from 'node:os';

const command = process.argv.slice(2);
const [program, ...args] = command.length > 0 ? command : ['npm', 'test'];
const hogCount = Number(process.env.STRESS_HOGS) || availableParallelism();
const maxMinutes = Number(process.env.STRESS_MAX_MINUTES) || 60;

const hogs = Array.from({ length: hogCount }, () =>
  spawn(process.execPath, ['-e', `const end = Date.now() + ${maxMinutes * 60_000}; while (Date.now() < end) {}`], {
    stdio: 'ignore',
  }),
);

function stopHogs() {
  for (const hog of hogs) {
    if (hog.exitCode === null && hog.signalCode === null) {
      try {
        process.kill(hog.pid, 'SIGKILL');
      } catch {
        // Gone already.
      }
    }
  }
}
process.on('exit', stopHogs);

const line = `${program} ${args.join(' ')}`.trim();
console.log(`stress: ${hogCount} CPU hog(s) (pids ${hogs.map((hog) => hog.pid).join(', ')}) while: ${line}`);
const started = performance.now();
const run = spawn(program, args, { stdio: 'inherit' });

// Ctrl-C reaches the command too (same process group): wait for it to end, then stop the hogs on the way out.
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(signal, () => {
    stopHogs();
    run.kill(signal);
  });
}

run.on('error', (error) => {
  console.error(`stress: could not start ${program}: ${error.message}`);
  stopHogs();
  process.exit(127);
});

run.on('exit', (code, signal) => {
  stopHogs();
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  const status = code ?? 1;
  const outcome = status === 0 ? 'passed' : `failed (${signal ? `signal ${signal}` : `exit ${status}`})`;
  console.log(`stress: ${line} ${outcome} in ${seconds} s under ${hogCount} CPU hog(s)`);
  process.exit(status);
});
