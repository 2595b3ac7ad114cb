import {
  AngularNodeAppEngine,
  createNodeRequestHandler,
  isMainModule,
  writeResponseToNodeResponse,
} from '@angular/ssr/node';
import express from 'express';
import { join } from 'node:path';
import { accessKeyExchange, createTokenHandler, toNodeListener } from 'secure-widget/server';
import type { WidgetContext } from './app/widget-context';

const browserDistFolder = join(import.meta.dirname, '../browser');
const TOKEN_ENDPOINT = '/api/widget-token';

const app = express();
const angularApp = new AngularNodeAppEngine();

/**
 * The token endpoint's handler, for the browser's requests and for the page's token alike (the same session check,
 * cache and rate limit). Made on the first request: `ng build` loads this file to extract the routes, without the
 * secrets, which come from the server's environment and go to the vendor only.
 */
let tokenHandler: ((request: Request) => Promise<Response>) | undefined;
function widgetToken(request: Request): Promise<Response> {
  tokenHandler ??= createTokenHandler({
    // Your session check: the signed-in user, or null (401, and no vendor call). This example has one user, u1.
    authorize: () => ({ id: 'u1' }),
    // Missing settings are refused here, by name.
    issue: accessKeyExchange({
      url: process.env['WIDGET_VENDOR_TOKEN_URL']!,
      accessId: process.env['WIDGET_ACCESS_ID']!,
      accessKey: process.env['WIDGET_ACCESS_KEY']!,
    }),
  });
  return tokenHandler(request);
}

// The element asks with GET; POST is answered too.
app.get(TOKEN_ENDPOINT, toNodeListener(widgetToken));
app.post(TOKEN_ENDPOINT, toNodeListener(widgetToken));

/**
 * Serve static files from /browser
 */
app.use(
  express.static(browserDistFolder, {
    maxAge: '1y',
    index: false,
    redirect: false,
  }),
);

/**
 * Handle all other requests by rendering the Angular application, with this visitor's token for the page in the
 * request context (read by the App component, on the server only).
 */
app.use(async (req, res, next) => {
  try {
    // The handler, asked in-process with this visitor's cookies (their session): no HTTP hop. Without a token (the
    // vendor is down, the user is rate limited) the widget fetches its own from the endpoint.
    const url = new URL(TOKEN_ENDPOINT, `${req.protocol}://${req.get('host')}`);
    const answer = await widgetToken(new Request(url, { headers: { cookie: req.get('cookie') ?? '' } }));
    const context: WidgetContext = {
      embedToken: answer.ok ? ((await answer.json()) as { embedToken: string }).embedToken : null,
      bundleUrl: process.env['WIDGET_BUNDLE_URL'] ?? '',
    };
    const response = await angularApp.handle(req, context);
    if (!response) return next();
    // A page that carries a live token must not be kept by a browser cache or a proxy.
    response.headers.set('Cache-Control', 'no-store');
    await writeResponseToNodeResponse(response, res);
  } catch (error) {
    next(error);
  }
});

/**
 * Start the server if this module is the main entry point, or it is ran via PM2.
 * The server listens on the port defined by the `PORT` environment variable, or defaults to 4000.
 */
if (isMainModule(import.meta.url) || process.env['pm_id']) {
  const port = process.env['PORT'] || 4000;
  app.listen(port, (error) => {
    if (error) {
      throw error;
    }

    console.log(`Node Express server listening on http://localhost:${port}`);
  });
}

/**
 * Request handler used by the Angular CLI (for dev-server and during build) or Firebase Cloud Functions.
 */
export const reqHandler = createNodeRequestHandler(app);
