// A Server Component: it mints a fresh token for this visitor while rendering, so the widget starts with no token
// request from the browser. Reading the request's cookies makes the page dynamic (rendered per request, never at
// build time, never cached): a token must not be baked into a static page.
import { cookies } from 'next/headers';
import { bundleUrl, pageToken, TOKEN_ENDPOINT } from '../lib/widget-token';
import { Widgets } from './widgets';

export default async function Page() {
  const cookie = (await cookies()).toString();
  const embedToken = await pageToken(cookie);
  return (
    <main>
      <h1>secure-widget in Next.js</h1>
      <Widgets embedToken={embedToken} tokenEndpoint={TOKEN_ENDPOINT} bundleUrl={bundleUrl()} />
    </main>
  );
}
