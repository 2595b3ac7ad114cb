import { decodeJwt } from 'jose';
import { TokenIssueError } from './errors.js';

export interface IssuedToken {
  token: string;
  /** Epoch seconds. */
  expiresAt?: number;
}

export type TokenIssuer<User> = (user: User, context: { signal: AbortSignal }) => Promise<IssuedToken>;

export interface TokenHandlerOptions<User> {
  /**
   * The host's own session check. The user it returns is the only source of claims: nothing from the query string
   * or the body reaches `issue`, so a signed-in user cannot ask for someone else's token. `null`/`undefined` → 401.
   */
  authorize: (request: Request) => User | null | undefined | Promise<User | null | undefined>;
  issue: TokenIssuer<User>;
  /** Milliseconds since the epoch; the clock behind the `Date` header. Default `Date.now`. */
  now?: () => number;
  /** Default `console`. Receives the error code and the vendor's HTTP status only, never a token or a secret. */
  logger?: { warn(message: string): void };
}

export type TokenHandlerErrorCode =
  | 'method-not-allowed'
  | 'unauthorized'
  | 'vendor-failed'
  | 'vendor-timeout'
  | 'internal';

const ERROR_MESSAGES: Record<TokenHandlerErrorCode, string> = {
  'method-not-allowed': 'Use GET or POST.',
  unauthorized: 'Sign in to load this widget.',
  'vendor-failed': 'The widget vendor could not issue a token.',
  'vendor-timeout': 'The widget vendor did not answer in time.',
  internal: 'Internal server error.',
};

const ALLOWED_METHODS = 'GET, POST';

/**
 * The host backend's token endpoint as a Web-standard handler: authorize the caller with the host's own session,
 * get a token from the vendor, answer `{"embedToken", "expiresAt"}`. Wrap it with `toNodeListener` for node:http,
 * Express or Vite.
 */
export function createTokenHandler<User>(options: TokenHandlerOptions<User>): (request: Request) => Promise<Response> {
  if (typeof options !== 'object' || options === null) {
    throw new TypeError('createTokenHandler: options must be an object');
  }
  const { authorize, issue } = options;
  if (typeof authorize !== 'function') throw new TypeError('createTokenHandler: options.authorize must be a function');
  if (typeof issue !== 'function') throw new TypeError('createTokenHandler: options.issue must be a function');
  if (options.now !== undefined && typeof options.now !== 'function') {
    throw new TypeError('createTokenHandler: options.now must be a function');
  }
  if (options.logger !== undefined && typeof options.logger?.warn !== 'function') {
    throw new TypeError('createTokenHandler: options.logger must have a warn(message) method');
  }
  const now = options.now ?? Date.now;
  const logger = options.logger ?? console;

  const warn = (code: string, status?: number): void => {
    const vendorStatus = Number.isInteger(status) ? ` (vendor status ${status})` : '';
    try {
      logger.warn(`secure-widget/server: token request failed: ${code}${vendorStatus}`);
    } catch {
      // A broken logger must not turn a clean error response into a crash.
    }
  };

  const json = (status: number, body: unknown, extraHeaders: Record<string, string> = {}): Response =>
    new Response(JSON.stringify(body), {
      status,
      headers: {
        'Content-Type': 'application/json; charset=utf-8',
        // A token is a bearer credential: no shared cache, proxy or back/forward cache may keep it.
        'Cache-Control': 'no-store',
        Pragma: 'no-cache',
        'X-Content-Type-Options': 'nosniff',
        // The element measures the token's remaining life against this header rather than its own clock, and not
        // every runtime adds one, so it is always set from the same clock.
        Date: new Date(now()).toUTCString(),
        ...extraHeaders,
      },
    });

  const fail = (status: number, code: TokenHandlerErrorCode, extraHeaders?: Record<string, string>): Response =>
    json(status, { error: { code, message: ERROR_MESSAGES[code] } }, extraHeaders);

  return async (request) => {
    if (request.method !== 'GET' && request.method !== 'POST') {
      return fail(405, 'method-not-allowed', { Allow: ALLOWED_METHODS });
    }

    let user: User | null | undefined;
    try {
      user = await authorize(request);
    } catch {
      warn('internal');
      return fail(500, 'internal');
    }
    if (user === null || user === undefined) return fail(401, 'unauthorized');

    let issued: IssuedToken;
    try {
      issued = await issue(user, { signal: request.signal });
    } catch (error) {
      const timedOut = error instanceof TokenIssueError && error.code === 'vendor-timeout';
      // The client went away: nobody reads this answer and the vendor did nothing wrong, so it is not logged.
      if (!request.signal.aborted) {
        if (error instanceof TokenIssueError) warn(error.code, error.status);
        else warn('vendor-failed');
      }
      return timedOut ? fail(504, 'vendor-timeout') : fail(502, 'vendor-failed');
    }

    const usable = typeof issued === 'object' && issued !== null && typeof issued.token === 'string';
    if (!usable || issued.token.trim() === '') {
      warn('vendor-response');
      return fail(502, 'vendor-failed');
    }

    const expiresAt = isEpochSeconds(issued.expiresAt) ? issued.expiresAt : readJwtExpiry(issued.token);
    return json(200, expiresAt === undefined ? { embedToken: issued.token } : { embedToken: issued.token, expiresAt });
  };
}

function isEpochSeconds(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value) && value > 0;
}

/** `exp` of a JWT, decoded without verification (the vendor signed it for the vendor); undefined for opaque tokens. */
export function readJwtExpiry(token: string): number | undefined {
  try {
    const { exp } = decodeJwt(token);
    return isEpochSeconds(exp) ? exp : undefined;
  } catch {
    return undefined;
  }
}
