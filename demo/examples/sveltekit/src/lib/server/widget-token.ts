// Server only ($app/env/private cannot reach the browser): the token endpoint's handler, shared by the endpoint
// (src/routes/api/widget-token/+server.ts) and the page's load (src/routes/+page.server.ts), so that the page's token
// goes through the same session check, cache and rate limit as the browser's requests.
import { WIDGET_ACCESS_ID, WIDGET_ACCESS_KEY, WIDGET_VENDOR_TOKEN_URL } from '$app/env/private';
import { accessKeyExchange, createTokenHandler } from 'secure-widget/server';

let handler: ((request: Request) => Promise<Response>) | undefined;

/** Made on the first request: `vite build` runs this module to analyse the routes, without the secrets. */
export function tokenHandler(request: Request): Promise<Response> {
  handler ??= createTokenHandler({
    // Your session check: the signed-in user, or null (401, and no vendor call). This example has one user, u1.
    authorize: () => ({ id: 'u1' }),
    // Refuses to start without its settings, naming the one that is missing.
    issue: accessKeyExchange({
      url: WIDGET_VENDOR_TOKEN_URL!,
      accessId: WIDGET_ACCESS_ID!,
      accessKey: WIDGET_ACCESS_KEY!,
    }),
  });
  return handler(request);
}
