/**
 * The Astro example (demo/examples/astro: an on-demand page and API route, @astrojs/node standalone) as a user runs
 * it: installed from its lockfile with the packed library, built with `astro build`, served with
 * `node dist/server/entry.mjs` on Node 22 (Astro 7 needs it), and opened in Chromium against the reference vendor.
 * Astro does not hydrate plain markup; its `<script>` runs in the browser only and binds the element's events with
 * addEventListener. Plumbing: test/support/framework-example.ts.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { it } from 'node:test';
import { checkServerRenderedWidget, checkTokenEndpoint, exampleSuite, NODE } from '../support/framework-example.js';

exampleSuite('astro', 'the Astro example', (example) => {
  it('builds with no secret, leaving the page and the token endpoint on demand', async () => {
    // No WIDGET_* variables: a build that called the endpoint or rendered the page would fail or bake in a 401.
    await example.app.run('npm', ['run', 'build']);
    for (const prerendered of ['dist/client/index.html', 'dist/client/api/widget-token']) {
      assert.ok(!existsSync(path.join(example.app.dir, prerendered)), `${prerendered} was not prerendered`);
    }
    await example.serve(NODE, ['dist/server/entry.mjs']);
  });

  it('answers the token endpoint on GET and POST, and refuses other sites', async () => {
    await checkTokenEndpoint(example.server);
  });

  it('renders a token the widget uses, then renews it, with the events in the page state', async () => {
    await checkServerRenderedWidget({ ...example, deferHydration: false });
  });
});
