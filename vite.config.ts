import { defineConfig } from 'vite';
import { demoBackend } from './demo/vite-plugin.js';

export default defineConfig({
  // 127.0.0.1 answers both origins of the demo: the host page at localhost and the vendor at 127.0.0.1 (a server bound
  // to "localhost" alone may listen on ::1 only).
  server: {
    host: '127.0.0.1',
    port: 5173,
    // The demo page carries a server-rendered token: no browser or proxy may store it (Vite's default is no-cache).
    headers: { 'Cache-Control': 'no-store' },
  },
  plugins: [demoBackend({ ttlSeconds: Number(process.env.DEMO_TOKEN_TTL) || 60 })],
  build: {
    target: 'es2022',
    lib: {
      entry: 'src/index.ts',
      formats: ['es'],
      fileName: () => 'secure-widget.js',
    },
    // Lit and jose are bundled: one file a page can load from anywhere, with no import map.
    rolldownOptions: { output: { minify: true } },
    sourcemap: true,
  },
});
