/**
 * Every entry imports where there is no DOM (docs/frameworks.md): Next.js, Nuxt, SvelteKit and Angular evaluate the
 * modules of client components on the server, and a Worker, Deno or Bun may import the element's types' module. Each
 * built entry of package.json's `exports` is imported in a Node process of its own (one entry cannot hide another's
 * fault by leaving a global behind), and must leave no browser global behind it; the classic script runs in a context
 * with the Web globals a server runtime has and none of the DOM's. Run after `npm run build` (npm test does).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import vm from 'node:vm';

const ROOT = path.resolve(import.meta.dirname, '../..');
const manifest = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as {
  exports: Record<string, string | { default?: string }>;
};

const entries = Object.entries(manifest.exports)
  .map(([name, target]) => [name, typeof target === 'string' ? target : target.default] as const)
  .filter((entry): entry is readonly [string, string] => !!entry[1] && entry[1].endsWith('.js'));

/** Imports `file` in a fresh Node and prints which DOM globals exist afterwards. */
const PROBE = `
const entry = await import(process.argv[1]);
const leaked = ['window', 'document', 'HTMLElement', 'Element', 'Node'].filter((name) => name in globalThis);
console.log(JSON.stringify({ exports: Object.keys(entry), leaked }));
`;

describe('every entry imports on a server', () => {
  for (const [name, file] of entries) {
    it(`${name} (${file}) imports in Node, with no DOM global left behind`, () => {
      const absolute = path.join(ROOT, file);
      assert.ok(existsSync(absolute), `${file} is missing: run npm run build first`);
      const result = spawnSync(process.execPath, ['--input-type=module', '-e', PROBE, absolute], {
        encoding: 'utf8',
        timeout: 30_000,
      });
      assert.equal(result.status, 0, `import of ${file} failed:\n${result.stderr}`);
      const { exports, leaked } = JSON.parse(result.stdout.trim().split('\n').at(-1)!) as {
        exports: string[];
        leaked: string[];
      };
      assert.deepEqual(leaked, [], `${file} (exports: ${exports.join(', ') || 'types only'}) left DOM globals`);
    });
  }

  it('the all-in module defines nothing where there is no registry, and exports the class', async () => {
    const result = spawnSync(
      process.execPath,
      [
        '--input-type=module',
        '-e',
        `const { SecureWidget } = await import(process.argv[1]);
         console.log(typeof SecureWidget, typeof SecureWidget.define, 'customElements' in globalThis);`,
        path.join(ROOT, 'dist/secure-widget.js'),
      ],
      { encoding: 'utf8', timeout: 30_000 },
    );
    assert.equal(result.status, 0, result.stderr);
    assert.equal(result.stdout.trim(), 'function function false');
  });

  it("the classic script runs with a server runtime's Web globals and no DOM", () => {
    const script = readFileSync(path.join(ROOT, 'dist/secure-widget.classic.js'), 'utf8');
    const { TextEncoder, TextDecoder, URL, AbortController, EventTarget, Event, DOMException, queueMicrotask } =
      globalThis;
    const context = vm.createContext({
      ...{ TextEncoder, TextDecoder, URL, AbortController, EventTarget, Event, DOMException, queueMicrotask },
      console,
    });
    vm.runInContext(script, context, { filename: 'secure-widget.classic.js' });
    assert.equal(
      typeof (context as { SecureWidget?: { SecureWidget?: unknown } }).SecureWidget?.SecureWidget,
      'function',
    );
  });
});
