/**
 * The reference docs list what the code defines: docs/element.md's attribute, event and error-code tables name
 * exactly the attributes and events of custom-elements.json (generated from the element's source) and the members of
 * `SecureWidgetErrorCode`. README's tables are checked in manifest.test.ts.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { elementManifest, tableColumn, unionMembers } from './doc-tables.js';

const sorted = (names: Iterable<string>) => [...names].sort();

describe('docs/element.md lists what the code defines', () => {
  const element = elementManifest();

  it('the attributes (first column of the attribute table; the property-only rows have none)', () => {
    const documented = [...tableColumn('docs/element.md', 'attribute')].filter((name) => name !== '—');
    assert.deepEqual(sorted(documented), sorted(element.attributes!.map((attribute) => attribute.name)));
  });

  it('the events', () => {
    assert.deepEqual(sorted(tableColumn('docs/element.md', 'event')), sorted(element.events!.map((event) => event.name)));
  });

  it('the error codes', () => {
    assert.deepEqual(
      sorted(tableColumn('docs/element.md', 'code')),
      sorted(unionMembers('src/element/errors.ts', 'SecureWidgetErrorCode')),
    );
  });
});
