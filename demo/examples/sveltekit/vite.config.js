import adapter from '@sveltejs/adapter-node';
import { sveltekit } from '@sveltejs/kit/vite';
import { defineConfig } from 'vite';

export default defineConfig({
  // SvelteKit 3 reads no svelte.config.js: the adapter is passed here.
  plugins: [sveltekit({ adapter: adapter() })],
  // 127.0.0.1 answers both http://localhost:PORT (the page) and http://127.0.0.1:PORT; a server bound to "localhost"
  // alone may listen on ::1 only.
  server: { host: '127.0.0.1' },
});
