// The property names the element's bundles may shorten, read from the source rather than kept by hand: the members
// of every interface, type and class of src/element/ and src/protocol/ whose doc comment carries `@internal` (the
// TypeScript convention for "not part of the public API"). Such an object is made and read by our own code only, so
// its member names can be renamed consistently across a bundle, unless something public uses the same name (a type
// of ours not marked `@internal`, the DOM, the ECMAScript library, Lit or jose): such a name stays as it is.
// vite.config.ts builds its `mangleProps` rule from renamingPlan(); test/node/internal-properties.test.ts checks the
// plan against the built public types and the libraries, and the built bundles against the plan.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import ts from 'typescript';

const ROOT = path.resolve(import.meta.dirname, '..');

/** A member's name, and whether the member itself is marked `@internal`. */
type Member = [name: string, internal: boolean];

export interface Declaration {
  file: string;
  /** Marked `@internal`, or a type literal inside something that is. */
  internal: boolean;
  members: Member[];
}

/** What the browser bundles are made of (the framework wrappers are built apart, unminified). */
export const MANGLED_SOURCES = ['src/element', 'src/protocol'].map((dir) => path.join(ROOT, dir));

/** The TypeScript files below `dir`; the framework wrappers only with `all` (they are built apart, unminified). */
export function sourceFiles(dir: string, all = false): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return entry.name === 'frameworks' && !all ? [] : sourceFiles(full, all);
    return entry.name.endsWith('.ts') ? [full] : [];
  });
}

function isInternal(node: ts.Node): boolean {
  return ts.getJSDocTags(node).some((tag) => tag.tagName.text === 'internal');
}

function insideInternal(node: ts.Node): boolean {
  for (let parent = node.parent; parent; parent = parent.parent) if (isInternal(parent)) return true;
  return false;
}

/** The names of the members a type node declares: a literal's, a union's or an intersection's parts'. */
function typeMembers(type: ts.TypeNode | undefined): ts.TypeElement[] {
  if (!type) return [];
  if (ts.isTypeLiteralNode(type)) return [...type.members];
  if (ts.isUnionTypeNode(type) || ts.isIntersectionTypeNode(type)) return type.types.flatMap(typeMembers);
  if (ts.isParenthesizedTypeNode(type)) return typeMembers(type.type);
  return [];
}

/**
 * `[name, marked @internal itself]` for a member with a plain name; `#private` names are renamed by the minifier
 * already, and computed and quoted names are never renamed.
 */
function member(node: ts.ClassElement | ts.TypeElement): Member | null {
  const { name } = node;
  return name && ts.isIdentifier(name) ? [name.text, isInternal(node)] : null;
}

/** Each declaration of `file`, with whether it is marked `@internal`, and its members. */
export function declaredMembers(file: string): Declaration[] {
  const source = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, true);
  const found: Declaration[] = [];
  const visit = (node: ts.Node): void => {
    let members: readonly (ts.ClassElement | ts.TypeElement)[] | null = null;
    if (ts.isInterfaceDeclaration(node) || ts.isClassDeclaration(node) || ts.isClassExpression(node)) {
      members = node.members;
    } else if (ts.isTypeAliasDeclaration(node)) {
      members = typeMembers(node.type);
    } else if (ts.isTypeLiteralNode(node) && !ts.isTypeAliasDeclaration(node.parent)) {
      members = node.members;
    }
    if (members) {
      // A type literal inside an @internal declaration is part of it: its members are renamed with the rest.
      const internal = isInternal(node) || (ts.isTypeLiteralNode(node) && insideInternal(node));
      found.push({ file, internal, members: members.map(member).filter((entry) => entry !== null) });
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found;
}

/** Every file of a folder below node_modules whose name ends with one of `endings`. */
function packageFiles(dir: string, endings: string[]): string[] {
  const full = path.join(ROOT, 'node_modules', dir);
  return readdirSync(full, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile() && endings.some((ending) => entry.name.endsWith(ending)))
    .map((entry) => path.join(entry.parentPath, entry.name));
}

/**
 * Names the platform, Lit and jose use as properties: every member declared in TypeScript's library (the DOM,
 * ECMAScript) and in the two packages' types, and, over-read on purpose, any identifier after a dot or before a colon
 * in the packages' code. A name read here without need only stays long; one missed would break a page.
 */
export function libraryNames(): Set<string> {
  const names = new Set<string>();
  const declarations = [
    ...packageFiles('typescript/lib', ['.d.ts']).filter((file) => path.basename(file).startsWith('lib.')),
    ...packageFiles('@lit/reactive-element', ['.d.ts']),
    ...packageFiles('jose/dist/types', ['.d.ts']),
  ];
  for (const file of declarations) {
    for (const declaration of declaredMembers(file)) for (const [name] of declaration.members) names.add(name);
  }
  const code = [
    ...packageFiles('@lit/reactive-element', ['.js']).filter((file) => !file.includes(`${path.sep}node${path.sep}`)),
    ...packageFiles('jose/dist/webapi', ['.js']),
  ];
  for (const file of code) {
    const text = readFileSync(file, 'utf8');
    for (const [, name] of text.matchAll(/\.\s*([A-Za-z_$][\w$]*)/g)) names.add(name);
    for (const [, name] of text.matchAll(/([A-Za-z_$][\w$]*)\s*:/g)) names.add(name);
  }
  return names;
}

/**
 * What the bundles rename: the members of `@internal` declarations (or members marked `@internal` themselves), less
 * every name that something public also uses: a member of our own that is not `@internal` (anywhere in src/, so the
 * server's and the frame's shapes count too), or a name of the platform, Lit or jose. `kept` says why a name stays.
 */
export function renamingPlan(): { renamed: string[]; kept: Map<string, string> } {
  const internal = new Set<string>();
  const ours = new Set<string>();
  for (const file of sourceFiles(path.join(ROOT, 'src'), true)) {
    const bundled = MANGLED_SOURCES.some((dir) => file.startsWith(dir + path.sep));
    for (const declaration of declaredMembers(file)) {
      for (const [name, memberInternal] of declaration.members) {
        if (bundled && (declaration.internal || memberInternal)) internal.add(name);
        else ours.add(name);
      }
    }
  }
  const library = libraryNames();
  const renamed: string[] = [];
  const kept = new Map<string, string>();
  for (const name of [...internal].sort()) {
    if (ours.has(name)) kept.set(name, 'a public member of ours has it too');
    else if (library.has(name)) kept.set(name, 'the platform, Lit or jose uses it');
    else renamed.push(name);
  }
  return { renamed, kept };
}
