// Node ≥ 20.12, node:http: `node demo/examples/runtimes/node.js` (Express: demo/examples/express/).
import { createServer } from 'node:http';
import { toNodeListener } from 'secure-widget/server';
import { widgetTokenHandler } from './widget-token.js';

const handler = widgetTokenHandler(process.env);
// null: not this handler's path, and toNodeListener answers 404 (in Express, it calls next()).
const route = (request) => (new URL(request.url).pathname === '/api/widget-token' ? handler(request) : null);

createServer(toNodeListener(route)).listen(Number(process.env.PORT ?? 3000), process.env.HOST ?? '127.0.0.1');
