// Server only: the token endpoint's handler, shared by the Route Handler (app/api/widget-token/route.ts) and the page
// (app/page.tsx), so that a server-rendered token goes through the same session check, cache and rate limit as the
// browser's requests. The access key comes from the server's environment and goes to the vendor only.
import { accessKeyExchange, createTokenHandler } from 'secure-widget/server';

/** The token URL of your app, as the browser calls it. */
export const TOKEN_ENDPOINT = '/api/widget-token';

let handler: ((request: Request) => Promise<Response>) | undefined;

/**
 * The handler, made on first use: `next build` loads this module without the secrets in its environment (they are
 * the running server's, never the build's).
 */
export function widgetTokenHandler(): (request: Request) => Promise<Response> {
  handler ??= createTokenHandler({
    // Your own session check: the user, or null (401). This demo has one user; read your session cookie here.
    authorize: () => ({ id: 'u1' }),
    issue: accessKeyExchange({
      url: required('WIDGET_VENDOR_TOKEN_URL'),
      accessId: required('WIDGET_ACCESS_ID'),
      accessKey: required('WIDGET_ACCESS_KEY'),
    }),
  });
  return handler;
}

/**
 * A fresh token for the page being rendered: the same handler, called in-process with the visitor's cookie (their
 * session), no HTTP hop. Null when none can be had: the widget then fetches its own from TOKEN_ENDPOINT.
 */
export async function pageToken(cookie: string | null): Promise<string | null> {
  const request = new Request(new URL(TOKEN_ENDPOINT, 'http://localhost'), {
    headers: { accept: 'application/json', cookie: cookie ?? '' },
  });
  const answer = await widgetTokenHandler()(request);
  if (!answer.ok) {
    await answer.body?.cancel();
    // The status only: never a token or a secret in a log line.
    console.warn(`example: no server-rendered token (the handler answered HTTP ${answer.status})`);
    return null;
  }
  const { embedToken } = (await answer.json()) as { embedToken: string };
  return embedToken;
}

/** Where the vendor's widget script is: public, so the page may carry it. */
export function bundleUrl(): string {
  return required('WIDGET_BUNDLE_URL');
}

function required(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`Set ${name} in the server's environment (see README.md)`);
  return value;
}
