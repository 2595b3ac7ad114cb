// Next.js App Router: this file is app/api/widget-token/route.js (a whole app: demo/examples/nextjs/). A Route Handler
// answers only the methods it exports (405 for the rest), and the element may use either: export both.
import { widgetTokenHandler } from './widget-token.js';

// Made on the first request: `next build` loads this module without the server's secrets in its environment.
let made;
const handler = (request) => (made ??= widgetTokenHandler(process.env))(request);

export const GET = handler;
export const POST = handler;
