import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

const here = (path: string) => fileURLToPath(new URL(path, import.meta.url));

/**
 * Builds the framework test pages (`npm run build:test-pages`): each app with its framework from npm and the library's
 * own source, as an ES module the browser tests import from `test/frameworks/dist/`. `--mode development` gives the
 * frameworks' development builds (their warnings in the console) instead of the production ones.
 */
export default defineConfig(({ mode }) => ({
  root: here('.'),
  publicDir: false,
  logLevel: 'warn',
  // Library mode leaves `process.env.NODE_ENV` to the consumer; these pages are the consumer.
  define: {
    'process.env.NODE_ENV': JSON.stringify(mode === 'development' ? 'development' : 'production'),
    __VUE_OPTIONS_API__: 'true',
    __VUE_PROD_DEVTOOLS__: 'false',
    __VUE_PROD_HYDRATION_MISMATCH_DETAILS__: 'false',
  },
  // Vue's full build: the page's template is compiled in the browser, where `compilerOptions.isCustomElement` applies.
  resolve: {
    alias: [
      { find: /^vue$/, replacement: 'vue/dist/vue.esm-bundler.js' },
      // secure-widget/react imports the element by its package name, as the published module does.
      { find: /^secure-widget$/, replacement: here('../../src/index.ts') },
    ],
  },
  oxc: { jsx: { runtime: 'automatic', importSource: 'react' } },
  build: {
    // Development builds beside the production ones: React prints hydration warnings only in its development build.
    outDir: here(mode === 'development' ? 'dist/development' : 'dist'),
    emptyOutDir: mode !== 'development',
    target: 'es2022',
    minify: false,
    sourcemap: true,
    rolldownOptions: {
      // secure-widget/react opens with 'use client' for server-component bundlers; a browser bundle has no use for it.
      onwarn(warning, warn) {
        if (warning.code !== 'MODULE_LEVEL_DIRECTIVE') warn(warning);
      },
    },
    lib: {
      entry: {
        'react-app': here('react-app.tsx'),
        'react-ssr-app': here('react-ssr-app.tsx'),
        'vue-app': here('vue-app.ts'),
      },
      formats: ['es'],
      fileName: (_format, name) => `${name}.js`,
    },
  },
}));
