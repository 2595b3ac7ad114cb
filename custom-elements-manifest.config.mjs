/**
 * custom-elements.json from the element's own source: the analyzer reads the JSDoc (@fires, @slot, @csspart, the
 * members' comments); this plugin adds the attributes from the one table that defines them (PROPERTIES in
 * src/element/secure-widget.ts), plus the attributes the element reads once and removes (CONSUMED) and the built-in
 * ones it gives a meaning (`nonce`, `title`) and reflects (`status`), so that the manifest cannot drift from the code.
 */
const BUILT_IN = [
  ['nonce', 'nonce', 'CSP nonce for the injected vendor script; by default the nonce of the page\'s own scripts.'],
  ['title', 'title', 'Iframe mode: the frame\'s accessible name; default "Embedded widget".'],
  ['status', 'status', 'Read-only, reflected: loading, ready, refreshing or error.'],
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
      if (node.name.text === 'CONSUMED') {
        for (const name of arrayOfStrings(ts, value)) {
          found.push([name, name.replace(/-(\w)/g, (_, letter) => letter.toUpperCase())]);
        }
      }
      if (node.name.text !== 'PROPERTIES' || !value || !ts.isObjectLiteralExpression(value)) return;
      for (const property of value.properties) {
        if (!ts.isPropertyAssignment(property) || !ts.isArrayLiteralExpression(property.initializer)) continue;
        const field = property.name.getText();
        const [attribute] = property.initializer.elements;
        if (ts.isStringLiteral(attribute)) found.push([attribute.text, field]);
        else if (attribute.getText() === '1') found.push([field.toLowerCase(), field]);
      }
    },
    packageLinkPhase({ customElementsManifest }) {
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
            ...BUILT_IN.map(([name, fieldName, description]) => ({ name, fieldName, description })),
          ];
        }
      }
    },
  };
}

export default {
  globs: ['src/element/secure-widget.ts'],
  outdir: '.',
  plugins: [secureWidgetAttributes()],
};
