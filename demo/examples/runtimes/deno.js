// Deno 2: `deno run --allow-net --allow-env --allow-read demo/examples/runtimes/deno.js`.
import { widgetTokenHandler } from './widget-token.js';

const handler = widgetTokenHandler(Deno.env.toObject());

Deno.serve({ port: Number(Deno.env.get('PORT') ?? 8000), hostname: Deno.env.get('HOST') ?? '127.0.0.1' }, (request) =>
  new URL(request.url).pathname === '/api/widget-token' ? handler(request) : new Response('Not found', { status: 404 }),
);
