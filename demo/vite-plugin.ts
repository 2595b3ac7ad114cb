import type { Plugin } from 'vite';
import { toNodeListener } from '../src/server/index.js';
import { createDemoBackend, type DemoBackendOptions } from './backend.js';

/** Mounts the demo's host backend and reference vendor on Vite's dev server. */
export function demoBackend(options: DemoBackendOptions = {}): Plugin {
  return {
    name: 'secure-widget-demo-backend',
    apply: 'serve',
    async configureServer(server) {
      const backend = await createDemoBackend(options);
      server.middlewares.use(toNodeListener(backend.handle));
      server.httpServer?.once('listening', () => {
        const address = server.httpServer?.address();
        if (!address || typeof address === 'string') return;
        // Host page and vendor on two origins, as in production: open the page at localhost, not 127.0.0.1.
        setTimeout(() => {
          server.config.logger.info(
            `\n  secure-widget demo:  http://localhost:${address.port}/   (vendor at http://127.0.0.1:${address.port}/vendor/)\n`,
          );
        }, 50);
      });
    },
  };
}
