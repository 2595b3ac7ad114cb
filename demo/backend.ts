import { accessKeyExchange, createTokenHandler } from '../src/server/index.js';
import { demoCredentials } from './credentials.js';
import { createReferenceVendor, type ReferenceVendor } from './vendor/index.js';

export interface DemoBackendOptions {
  /** Lifetime of the vendor's tokens; short in the demo so that a visitor sees a refresh happen. */
  ttlSeconds?: number;
}

export interface DemoBackend {
  /** Answers the vendor's routes and the host's token endpoint; null for everything else. */
  handle(request: Request): Promise<Response | null>;
  readonly vendor: ReferenceVendor;
}

export const TOKEN_ENDPOINT_PATH = '/api/widget-token';

/**
 * Both back ends of the demo on one server (docs/design.md, "The three sides"): the reference vendor under /vendor, reached by the host as a
 * real vendor would be (over HTTP, at 127.0.0.1, another origin than the page's localhost), and the host's own token
 * endpoint, which holds the access key and exchanges it for an embed token.
 */
export async function createDemoBackend(options: DemoBackendOptions = {}): Promise<DemoBackend> {
  const credentials = demoCredentials();
  const vendor = await createReferenceVendor({ ...credentials, ttlSeconds: options.ttlSeconds ?? 60 });
  // One handler per port the server answers on: the vendor lives on the same server, at 127.0.0.1.
  const tokenHandlers = new Map<string, (request: Request) => Promise<Response>>();

  const tokenHandlerFor = (url: URL) => {
    let handler = tokenHandlers.get(url.port);
    if (!handler) {
      handler = createTokenHandler({
        // The demo has no login: every visitor is the same demo user. A real host returns its session's user here.
        authorize: () => ({ id: 'demo-user' }),
        // That one user stands for every visitor and every browser test, so it gets far more than a person's 30 a
        // minute.
        rateLimit: { max: 1000, windowMs: 60_000 },
        issue: accessKeyExchange({
          url: `http://127.0.0.1:${url.port}/vendor/api/widget-access-keys/token`,
          ...credentials,
        }),
      });
      tokenHandlers.set(url.port, handler);
    }
    return handler;
  };

  return {
    vendor,
    async handle(request) {
      const url = new URL(request.url);
      if (url.pathname === TOKEN_ENDPOINT_PATH) return tokenHandlerFor(url)(request);
      return vendor.handle(request);
    },
  };
}
