import type { Plugin, ViteDevServer } from 'vite';
import { toNodeListener } from '../src/server/index.js';
import { createDemoBackend, type DemoBackend, type DemoBackendOptions } from './backend.js';
import { renderServerToken } from './server-rendered-token.js';

/** Mounts the demo's host backend and reference vendor on Vite's dev server. */
export function demoBackend(options: DemoBackendOptions = {}): Plugin {
  // One backend for the middleware and the page render: the server-rendered token and the endpoint's tokens come
  // from the same vendor and the same signing key.
  let backend: Promise<DemoBackend> | null = null;
  let devServer: ViteDevServer | null = null;

  return {
    name: 'secure-widget-demo-backend',
    apply: 'serve',
    async configureServer(server) {
      devServer = server;
      backend = createDemoBackend(options);
      const ready = await backend;
      server.middlewares.use(toNodeListener(ready.handle));
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
    async transformIndexHtml(html) {
      if (!backend || !devServer) return html;
      const address = devServer.httpServer?.address();
      const port = address && typeof address !== 'string' ? address.port : devServer.config.server.port;
      // The page's own origin: the token handler reaches the vendor on the same port, at 127.0.0.1.
      return renderServerToken(html, await backend, `http://localhost:${port}`);
    },
  };
}
