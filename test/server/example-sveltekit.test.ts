/**
 * The SvelteKit example (demo/examples/sveltekit: Svelte 5, adapter-node) as a user runs it: installed from its
 * lockfile with the packed library, built with `vite build`, served with `node build` on Node 22 (SvelteKit 3 needs
 * it), and opened in Chromium against the reference vendor. Then once more under `vite dev`, where Svelte reports
 * hydration mismatches. Plumbing: test/support/framework-example.ts.
 */
import { it } from 'node:test';
import { checkServerRenderedWidget, checkTokenEndpoint, exampleSuite, NODE } from '../support/framework-example.js';

exampleSuite('sveltekit', 'the SvelteKit example', (example) => {
  it('builds with no secret; its production server renders a token the widget uses, then renews', async () => {
    // No WIDGET_* variables: `vite build` runs the server modules to analyse the routes, without the secrets.
    await example.app.run('npm', ['run', 'build']);
    // adapter-node takes the page's origin to be https://<Host> unless ORIGIN says otherwise.
    await example.serve(NODE, ['build'], { ORIGIN: 'http://localhost:{port}' });
    await checkTokenEndpoint(example.server);
    await checkServerRenderedWidget(example);
  });

  it('hydrates without a warning under vite dev, where Svelte reports mismatches', async () => {
    await example.serve(NODE, ['node_modules/vite/bin/vite.js', 'dev', '--port', '{port}', '--strictPort']);
    await checkServerRenderedWidget(example);
  });
});
