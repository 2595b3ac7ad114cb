import { createExchange } from './internal/exchange.js';
import { refuseUnknownOptions } from './internal/known-options.js';
import type { IssuedToken, TokenIssuer } from './user-tokens.js';

export interface TokenExchangeOptions<User> {
  /**
   * The vendor's token API, called with `POST`: `https:`, or `http:` on a loopback host only (the request carries
   * secrets). Never quoted in an error message, so an API key in its query string stays out of logs too.
   */
  url: string | URL;
  /**
   * Sent with every call, over the defaults `Content-Type: application/json` (with a body) and
   * `Accept: application/json`. Treated as secrets: no error message quotes a value. Values of credential-looking
   * headers (`Authorization`, `Cookie`, any name containing `key`, `token`, `secret`, `auth`, `password`) are refused
   * at construction when empty, a placeholder such as `YOUR_API_KEY` or an unexpanded template such as `${API_KEY}`.
   */
  headers?: Record<string, string>;
  /**
   * The JSON body for this user, from the user `authorize` returned (never from the browser's request). May be async.
   * Without it, or when it returns `undefined`, the request has no body.
   */
  body?: (user: User) => unknown;
  /**
   * Finds the token in the vendor's JSON: return the token string, or `{token, expiresAt, expiresIn}` for a vendor
   * that states the lifetime of an opaque token beside it (read as an issuer's answer is: `expiresAt` in epoch
   * seconds, epoch ms or an ISO date, `expiresIn` in seconds). Default `json.token`. A JWT's `exp` counts too.
   */
  pick?: (json: unknown) => unknown;
  /**
   * @deprecated Refused with a `TypeError`: a deadline here would never apply inside the handler, whose own
   * `createTokenHandler({ timeoutMs })` aborts the signal it passes. To call the exchange yourself with a deadline,
   * pass `{ signal: AbortSignal.timeout(ms) }`; a call without a signal gets 5 s.
   */
  timeoutMs?: never;
  /** Default `globalThis.fetch`, looked up per call. */
  fetch?: typeof fetch;
}

/**
 * Gets an embed token from the vendor's token API: `POST url` with `headers` and `body(user)`, then `pick(json)`.
 * Failures are `TokenIssueError`s whose messages never quote the vendor's answer or a secret: `vendor-timeout` (the
 * signal aborted with a `TimeoutError`, as the handler's timeout does), `vendor-network`, `vendor-http` (with
 * `status`; a redirect counts) and `vendor-response`. A caller's abort rejects with the caller's `AbortError`,
 * untouched.
 *
 * @example Qrvey: an API key header, the user and app in the body, the token in `token`.
 * ```ts
 * tokenExchange({
 *   url: `https://${process.env.QRVEY_DOMAIN}/devapi/v4/core/login/token`,
 *   headers: { 'x-api-key': process.env.QRVEY_API_KEY! },
 *   body: (user: { id: string }) => ({ userId: user.id, appId: process.env.QRVEY_APP_ID }),
 * });
 * ```
 */
export function tokenExchange<User = unknown>(options: TokenExchangeOptions<User>): TokenIssuer<User, IssuedToken> {
  if (typeof options === 'object' && options !== null) {
    refuseUnknownOptions<TokenExchangeOptions<User>>('tokenExchange', options, TOKEN_EXCHANGE_OPTIONS);
  }
  return createExchange('tokenExchange', options, pickToken);
}

const TOKEN_EXCHANGE_OPTIONS: Record<keyof TokenExchangeOptions<unknown>, true> = {
  url: true,
  headers: true,
  body: true,
  pick: true,
  timeoutMs: true,
  fetch: true,
};

function pickToken(json: unknown): unknown {
  return typeof json === 'object' && json !== null ? (json as { token?: unknown }).token : undefined;
}
