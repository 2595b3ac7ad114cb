import node from '@astrojs/node';
import { defineConfig, envField } from 'astro/config';

export default defineConfig({
  adapter: node({ mode: 'standalone' }),
  // 127.0.0.1 answers both http://localhost:PORT (the page) and http://127.0.0.1:PORT; a server bound to "localhost"
  // alone may listen on ::1 only.
  server: { host: '127.0.0.1' },
  env: {
    // Server-side secrets (astro:env/server), read when the server runs, never at build time and never in a bundle.
    // Optional to the build: src/lib/widget-token.ts refuses to answer without them.
    schema: {
      WIDGET_VENDOR_TOKEN_URL: envField.string({ context: 'server', access: 'secret', optional: true }),
      WIDGET_BUNDLE_URL: envField.string({ context: 'server', access: 'secret', optional: true }),
      WIDGET_ACCESS_ID: envField.string({ context: 'server', access: 'secret', optional: true }),
      WIDGET_ACCESS_KEY: envField.string({ context: 'server', access: 'secret', optional: true }),
    },
  },
});
