/**
 * The Angular example (demo/examples/angular: `ng new --ssr` with hydration, the token endpoint an Express route in
 * server.ts) as a user runs it: installed from its lockfile with the packed library, built with `ng build`, served with
 * `node dist/angular/server/server.mjs` on Node 22 (Angular 22 needs it), and opened in Chromium against the
 * reference vendor. Angular logs a hydration mismatch (NG0500, NG0502…) as a console error in production too.
 * Plumbing: test/support/framework-example.ts.
 */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { openPage } from '../support/framework-app.js';
import { checkServerRenderedWidget, checkTokenEndpoint, exampleSuite, NODE } from '../support/framework-example.js';

exampleSuite('angular', 'the Angular example', (example) => {
  it('builds with no secret, rendering the page on demand', async () => {
    // No WIDGET_* variables: `ng build` loads server.ts to extract the routes, without the secrets.
    const output = await example.app.run('npm', ['run', 'build']);
    assert.match(output, /Prerendered 0 static routes/, 'no prerendered page (it would carry a build-time token)');
    // Angular's server answers only the hosts it is told of (NG_ALLOWED_HOSTS, or angular.json's allowedHosts).
    await example.serve(NODE, ['dist/angular/server/server.mjs'], { NG_ALLOWED_HOSTS: 'localhost' });
  });

  it('answers the token endpoint on GET and POST, and refuses other sites', async () => {
    await checkTokenEndpoint(example.server);
  });

  it('renders a token the widget uses after hydration, then renews it, with the events in Angular state', async () => {
    await checkServerRenderedWidget(example);
  });

  it('hydrates the server-rendered page rather than rendering it again', async () => {
    const html = await (await fetch(`${example.server.url}/`)).text();
    assert.match(html, /<app-root [^>]*ngh="0"/, 'the server annotated the page for hydration');
    const visit = await openPage(example.browser, `${example.server.url}/`);
    try {
      await visit.page.waitForFunction(() => document.querySelector('#status')?.textContent === 'ready', {
        timeout: 60_000,
      });
      // Angular removes a component's hydration annotation once it has hydrated it.
      assert.equal(await visit.page.$eval('app-root', (root) => root.getAttribute('ngh')), null, 'hydrated');
      assert.deepEqual(visit.problems(), [], 'no NG0500/NG0502 or other console error');
    } finally {
      await visit.close();
    }
  });
});
