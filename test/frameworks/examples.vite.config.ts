import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

const here = (path: string) => fileURLToPath(new URL(path, import.meta.url));

/**
 * Builds the React and Vue examples of demo/examples/ (`npm run build:test-pages`, after vite.config.ts) as the apps
 * they are: each index.html with its main script, the framework from npm, into `test/frameworks/dist/examples/<name>/`,
 * where test/examples.test.ts loads them. The examples import the library by its package name, as a user's app does;
 * the aliases point those names at this repository's source (tsconfig.json's `paths` do the same for tsc).
 */
export default defineConfig({
  root: here('../../demo/examples'),
  // Relative asset URLs: the built pages work wherever they are served (the test backend, `npm start`).
  base: './',
  publicDir: false,
  logLevel: 'warn',
  define: {
    __VUE_OPTIONS_API__: 'true',
    __VUE_PROD_DEVTOOLS__: 'false',
    __VUE_PROD_HYDRATION_MISMATCH_DETAILS__: 'false',
  },
  resolve: {
    // Anchored: a plain `secure-widget` key would also rewrite `secure-widget/react` as a prefix.
    alias: [
      { find: /^secure-widget$/, replacement: here('../../src/index.ts') },
      { find: /^secure-widget\/react$/, replacement: here('../../src/element/frameworks/react.ts') },
      { find: /^secure-widget\/vue$/, replacement: here('../../src/element/frameworks/vue.ts') },
      // Vue's full build, as the Vue example's README tells its users: its template string is compiled in the browser.
      { find: /^vue$/, replacement: 'vue/dist/vue.esm-bundler.js' },
    ],
  },
  oxc: { jsx: { runtime: 'automatic', importSource: 'react' } },
  build: {
    outDir: here('dist/examples'),
    emptyOutDir: true,
    target: 'es2022',
    sourcemap: true,
    rolldownOptions: {
      input: { react: here('../../demo/examples/react/index.html'), vue: here('../../demo/examples/vue/index.html') },
    },
  },
});
