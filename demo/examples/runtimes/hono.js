// Hono: `bun hono.js` serves `export default app`; on Node, @hono/node-server serves `app.fetch`. On Workers, make the
// handler from `c.env` as worker.js does from its env (there is no process.env).
import { Hono } from 'hono';
import { widgetTokenHandler } from './widget-token.js';

const handler = widgetTokenHandler(process.env);

const app = new Hono();
// Every method: the handler answers GET and POST, a CORS preflight from an allowed origin, and 405 for the rest.
app.all('/api/widget-token', (c) => handler(c.req.raw));

export default app;
