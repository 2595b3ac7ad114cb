#!/usr/bin/env node
// `npm test`: every test, in named steps. First, in order: a browser to test in (chromium), the formatter and linter
// (lint: Biome, biome.json), the type check, the build. Then two lanes at once: the package, the browser tests and the server tests in one, the framework examples in the other
// (each installs, builds and serves a real app: mostly downloads and child processes, which overlap well with the
// browser tests; `npm test` stays within 10 minutes on a 2-core machine). The first lane prints as it goes; the
// second prints its output when it ends. Exits 1 when any step failed, naming each. `node scripts/test.mjs <step>…`
// runs only those steps (`node scripts/test.mjs server frameworks`).
import { spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import path from 'node:path';

const ROOT = path.resolve(import.meta.dirname, '..');
const FRAMEWORKS = ['nextjs', 'nuxt', 'sveltekit', 'astro', 'angular'];
const frameworkTests = FRAMEWORKS.map((name) => `test/server/example-${name}.test.ts`);
const serverTests = readdirSync(path.join(ROOT, 'test/server'))
  .filter((name) => name.endsWith('.test.ts'))
  .map((name) => `test/server/${name}`)
  .filter((file) => !frameworkTests.includes(file));

const STEPS = {
  chromium: ['node', 'test/support/chromium.mjs'],
  lint: ['npm', 'run', 'lint'],
  typecheck: ['npm', 'run', 'typecheck'],
  build: ['npm', 'run', 'build'],
  package: ['npm', 'run', 'test:package'],
  'browser-tests': ['npm', 'run', 'test:browser'],
  server: ['node', '--import', 'tsx', '--test', ...serverTests, 'test/node/*.test.ts'],
  frameworks: ['node', '--import', 'tsx', '--test', ...frameworkTests],
};
const FIRST = ['chromium', 'lint', 'typecheck', 'build'];
const LANES = [['package', 'browser-tests', 'server'], ['frameworks']];

const wanted = process.argv.slice(2);
const unknown = wanted.filter((name) => !(name in STEPS));
if (unknown.length > 0) {
  console.error(`test: no step named ${unknown.join(', ')}; the steps are ${Object.keys(STEPS).join(', ')}`);
  process.exit(2);
}
const runs = (name) => wanted.length === 0 || wanted.includes(name);
const failed = [];
const started = performance.now();
const seconds = (since) => `${((performance.now() - since) / 1000).toFixed(0)} s`;

/** Runs one step; `live` prints its output as it comes, else it is printed, whole, once the step ends. */
function step(name, live) {
  const [command, ...args] = STEPS[name];
  const at = performance.now();
  return new Promise((resolve) => {
    // A shell expands test/node/*.test.ts as npm's scripts would; the arguments are ours, never a user's.
    const child = spawn([command, ...args].join(' '), { cwd: ROOT, shell: true, stdio: live ? 'inherit' : 'pipe' });
    const output = [];
    child.stdout?.on('data', (chunk) => output.push(chunk));
    child.stderr?.on('data', (chunk) => output.push(chunk));
    child.on('close', (code, signal) => {
      if (!live) process.stdout.write(Buffer.concat(output));
      const ok = code === 0;
      if (!ok) failed.push(name);
      console.log(`test: ${name} ${ok ? 'passed' : `FAILED (${code ?? signal})`} in ${seconds(at)}`);
      resolve(ok);
    });
  });
}

for (const name of FIRST) {
  if (runs(name) && !(await step(name, true))) {
    console.error(`test: stopped: ${name} failed, and every later step needs it`);
    process.exit(1);
  }
}
await Promise.all(
  LANES.map(async (lane, index) => {
    for (const name of lane) if (runs(name)) await step(name, index === 0);
  }),
);
console.log(`test: ${failed.length === 0 ? 'all passed' : `FAILED: ${failed.join(', ')}`} in ${seconds(started)}`);
process.exit(failed.length === 0 ? 0 : 1);
