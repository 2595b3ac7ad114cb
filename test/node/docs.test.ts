/**
 * The reference docs list what the code defines: docs/element.md's attribute, event and error-code tables name
 * exactly the attributes and events of custom-elements.json (generated from the element's source) and the members of
 * `SecureWidgetErrorCode`; docs/design.md's layout names every file of src/.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { ROOT, elementManifest, tableColumn, unionMembers } from './doc-tables.js';

const sorted = (names: Iterable<string>) => [...names].sort();

describe('docs/element.md lists what the code defines', () => {
  const element = elementManifest();

  it('the attributes (first column of the attribute table; the property-only rows have none)', () => {
    const documented = [...tableColumn('docs/element.md', 'attribute')].filter((name) => name !== '—');
    assert.deepEqual(sorted(documented), sorted(element.attributes!.map((attribute) => attribute.name)));
  });

  it('the events', () => {
    assert.deepEqual(
      sorted(tableColumn('docs/element.md', 'event')),
      sorted(element.events!.map((event) => event.name)),
    );
  });

  it('the error codes', () => {
    assert.deepEqual(
      sorted(tableColumn('docs/element.md', 'code')),
      sorted(unionMembers('src/element/errors.ts', 'SecureWidgetErrorCode')),
    );
  });
});

/** The first fenced block after the heading `heading` in `file`. */
function blockAfter(file: string, heading: string): string {
  const text = readFileSync(path.join(ROOT, file), 'utf8');
  const at = text.indexOf(`\n${heading}\n`);
  assert.notEqual(at, -1, `${file} has a "${heading}" section`);
  const [, block] = /```[^\n]*\n([\s\S]*?)```/.exec(text.slice(at)) ?? [];
  assert.ok(block, `${file}'s "${heading}" section has a fenced block`);
  return block;
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? sourceFiles(path.join(dir, entry.name)) : entry.name.endsWith('.ts') ? [entry.name] : [],
  );
}

describe('the layouts of the docs name every file of src/', () => {
  const files = [...new Set(sourceFiles(path.join(ROOT, 'src')))].sort();
  // README points to docs/design.md's layout rather than repeating it: one home per fact.
  for (const [file, heading] of [['docs/design.md', '## Layout']] as const) {
    it(`${file}, "${heading}"`, () => {
      const block = blockAfter(file, heading);
      assert.deepEqual(
        files.filter((name) => !new RegExp(`\\b${name.replace('.', '\\.')}\\b`).test(block)),
        [],
      );
    });
  }
});

describe('the docs stand on their own', () => {
  const docs = [
    'README.md',
    'SECURITY.md',
    ...readdirSync(path.join(ROOT, 'docs')).map((name) => `docs/${name}`),
  ].filter((file) => file.endsWith('.md'));
  it('no doc cites an issue number or a file outside the repository', () => {
    const found = docs.flatMap((file) =>
      readFileSync(path.join(ROOT, file), 'utf8')
        .split('\n')
        .flatMap((line, index) =>
          /\bissues? \d|TOOLING\.md|\.\.\/shared\//i.test(line)
            ? [`${file}:${index + 1}: ${line.trim().slice(0, 80)}`]
            : [],
        ),
    );
    assert.deepEqual(found, []);
  });

  it('README is a front door: the quick starts and the figures, the reference in docs/', () => {
    const lines = readFileSync(path.join(ROOT, 'README.md'), 'utf8').split('\n').length;
    assert.ok(lines <= 240, `README.md has ${lines} lines: move the details to a doc under docs/ and link it`);
  });
});
