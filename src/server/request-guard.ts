/**
 * The checks a token request passes before the handler does any work for it: where it comes from, and how big it is.
 */
import { isWebPageOrigin } from '../protocol/origin.js';
import { readBoundedBody } from './internal/bounded-body.js';

/**
 * Validates `allowedOrigins` up front: each entry exactly as a browser sends it in `Origin` (scheme, host, port; no
 * path, no trailing slash). `*` and `null` are refused: the first is every site on the web, the second every
 * sandboxed frame and `file:` page, and either would hand a signed-in user's token to whoever asks.
 */
export function checkAllowedOrigins(value: unknown): ReadonlySet<string> {
  if (value === undefined) return new Set();
  if (!Array.isArray(value)) {
    throw new TypeError(
      'createTokenHandler: options.allowedOrigins must be an array of origins like "https://shop.example"',
    );
  }
  value.forEach((origin: unknown, index) => {
    if (!isWebPageOrigin(origin)) {
      throw new TypeError(
        `createTokenHandler: options.allowedOrigins[${index}] must be an origin like "https://shop.example" ` +
          '(scheme, host and port only; never "*" or "null")',
      );
    }
  });
  return new Set(value as string[]);
}

export type SiteVerdict =
  /** The page's own origin, or a caller that is not a browser page (curl, a server, an old browser's same-origin GET). */
  | { allowed: true; corsOrigin: null }
  /** A page on an origin in `allowedOrigins`: the answer carries CORS headers for exactly that origin. */
  | { allowed: true; corsOrigin: string }
  | { allowed: false };

/**
 * Refuses what a browser reports as another site's request, so that a page elsewhere cannot make a signed-in user's
 * browser fetch their token (the cookie rides along) and read it through a permissive CORS setup, or spend the
 * user's rate limit.
 *
 * `Sec-Fetch-Site` is set by the browser and cannot be forged by a page: `same-origin` and `none` (typed in the
 * address bar) pass even behind a proxy that changes the scheme the server sees; `cross-site` is refused; `same-site`
 * (a sibling subdomain, which may host user content) passes only from an allowed origin. Browsers without it still
 * send `Origin` on cross-origin requests, which must then be the server's own or an allowed one.
 */
export function judgeSite(request: Request, allowedOrigins: ReadonlySet<string>): SiteVerdict {
  const site = request.headers.get('Sec-Fetch-Site');
  const origin = request.headers.get('Origin');
  const allowed = origin !== null && allowedOrigins.has(origin);
  if (site === 'cross-site') return allowed ? { allowed: true, corsOrigin: origin } : { allowed: false };
  if (site === 'same-origin' || site === 'none') return { allowed: true, corsOrigin: null };
  if (origin === null) return site === 'same-site' ? { allowed: false } : { allowed: true, corsOrigin: null };
  if (allowed) return { allowed: true, corsOrigin: origin };
  return origin === new URL(request.url).origin ? { allowed: true, corsOrigin: null } : { allowed: false };
}

/**
 * Whether the request carries more than `limit` bytes of body. A declared `Content-Length` answers without reading;
 * a chunked body is read only until it passes the limit, so a client cannot make the server buffer more.
 */
export async function bodyExceeds(request: Request, limit: number): Promise<boolean> {
  // No body (a GET, most requests): nothing to read, and the request's signal, made when first asked for by the Node
  // adapter, is not made for nothing.
  if (request.body === null) return false;
  try {
    // With the request's signal, a client that goes away mid-body stops the read, however slowly it was sending.
    return (await readBoundedBody(request, limit, request.signal)) === null;
  } catch {
    // The client hung up mid-body: nobody waits for the answer, and "too large" stops the work just the same.
    return true;
  }
}
