/**
 * One token request, in the handler's steps, cheapest first: each refusal happens before the next step's work, so a
 * cross-site or oversized request never reaches `authorize`, and a signed-out or rate-limited one never reaches the
 * vendor. Each step answers (a `Response`) or lets the request go on (`undefined`).
 */
import { errorResponse, jsonResponse, type TokenHandlerErrorCode } from './handler-responses.js';
import type { HandlerSettings } from './handler-settings.js';
import { describeIssueFailure, thrownKind } from './issue-failure.js';
import { bodyExceeds, judgeSite } from './request-guard.js';
import type { IssuedToken } from './user-tokens.js';

// The element sends no body; a form or a JSON ping fits in far less. Anything bigger is not a token request.
const MAX_BODY_BYTES = 1024;
const ALLOWED_METHODS = 'GET, POST';

export class TokenRequest<User> {
  readonly #request: Request;
  readonly #settings: HandlerSettings<User>;
  readonly #site: ReturnType<typeof judgeSite>;
  /**
   * Only an allowed origin is named, never a reflected one, and never `*` (which credentials would not work with
   * anyway): the browser lets exactly that page read the answer, errors included.
   */
  readonly #cors: Record<string, string>;
  #user: User | undefined;
  #key = '';

  constructor(request: Request, settings: HandlerSettings<User>) {
    this.#request = request;
    this.#settings = settings;
    const site = (this.#site = judgeSite(request, settings.allowedOrigins));
    this.#cors =
      site.allowed && site.corsOrigin !== null
        ? { 'Access-Control-Allow-Origin': site.corsOrigin, 'Access-Control-Allow-Credentials': 'true', Vary: 'Origin' }
        : {};
  }

  /** A CORS preflight from an allowed origin is answered here; from any other site it is refused. */
  answerPreflight(): Response | undefined {
    if (this.#request.method !== 'OPTIONS') return undefined;
    if (!this.#site.allowed) return this.#fail(403, 'cross-site', {});
    if (this.#site.corsOrigin === null) return undefined;
    return new Response(null, {
      status: 204,
      headers: {
        ...this.#cors,
        'Access-Control-Allow-Methods': ALLOWED_METHODS,
        'Access-Control-Allow-Headers': 'Accept, Content-Type',
        'Access-Control-Max-Age': '600',
        'Cache-Control': 'no-store',
        Pragma: 'no-cache',
        'X-Content-Type-Options': 'nosniff',
      },
    });
  }

  refuseOtherMethods(): Response | undefined {
    const { method } = this.#request;
    if (method === 'GET' || method === 'POST') return undefined;
    return this.#fail(405, 'method-not-allowed', { Allow: ALLOWED_METHODS, ...this.#cors });
  }

  /** Checked before the origin, as the contract orders it: no work at all for a body no token request has. */
  async refuseLargeBodies(): Promise<Response | undefined> {
    if (!(await bodyExceeds(this.#request, MAX_BODY_BYTES))) return undefined;
    return this.#fail(413, 'payload-too-large', { ...this.#cors, Connection: 'close' });
  }

  refuseOtherSites(): Response | undefined {
    return this.#site.allowed ? undefined : this.#fail(403, 'cross-site', {});
  }

  /** The host's own session check, and the key the user's token and requests are kept under. */
  async identifyUser(): Promise<Response | undefined> {
    const { authorize, userId, warn } = this.#settings;
    let user: User | null | undefined;
    let key: string | undefined;
    try {
      user = await authorize(this.#request);
      if (user !== null && user !== undefined) key = userId(user);
    } catch (error) {
      warn(
        `internal: authorize or userId threw ${thrownKind(error)} (its message is not logged: it may hold a secret)`,
      );
      return this.#fail(500, 'internal');
    }
    if (user === null || user === undefined) return this.#fail(401, 'unauthorized');
    if (typeof key !== 'string' || key === '') {
      // Without a key the cache could hand one user's token to another: refuse rather than guess.
      warn('user-id-missing: pass options.userId');
      return this.#fail(500, 'internal');
    }
    this.#user = user;
    this.#key = key;
    return undefined;
  }

  async limitRate(): Promise<Response | undefined> {
    const verdict = await this.#settings.takeRateLimit(this.#key);
    if (!verdict || verdict.allowed) return undefined;
    const retryAfter = String(Math.ceil(verdict.retryAfterMs / 1000));
    return this.#fail(429, 'rate-limited', { 'Retry-After': retryAfter, ...this.#cors });
  }

  /** The user's cached token, or one from the issuer: the answer the element reads. */
  async answerToken(): Promise<Response> {
    const { tokens, warn, now } = this.#settings;
    let issued: IssuedToken;
    try {
      issued = await tokens.get(this.#key, this.#user as User, this.#request.signal);
    } catch (error) {
      // The client went away: nobody reads this answer and the vendor did nothing wrong, so it is not logged.
      const failure = describeIssueFailure(error);
      if (!this.#request.signal.aborted) warn(failure.detail);
      return this.#fail(failure.status, failure.code);
    }
    const { token: embedToken, expiresAt } = issued;
    return jsonResponse(now(), 200, expiresAt === undefined ? { embedToken } : { embedToken, expiresAt }, this.#cors);
  }

  /** An error answer; with the CORS headers unless `headers` says otherwise (a refused site gets none). */
  #fail(status: number, code: TokenHandlerErrorCode, headers: Record<string, string> = this.#cors): Response {
    return errorResponse(this.#settings.now(), status, code, headers);
  }
}
