#!/usr/bin/env node
// `npm run build`: every file of the package, step by step, each named, timed, and stopping the build at the first
// that fails. The browser builds target ES2022 (vite.config.ts says why); the server builds target the Node version
// of package.json's `engines`, read from there so that the two can never disagree. `node scripts/build.mjs <name>…`
// runs only the named steps (`node scripts/build.mjs server declarations`).
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { build as esbuild } from 'esbuild';
import { build as vite } from 'vite';

const ROOT = path.resolve(import.meta.dirname, '..');
const BIN = path.join(ROOT, 'node_modules/.bin');
const { engines } = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8'));
/** `>=20.12` → `node20.12`: the oldest Node the package promises to run on. */
const NODE_TARGET = `node${/(\d+(?:\.\d+){0,2})/.exec(engines.node)[1]}`;

function run(command, args) {
  const result = spawnSync(path.join(BIN, command), args, { cwd: ROOT, stdio: 'inherit' });
  if (result.status !== 0)
    throw new Error(`${command} ${args.join(' ')} exited with ${result.status ?? result.signal}`);
}

const esbuildDefaults = { absWorkingDir: ROOT, format: 'esm', logLevel: 'warning' };

const STEPS = {
  /** dist/secure-widget.js (all-in ES module) and dist/secure-widget.classic.js (IIFE), with Lit and jose inside. */
  element: () => vite({ root: ROOT, logLevel: 'warn' }),
  /** dist/element.js: the same element with @lit/reactive-element and jose left to the app's bundler. */
  'element-external': () => vite({ root: ROOT, mode: 'element', logLevel: 'warn' }),
  /** dist/frame.js: secure-widget/frame, the vendor's side; no dependency. */
  frame: () =>
    esbuild({
      ...esbuildDefaults,
      entryPoints: ['src/frame/index.ts'],
      bundle: true,
      minify: true,
      target: 'es2022',
      outfile: 'dist/frame.js',
    }),
  /** dist/frameworks/: secure-widget/react (the component, 'use client' kept) and secure-widget/vue (types). */
  frameworks: () =>
    esbuild({
      ...esbuildDefaults,
      entryPoints: ['src/element/frameworks/react.ts', 'src/element/frameworks/vue.ts'],
      target: 'es2022',
      outdir: 'dist/frameworks',
    }),
  /**
   * dist/server.js: secure-widget/server. Platform-neutral (no `node:` import; it runs on workerd, Deno and Bun too),
   * dependencies left to the app.
   */
  server: () =>
    esbuild({
      ...esbuildDefaults,
      entryPoints: ['src/server/index.ts'],
      bundle: true,
      platform: 'neutral',
      target: NODE_TARGET,
      packages: 'external',
      outfile: 'dist/server.js',
    }),
  /** dist/server-redis.js: secure-widget/server/redis, for Node with node-redis. */
  'server-redis': () =>
    esbuild({
      ...esbuildDefaults,
      entryPoints: ['src/server/redis/index.ts'],
      bundle: true,
      platform: 'node',
      target: NODE_TARGET,
      packages: 'external',
      outfile: 'dist/server-redis.js',
    }),
  /** dist/types/: the declarations of every entry. */
  declarations: () => run('tsc', ['-p', 'tsconfig.build.json']),
  /** custom-elements.json, from the element's source and its JSDoc. */
  manifest: () => run('cem', ['analyze', '--quiet']),
};

const wanted = process.argv.slice(2);
const unknown = wanted.filter((name) => !(name in STEPS));
if (unknown.length > 0) {
  console.error(`build: no step named ${unknown.join(', ')}; the steps are ${Object.keys(STEPS).join(', ')}`);
  process.exit(2);
}
const started = performance.now();
for (const [name, step] of Object.entries(STEPS)) {
  if (wanted.length > 0 && !wanted.includes(name)) continue;
  const at = performance.now();
  try {
    await step();
  } catch (error) {
    console.error(`build: step "${name}" failed: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  }
  console.log(`build: ${name.padEnd(17)} ${Math.round(performance.now() - at)} ms`);
}
console.log(`build: done in ${((performance.now() - started) / 1000).toFixed(1)} s (server target ${NODE_TARGET})`);
