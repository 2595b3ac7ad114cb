import { WIDGET_BUNDLE_URL } from '$app/env/private';
import { tokenHandler } from '#lib/server/widget-token';
import type { PageServerLoad } from './$types';

export const load: PageServerLoad = async ({ request, setHeaders }) => {
  // A page that carries a live token must not be kept by a browser cache or a proxy.
  setHeaders({ 'cache-control': 'no-store' });
  // The token endpoint's handler, asked in-process with this visitor's cookies (their session): no HTTP hop.
  const answer = await tokenHandler(
    new Request(new URL('/api/widget-token', request.url), {
      headers: { cookie: request.headers.get('cookie') ?? '' },
    }),
  );
  // No token (the vendor is down, the user is rate limited): the widget fetches its own from the endpoint.
  const embedToken: string | null = answer.ok ? (await answer.json()).embedToken : null;
  return { embedToken, bundleUrl: WIDGET_BUNDLE_URL };
};
