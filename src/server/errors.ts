/**
 * What went wrong: the vendor's part (`vendor-*`), or the host's own (`issuer-*`): `issuer-misconfigured`, the
 * issuer's setup wrong in a way only a call can show (a `claims` function that names `sub`); `issuer-key`, a signing
 * key the platform would not import or that is not fit for the algorithm (a PEM's type, curve and size are known only
 * once WebCrypto has read it); `issuer-signing`, signing itself failed. The handler answers `vendor-*` as
 * `vendor-failed` (502) or `vendor-timeout` (504), and `issuer-*` as `issuer-failed` (502).
 */
export type TokenIssueErrorCode =
  | 'vendor-http'
  | 'vendor-network'
  | 'vendor-timeout'
  | 'vendor-response'
  | 'issuer-misconfigured'
  | 'issuer-key'
  | 'issuer-signing';

export interface TokenIssueErrorOptions {
  /** The vendor's HTTP status, when it answered. */
  status?: number;
  cause?: unknown;
}

/**
 * A token issuer failed. Callers `switch (error.code)`; `createTokenHandler` maps `vendor-timeout` to 504 and every
 * other code to 502 (`vendor-failed` for the vendor's, `issuer-failed` for the host's). A custom issuer that calls a
 * vendor throws one of these with a `vendor-*` code for the vendor's failures; anything else it throws is its own.
 *
 * Messages are written by this library only: never the vendor's response body (a careless vendor may echo the
 * request, access key included) and never a secret.
 */
export class TokenIssueError extends Error {
  override name = 'TokenIssueError';
  readonly code: TokenIssueErrorCode;
  readonly status?: number;

  constructor(code: TokenIssueErrorCode, message: string, options: TokenIssueErrorOptions = {}) {
    super(message, 'cause' in options ? { cause: options.cause } : undefined);
    this.code = code;
    if (options.status !== undefined) this.status = options.status;
  }
}
