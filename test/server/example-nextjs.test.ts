/**
 * The Next.js example (demo/examples/nextjs: App Router, a Server Component that mints the page's token, the token
 * Route Handler, the `SecureWidget` React component) as a user builds it: installed from its own lockfile with the
 * packed library, `next build` + `next start`, opened in Chromium against the reference vendor (127.0.0.1, another
 * origin). Then `next dev`, where React prints hydration warnings, opened once. Needs `npm run build` first (the
 * tarball is packed from dist/), Chromium and npm's registry or cache. Plumbing: test/support/framework-example.ts.
 */
import assert from 'node:assert/strict';
import { exampleSuite, routePageTests } from '../support/framework-example.js';

const NEXT = 'node_modules/.bin/next';

/** The page: both widgets ready (the app's React state says so), each vendor card showing its verified user. */
function bothReady(): boolean {
  return (
    document.querySelector('#status')?.textContent === 'ready' &&
    document.querySelector('#custom-status')?.textContent === 'ready' &&
    document.querySelectorAll('secure-widget demo-widget .demo-widget__card--ready').length === 2
  );
}

/**
 * The renewal: the endpoint widget asks the Route Handler, the other calls its inline fetchToken; both report it
 * through onToken, into React state.
 */
function bothRenewed(): boolean {
  return (
    (document.querySelector('#sources')?.textContent ?? '').split(' ').length >= 2 &&
    Number(document.querySelector('#fetch-token-calls')?.textContent) >= 1 &&
    (document.querySelector('#custom-sources')?.textContent ?? '').split(' ').length >= 2
  );
}

exampleSuite(
  'nextjs',
  'the Next.js example',
  (example) =>
    routePageTests(example, {
      // No WIDGET_* variables in the build: it renders nothing that needs a token (the page is dynamic).
      build: NEXT,
      start: [NEXT, ['start', '-p', '{port}']],
      rendered: [
        'renders a fresh token into the page (as a prop, in no attribute), deferred until hydration, and no secret',
        (html, response) => {
          assert.match(response.headers.get('Cache-Control') ?? '', /no-store/, 'a page with a token is never cached');
          const tags = html.match(/<secure-widget\b[^>]*>/g) ?? [];
          assert.equal(tags.length, 2, 'two widgets in the server-rendered HTML');
          for (const tag of tags) {
            assert.match(tag, /\sdefer-hydration(=""|\s|>)/, `rendered with defer-hydration: ${tag}`);
            // <SecureWidget> sets embedToken as a property once mounted (docs/decisions.md, 33): no attribute holds it.
            assert.doesNotMatch(tag, /eyJ/, `no token in the tag: ${tag}`);
          }
          // The Server Component's props for the Client Component travel in the page's RSC payload: the token is there.
          const tokens = new Set(html.match(/eyJ[\w-]+\.eyJ[\w-]+\.[\w-]+/g) ?? []);
          assert.equal(tokens.size, 1, 'one fresh token in the page, for both widgets');
          assert.ok(html.includes(example.vendor.bundleUrl), 'the vendor bundle is on 127.0.0.1');
          return [...tokens][0]!;
        },
      ],
      route: 'Route Handler',
      framework: 'React',
      widgets: ['endpoint-widget', 'fetch-token-widget'],
      widgetsReady: bothReady,
      renewed: bothRenewed,
      // React reports a mismatch while it hydrates, before the widget may start.
      dev: { label: 'next dev', command: NEXT, args: ['dev', '-p', '{port}'] },
    }),
  { node22: false, timeoutMs: 600_000 },
);
