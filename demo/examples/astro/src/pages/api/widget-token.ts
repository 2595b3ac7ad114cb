import type { APIRoute } from 'astro';
import { tokenHandler } from '../../lib/widget-token';

// On demand: left prerendered, Astro would call this route once at build time and serve its answer (a 401, or a token
// long dead) as a static file.
export const prerender = false;

// The element asks with GET; POST is answered too.
export const GET: APIRoute = ({ request }) => tokenHandler(request);
export const POST: APIRoute = ({ request }) => tokenHandler(request);
