import { defineConfig, type Plugin } from 'vite';
import { demoBackend } from './demo/vite-plugin.js';
import { renamingPlan } from './scripts/internal-properties.js';

/**
 * Lit's browser build declares `class ReactiveElement extends HTMLElement` at module scope, so the bundles that carry
 * it (the all-in module, the classic script) threw `HTMLElement is not defined` wherever a server renders the page
 * (Next.js, Nuxt, SvelteKit and Angular import client modules on the server). Lit's own answer is its `node` build
 * with a DOM shim, which the Lit-external element gets by resolution; a bundle cannot resolve twice, so it gets the
 * same guard in one expression: on a server the class extends an empty class and is never defined (src/index.ts).
 * The build fails if Lit's code stops matching, and test/node/server-import.test.ts imports every built entry in Node.
 */
function serverSafeReactiveElement(): Plugin {
  const LIT_BASE = /[\\/]@lit[\\/]reactive-element[\\/]reactive-element\.js$/;
  return {
    name: 'server-safe-reactive-element',
    transform(code, id) {
      if (!LIT_BASE.test(id)) return null;
      const guarded = code.replace(/\bextends HTMLElement\b/, 'extends (globalThis.HTMLElement ?? class {})');
      if (guarded === code) this.error(`${id} no longer declares "extends HTMLElement": revisit this plugin.`);
      return { code: guarded, map: null };
    },
  };
}

/**
 * Property names the bundles shorten: the members of our `@internal` declarations that nothing public shares
 * (scripts/internal-properties.mjs reads them from the source on every build; test/node/internal-properties.test.ts
 * proves none is public). A new internal object is shortened by marking its type `@internal`, with no list to keep.
 */
const INTERNAL_PROPERTIES = new RegExp(`^(${renamingPlan().renamed.join('|')})$`);

/**
 * `vite build` makes the all-in ES module and the classic script; `vite build --mode element` the element with Lit and
 * jose external (dist/element.js), for apps that bundle their own copy of them and must not ship Lit twice.
 */
export default defineConfig(({ mode }) => ({
  // 127.0.0.1 answers both origins of the demo: the host page at localhost and the vendor at 127.0.0.1 (a server bound
  // to "localhost" alone may listen on ::1 only).
  server: {
    host: '127.0.0.1',
    port: 5173,
    // The demo page carries a server-rendered token: no browser or proxy may store it (Vite's default is no-cache).
    headers: { 'Cache-Control': 'no-store' },
  },
  plugins: [demoBackend({ ttlSeconds: Number(process.env.DEMO_TOKEN_TTL) || 60 }), serverSafeReactiveElement()],
  build: {
    target: 'es2022',
    // The all-in ES module and the classic script (an IIFE, for a CMS block's <script src> without type="module"):
    // both define the element on load.
    lib:
      mode === 'element'
        ? { entry: 'src/index.ts', formats: ['es' as const], fileName: () => 'element.js' }
        : {
            entry: 'src/index.ts',
            name: 'SecureWidget',
            formats: ['es' as const, 'iife' as const],
            fileName: (format: string) => (format === 'es' ? 'secure-widget.js' : 'secure-widget.classic.js'),
          },
    // The element build adds to what the first build wrote.
    emptyOutDir: mode !== 'element',
    // Lit and jose are bundled, but for the element build: one file a page can load from anywhere, with no import map.
    rolldownOptions: {
      external: mode === 'element' ? ['@lit/reactive-element', 'jose'] : [],
      output: {
        minify: {
          compress: true,
          mangle: true,
          codegen: { removeWhitespace: true },
          mangleProps: { include: INTERNAL_PROPERTIES },
        },
        // Lit's and jose's license notices stay (their licenses ask for it); tree-shaking hints have done their work.
        comments: { legal: true, annotation: false, jsdoc: false },
      },
    },
    sourcemap: true,
  },
}));
