/**
 * custom-elements.json from the element's own source: the analyzer reads the JSDoc (@fires, @slot, @csspart, the
 * members' comments); this plugin adds the attributes from the one table that defines them (PROPERTIES in
 * src/element/properties.ts), plus the attributes the element reads once and removes (CONSUMED_ATTRIBUTES) and the
 * built-in ones it gives a meaning (`nonce`, `title`, `defer-hydration`) and reflects (`status`), so that the manifest
 * cannot drift from the code. properties.ts itself is read for its table only: it is no module of the manifest.
 */
const TABLE = 'src/element/properties.ts';
const BUILT_IN = [
  ['nonce', 'nonce', "CSP nonce for the injected vendor script; by default the nonce of the page's own scripts."],
  ['title', 'title', 'Iframe mode: the frame\'s accessible name; default "Embedded widget".'],
  ['status', 'status', 'Read-only, reflected: loading, ready, refreshing or error.'],
  [
    'defer-hydration',
    undefined,
    'Server-rendered markup a framework has yet to hydrate: while present the element starts and changes nothing.',
  ],
];

function unwrap(ts, node) {
  while (node && (ts.isAsExpression(node) || ts.isSatisfiesExpression(node) || ts.isParenthesizedExpression(node))) {
    node = node.expression;
  }
  return node;
}

function arrayOfStrings(ts, node) {
  return ts.isArrayLiteralExpression(node) ? node.elements.filter(ts.isStringLiteral).map((e) => e.text) : [];
}

function secureWidgetAttributes() {
  const found = [];
  return {
    name: 'secure-widget-attributes',
    analyzePhase({ ts, node }) {
      if (!ts.isVariableDeclaration(node) || !ts.isIdentifier(node.name)) return;
      const value = unwrap(ts, node.initializer);
      if (node.name.text === 'CONSUMED_ATTRIBUTES') {
        for (const name of arrayOfStrings(ts, value)) {
          found.push([name, name.replace(/-(\w)/g, (_, letter) => letter.toUpperCase())]);
        }
      }
      if (node.name.text !== 'PROPERTIES' || !value || !ts.isObjectLiteralExpression(value)) return;
      for (const property of value.properties) {
        if (ts.isPropertyAssignment(property) && ts.isStringLiteral(property.initializer)) {
          found.push([property.initializer.text, property.name.getText()]);
        }
      }
    },
    packageLinkPhase({ customElementsManifest }) {
      customElementsManifest.modules = customElementsManifest.modules.filter((module) => module.path !== TABLE);
      for (const module of customElementsManifest.modules) {
        for (const declaration of module.declarations ?? []) {
          if (declaration.name !== 'SecureWidget') continue;
          const members = new Map((declaration.members ?? []).map((member) => [member.name, member]));
          declaration.attributes = [
            ...found.map(([name, fieldName]) => ({
              name,
              fieldName,
              ...(members.get(fieldName)?.description && { description: members.get(fieldName).description }),
              ...(members.get(fieldName)?.type && { type: members.get(fieldName).type }),
            })),
            ...BUILT_IN.map(([name, fieldName, description]) => ({
              name,
              ...(fieldName && { fieldName }),
              description,
            })),
          ];
        }
      }
    },
  };
}

export default {
  globs: ['src/element/secure-widget.ts', TABLE],
  outdir: '.',
  plugins: [secureWidgetAttributes()],
};
