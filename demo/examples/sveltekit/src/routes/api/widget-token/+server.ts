import { tokenHandler } from '#lib/server/widget-token';
import type { RequestHandler } from './$types';

// The element asks with GET; POST is answered too. SvelteKit answers only the methods a route exports.
export const GET: RequestHandler = ({ request }) => tokenHandler(request);
export const POST: RequestHandler = ({ request }) => tokenHandler(request);
