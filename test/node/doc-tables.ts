/**
 * What the docs tests read from Markdown and from the code: a table's first column, a union type's members, the
 * element's entry in custom-elements.json. One reading each, shared by manifest.test.ts and docs.test.ts.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import ts from 'typescript';

export const ROOT = path.resolve(import.meta.dirname, '../..');

export interface ElementManifest {
  tagName?: string;
  attributes?: { name: string }[];
  events?: { name: string }[];
}

/** `<secure-widget>`'s declaration in custom-elements.json, analyzed afresh from the source. */
export function elementManifest(): ElementManifest {
  execFileSync(path.join(ROOT, 'node_modules/.bin/cem'), ['analyze', '--quiet'], { cwd: ROOT });
  const manifest = JSON.parse(readFileSync(path.join(ROOT, 'custom-elements.json'), 'utf8')) as {
    modules: { declarations?: ElementManifest[] }[];
  };
  const element = manifest.modules
    .flatMap((module) => module.declarations ?? [])
    .find((declaration) => declaration.tagName === 'secure-widget');
  assert.ok(element, 'custom-elements.json declares <secure-widget>');
  return element;
}

/**
 * The backticked names in the first column of the table (in `file`, from the repository's root) whose header row
 * starts with `| header`; text in parentheses is left out ("`token-endpoint` (`tokenEndpoint`)").
 */
export function tableColumn(file: string, header: string): Set<string> {
  const lines = readFileSync(path.join(ROOT, file), 'utf8').split('\n');
  const start = lines.findIndex((line) => line.startsWith(`| ${header}`));
  assert.notEqual(start, -1, `${file} has a table starting with "| ${header}"`);
  const names = new Set<string>();
  for (const line of lines.slice(start + 2)) {
    if (!line.startsWith('|')) break;
    const cell = line.split('|')[1]!.replace(/\([^)]*\)/g, '');
    for (const [, name] of cell.matchAll(/`([^`]+)`/g)) names.add(name!);
  }
  return names;
}

/** The type alias `name` declared in `file`, as the compiler sees it. */
function aliasType(file: string, name: string): { checker: ts.TypeChecker; type: ts.Type } {
  const absolute = path.join(ROOT, file);
  const program = ts.createProgram([absolute], {
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.ESNext,
    moduleResolution: ts.ModuleResolutionKind.Bundler,
    lib: ['lib.es2023.d.ts', 'lib.dom.d.ts'],
    strict: true,
    skipLibCheck: true,
    noEmit: true,
  });
  const checker = program.getTypeChecker();
  const alias = program
    .getSourceFile(absolute)!
    .statements.find(
      (statement): statement is ts.TypeAliasDeclaration =>
        ts.isTypeAliasDeclaration(statement) && statement.name.text === name,
    );
  assert.ok(alias, `${file} declares ${name}`);
  return { checker, type: checker.getTypeAtLocation(alias.name) };
}

/** The string members of the union type `name` declared in `file`. */
export function unionMembers(file: string, name: string): Set<string> {
  const { type } = aliasType(file, name);
  const members = type.isUnion() ? type.types : [type];
  return new Set(
    members.filter((member) => member.isStringLiteral()).map((member) => (member as ts.StringLiteralType).value),
  );
}

/** The names of the properties of the type `name` declared in `file` (a mapped type included). */
export function typeKeys(file: string, name: string): Set<string> {
  const { checker, type } = aliasType(file, name);
  return new Set(checker.getPropertiesOfType(type).map((property) => property.name));
}
