// Server only: the token endpoint's handler, shared by the API route (src/pages/api/widget-token.ts) and the page
// (src/pages/index.astro), so that the page's token goes through the same session check, cache and rate limit as the
// browser's requests. The access key is an astro:env secret: read from the server's environment when it runs.
import { getSecret } from 'astro:env/server';
import { accessKeyExchange, createTokenHandler } from 'secure-widget/server';

let handler: ((request: Request) => Promise<Response>) | undefined;

/** The handler of every token request, made on the first one. */
export const tokenHandler = (request: Request): Promise<Response> =>
  (handler ??= createTokenHandler({
    // Your session check: the signed-in user, or null (401, and no vendor call). This example has one user, u1.
    authorize: () => ({ id: 'u1' }),
    // Missing settings are refused here, by name, on the first request.
    issue: accessKeyExchange({
      url: getSecret('WIDGET_VENDOR_TOKEN_URL')!,
      accessId: getSecret('WIDGET_ACCESS_ID')!,
      accessKey: getSecret('WIDGET_ACCESS_KEY')!,
    }),
  }))(request);
