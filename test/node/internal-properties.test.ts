/**
 * The element's bundles shorten property names (vite.config.ts), by a convention the code carries: the members of a
 * declaration marked `@internal` (scripts/internal-properties.ts). A renamed name that anything public also used would
 * break a page, a vendor or Lit, so this checks the plan against what the package, the platform, Lit and jose name,
 * and checks the built bundles against the plan. Needs `npm run build` first.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { declaredMembers, libraryNames, renamingPlan } from '../../scripts/internal-properties.js';

const ROOT = path.resolve(import.meta.dirname, '../..');
const plan = renamingPlan();

/** The members of every declaration of the package's public types (dist/types) not marked `@internal`. */
function publicNames(): Set<string> {
  const dir = path.join(ROOT, 'dist/types');
  const names = new Set<string>();
  for (const entry of readdirSync(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile() || !entry.name.endsWith('.d.ts')) continue;
    for (const declaration of declaredMembers(path.join(entry.parentPath, entry.name))) {
      if (declaration.internal) continue;
      for (const [name, internal] of declaration.members) if (!internal) names.add(name);
    }
  }
  return names;
}

describe('property renaming: @internal members only', () => {
  it('renames the internal state of the element (its phases, effects and handles)', () => {
    for (const name of ['phase', 'grant', 'announceToken', 'subscriberCount', 'brokers', 'tokenClock']) {
      assert.ok(plan.renamed.includes(name), `${name} is renamed`);
    }
  });

  it('renames no member of the public types, as built', () => {
    const shared = plan.renamed.filter((name) => publicNames().has(name));
    assert.deepEqual(shared, [], 'public members would be renamed');
  });

  it('renames no name the platform, Lit or jose uses', () => {
    const library = libraryNames();
    assert.deepEqual(
      plan.renamed.filter((name) => library.has(name)),
      [],
    );
    // The exclusion is not idle: internal objects do carry such names, and they stay.
    for (const name of ['name', 'type', 'token', 'reload']) assert.ok(plan.kept.has(name), `${name} is kept`);
  });

  it('the bundles were built with this plan: no renamed name is left in them', () => {
    for (const file of ['dist/secure-widget.js', 'dist/secure-widget.classic.js', 'dist/element.js']) {
      const code = readFileSync(path.join(ROOT, file), 'utf8');
      const left = plan.renamed.filter((name) => new RegExp(`[.{,]\\s*${name}\\b(?!\\()`).test(code));
      assert.deepEqual(left, [], `${file} still names them: run npm run build`);
    }
  });
});
