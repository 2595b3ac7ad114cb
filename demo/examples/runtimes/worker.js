// A Cloudflare Worker, no compatibility flag needed: `wrangler deploy demo/examples/runtimes/worker.js`. Secrets and
// variables come in `env` with each request (there is no process.env at the top of a module), so the handler is made
// from the first request's env and kept for as long as that env object lives: one cache and one rate limit per isolate.
import { widgetTokenHandler } from './widget-token.js';

const handlers = new WeakMap();

export default {
  fetch(request, env) {
    if (new URL(request.url).pathname !== '/api/widget-token') return new Response('Not found', { status: 404 });
    let handler = handlers.get(env);
    if (!handler) handlers.set(env, (handler = widgetTokenHandler(env)));
    return handler(request);
  },
};
