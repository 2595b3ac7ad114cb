/**
 * The options of a vendor token exchange: a leaf module, so that the public `tokenExchange` (token-exchange.ts) and
 * the exchange it builds on (internal/exchange.ts) both import it and not each other.
 */
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
