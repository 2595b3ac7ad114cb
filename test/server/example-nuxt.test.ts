/**
 * The Nuxt example (demo/examples/nuxt: a server route around createTokenHandler, a page that fetches the token
 * while the server renders it, `<secure-widget>` with a plain vendor child and `defer-hydration` until Vue has
 * hydrated) as a user builds it: installed from its own lockfile with the packed library, `nuxt build` and the built
 * server (`node .output/server/index.mjs`), opened in Chromium against the reference vendor (127.0.0.1, another
 * origin). Then `nuxt dev`, where Vue prints hydration mismatches, opened once. Needs `npm run build` first (the
 * tarball is packed from dist/), Chromium and npm's registry or cache. Plumbing: test/support/framework-example.ts.
 */
import assert from 'node:assert/strict';
import type { RunningVendor } from '../support/framework-app.js';
import { exampleSuite, routePageTests } from '../support/framework-example.js';

const NUXT = 'node_modules/.bin/nuxt';
const JWT = /^[\w-]+\.[\w-]+\.[\w-]+$/;

/** The example's server settings, as Nuxt reads them: runtime config from NUXT_* variables at start, never at build. */
function nuxtEnv(vendor: RunningVendor): Record<string, string> {
  return {
    NUXT_WIDGET_VENDOR_TOKEN_URL: vendor.tokenUrl,
    NUXT_WIDGET_ACCESS_ID: vendor.accessId,
    NUXT_WIDGET_ACCESS_KEY: vendor.accessKey,
    NUXT_PUBLIC_WIDGET_BUNDLE_URL: vendor.bundleUrl,
  };
}

/** The page: the widget ready (the app's Vue state says so) and the vendor card showing its verified user. */
function widgetReady(): boolean {
  return (
    document.querySelector('#status')?.textContent === 'ready' &&
    !!document.querySelector('secure-widget demo-widget .demo-widget__card--ready')
  );
}

/** The renewal, reported through @secure-widget-token into Vue state. */
function widgetRenewed(): boolean {
  return (document.querySelector('#sources')?.textContent ?? '').trim().split(/\s+/).length >= 2;
}

exampleSuite(
  'nuxt',
  'the Nuxt example',
  (example) =>
    routePageTests(example, {
      build: NUXT,
      start: ['node', ['.output/server/index.mjs']],
      rendered: [
        'renders a fresh token into the page, deferred until hydration, with a plain vendor child and no secret',
        (html, response) => {
          assert.equal(response.headers.get('Cache-Control'), 'no-store');
          const tags = html.match(/<secure-widget\b[^>]*>/g) ?? [];
          assert.equal(tags.length, 1, 'one widget in the server-rendered HTML');
          assert.match(tags[0]!, /\sdefer-hydration(=""|\s|>)/, 'rendered with defer-hydration');
          const token = /\sembed-token="([^"]*)"/.exec(tags[0]!)?.[1];
          assert.ok(token && JWT.test(token), 'the widget carries a JWT in embed-token');
          assert.ok(html.includes(`bundle-url="${example.vendor.bundleUrl}"`), 'the vendor bundle is on 127.0.0.1');
          return token;
        },
      ],
      route: 'server route',
      framework: 'Vue',
      widgets: ['endpoint-widget'],
      widgetsReady: widgetReady,
      renewed: widgetRenewed,
      // Vue reports a mismatch while it hydrates, before the widget may start (defer-hydration goes after mount).
      dev: { label: 'nuxt dev', command: NUXT, args: ['dev', '--port', '{port}'] },
    }),
  { node22: false, env: nuxtEnv, timeoutMs: 600_000 },
);
