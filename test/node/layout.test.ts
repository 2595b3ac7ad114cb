/**
 * The layout is the architecture (docs/design.md, "Layout"): three sides and what they share. A side imports only its
 * own folder and `protocol/`; `protocol/` imports nothing of ours but itself, and no package but jose. This test reads every import of `src/`
 * with TypeScript's own pre-processor (the same reading the compiler makes) and fails on one that crosses a line.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import ts from 'typescript';

const SRC = path.resolve(import.meta.dirname, '../../src');

/** For each top-level part of src/, the parts of ours it may import, and the packages it may import. */
const RULES: Record<string, { parts: string[]; packages: RegExp }> = {
  'index.ts': { parts: ['element'], packages: /^$/ },
  element: { parts: ['element', 'protocol'], packages: /^(@lit\/reactive-element|jose)$/ },
  frame: { parts: ['frame', 'protocol'], packages: /^$/ },
  server: { parts: ['server', 'protocol'], packages: /^(jose|node:.+)$/ },
  // jose only to decode a JWT's claims (token-read.ts), for the element and the server, which carry jose anyway; the
  // frame helper imports none of it (its size budget would show).
  protocol: { parts: ['protocol'], packages: /^jose$/ },
};

/**
 * Packages one folder may import on top of its part's: `redis`, React's types and Vue are optional peers, so only the
 * entries made for them may name them (`secure-widget/server/redis`, `secure-widget/react`, `secure-widget/vue`), and
 * the others work without them.
 */
const FOLDER_PACKAGES: Record<string, RegExp> = {
  [path.join('server', 'redis')]: /^(redis|@redis\/client)$/,
  // The framework entries (`secure-widget/react`, `secure-widget/vue`): they augment the framework's own types, and
  // the React component wraps the element, imported by its package name so that an app holds one copy of it.
  [path.join('element', 'frameworks')]: /^(react|vue|@lit\/react|secure-widget)$/,
};

function folderAllows(name: string, specifier: string): boolean {
  return Object.entries(FOLDER_PACKAGES).some(
    ([folder, packages]) => name.startsWith(folder + path.sep) && packages.test(specifier),
  );
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(full);
    return entry.name.endsWith('.ts') ? [full] : [];
  });
}

function partOf(file: string): string {
  const [first] = path.relative(SRC, file).split(path.sep);
  return first!;
}

interface Violation {
  file: string;
  specifier: string;
}

function violations(): Violation[] {
  const found: Violation[] = [];
  for (const file of sourceFiles(SRC)) {
    const rule = RULES[partOf(file)];
    const name = path.relative(SRC, file);
    if (!rule) {
      found.push({ file: name, specifier: '(a part of src/ with no rule: add it to RULES and docs/design.md)' });
      continue;
    }
    const { importedFiles } = ts.preProcessFile(readFileSync(file, 'utf8'), true, true);
    for (const { fileName: specifier } of importedFiles) {
      if (specifier.startsWith('.')) {
        const target = path.resolve(path.dirname(file), specifier);
        const inside = target.startsWith(SRC + path.sep);
        if (!inside || !rule.parts.includes(partOf(target))) found.push({ file: name, specifier });
      } else if (!rule.packages.test(specifier) && !folderAllows(name, specifier)) {
        found.push({ file: name, specifier });
      }
    }
  }
  return found;
}

describe('the layout shows the three sides', () => {
  it('src/ holds exactly the element, the frame, the server, the protocol and the entry', () => {
    const parts = readdirSync(SRC).sort();
    assert.deepEqual(parts, ['element', 'frame', 'index.ts', 'protocol', 'server']);
  });

  it('frame/ and server/ import only from protocol/ and themselves; protocol/ only from itself', () => {
    assert.deepEqual(violations(), []);
  });

  it('redis is allowed in server/redis/ only', () => {
    assert.equal(folderAllows(path.join('server', 'redis', 'index.ts'), 'redis'), true);
    assert.equal(folderAllows(path.join('server', 'token-handler.ts'), 'redis'), false);
    assert.equal(RULES.server!.packages.test('redis'), false);
  });

  it('no import cycle anywhere in src/ (type-only imports count: a cycle is one concern in two files)', () => {
    const graph = new Map<string, string[]>();
    for (const file of sourceFiles(SRC)) {
      const { importedFiles } = ts.preProcessFile(readFileSync(file, 'utf8'), true, true);
      const local = importedFiles.map(({ fileName }) => fileName).filter((specifier) => specifier.startsWith('.'));
      graph.set(
        file,
        local.map((specifier) => path.resolve(path.dirname(file), specifier).replace(/\.js$/, '.ts')),
      );
    }
    const cycles: string[] = [];
    const state = new Map<string, 'open' | 'done'>();
    const stack: string[] = [];
    const visit = (file: string): void => {
      state.set(file, 'open');
      stack.push(file);
      for (const next of graph.get(file) ?? []) {
        if (state.get(next) === 'open') {
          cycles.push([...stack.slice(stack.indexOf(next)), next].map((name) => path.relative(SRC, name)).join(' → '));
        } else if (!state.has(next)) visit(next);
      }
      stack.pop();
      state.set(file, 'done');
    };
    for (const file of graph.keys()) if (!state.has(file)) visit(file);
    assert.deepEqual(cycles, [], 'move what both files need into a leaf module they both import');
  });

  it('the check itself catches a crossing import', () => {
    const { importedFiles } = ts.preProcessFile("import { x } from '../element/errors.js';", true, true);
    const target = path.resolve(SRC, 'server', importedFiles[0]!.fileName);
    assert.equal(RULES.server!.parts.includes(partOf(target)), false);
  });
});
