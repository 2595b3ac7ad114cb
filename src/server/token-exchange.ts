import type { TokenExchangeOptions } from './exchange-options.js';
import { createExchange } from './internal/exchange.js';
import { refuseUnknownOptions } from './internal/known-options.js';
import type { IssuedToken, TokenIssuer } from './user-tokens.js';

export type { TokenExchangeOptions } from './exchange-options.js';

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
