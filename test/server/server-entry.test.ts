/**
 * `secure-widget/server` is for every runtime (docs/design.md, "Server rendering and runtimes"): the built entry
 * imports no `node:` module, statically or dynamically, so that workerd starts it without a compatibility flag.
 * (scripts/build.mjs builds it platform-neutral, for the Node version of `engines`; this reads what it built.) Needs
 * `npm run build`.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import ts from 'typescript';

const ROOT = path.resolve(import.meta.dirname, '../..');
const DIST_SERVER = path.join(ROOT, 'dist/server.js');
const project = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as {
  dependencies: Record<string, string>;
};

/**
 * Every module `code` names: `import`/`export … from`, `import()` and `require()` (TypeScript's own reading, as the
 * layout test's), and any string that names a Node built-in however it is loaded (`process.getBuiltinModule`).
 */
function modulesNamed(code: string): string[] {
  const imported = ts.preProcessFile(code, true, true).importedFiles.map(({ fileName }) => fileName);
  const builtins = [...code.matchAll(/["'`](node:[\w/]+)["'`]/g)].map((match) => match[1]!);
  return [...new Set([...imported, ...builtins])];
}

describe('the built secure-widget/server imports no node: module', () => {
  const code = existsSync(DIST_SERVER) ? readFileSync(DIST_SERVER, 'utf8') : null;

  it('imports only its dependencies, none of them node:', () => {
    assert.ok(code !== null, 'dist/server.js is missing: run `npm run build` before this test');
    const named = modulesNamed(code);
    assert.deepEqual(
      named.filter((specifier) => specifier.startsWith('node:')),
      [],
      'dist/server.js names a node: module',
    );
    // Everything else is bundled; what stays external is a dependency the package declares (jose).
    assert.deepEqual(
      named.filter((specifier) => !Object.hasOwn(project.dependencies, specifier)),
      [],
    );
  });

  it('the check catches a static, a dynamic and a require import, and getBuiltinModule', () => {
    const sample = [
      'import { createPrivateKey } from "node:crypto";',
      'export { x } from "node:fs";',
      'const http = await import("node:http");',
      "const os = require('node:os');",
      "const net = process.getBuiltinModule?.('node:net');",
    ].join('\n');
    assert.deepEqual(modulesNamed(sample).sort(), ['node:crypto', 'node:fs', 'node:http', 'node:net', 'node:os']);
  });
});
