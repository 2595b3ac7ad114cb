// Bun: `bun demo/examples/runtimes/bun.js`.
import { widgetTokenHandler } from './widget-token.js';

const handler = widgetTokenHandler(Bun.env);

Bun.serve({
  port: Number(Bun.env.PORT ?? 3000),
  hostname: Bun.env.HOST ?? '127.0.0.1',
  routes: { '/api/widget-token': handler },
  fetch: () => new Response('Not found', { status: 404 }),
});
