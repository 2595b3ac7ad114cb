import type { IncomingMessage, ServerResponse } from 'node:http';
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
      server.middlewares.use(redirectPageToLocalhost);
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

/** The demo page's own paths; everything else at 127.0.0.1 (the vendor, Vite's modules) is served as asked. */
const PAGE_PATHS = new Set(['/', '/index.html']);
/** The query parameter that tells the page it moved, so that it can say why (demo.ts reads it). */
const MOVED_FROM_PARAMETER = 'moved-from';

/**
 * Vite prints http://127.0.0.1:5173/ first, but 127.0.0.1 is the vendor's origin: a page there shares its origin with
 * the vendor, and the element rightly refuses the iframe widget (a same-origin frame with allow-same-origin could lift
 * its own sandbox). So the page moves to localhost before any of it loads, and says why (demo.ts).
 */
function redirectPageToLocalhost(req: IncomingMessage, res: ServerResponse, next: () => void): void {
  const path = req.url ?? '/';
  let url: URL;
  try {
    // Concatenated rather than resolved against a base, so that a path like //other.example/ cannot change the host.
    url = new URL(`http://${req.headers.host ?? 'localhost'}${path.startsWith('/') ? path : `/${path}`}`);
  } catch {
    // A Host header the URL parser refuses: not a visitor to redirect; Vite answers it as it would.
    next();
    return;
  }
  const isPageRequest = (req.method === 'GET' || req.method === 'HEAD') && PAGE_PATHS.has(url.pathname);
  if (!isPageRequest || url.hostname !== '127.0.0.1') {
    next();
    return;
  }
  url.hostname = 'localhost';
  url.searchParams.set(MOVED_FROM_PARAMETER, '127.0.0.1');
  res.writeHead(307, { Location: url.href, 'Cache-Control': 'no-store' }).end();
}
