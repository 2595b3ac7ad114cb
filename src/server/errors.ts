/**
 * What went wrong: the vendor's part (`vendor-*`), or `issuer-misconfigured`, the host's own issuer setup, wrong in a
 * way only a call can show (a `claims` function that names `sub`).
 */
export type TokenIssueErrorCode =
  | 'vendor-http'
  | 'vendor-network'
  | 'vendor-timeout'
  | 'vendor-response'
  | 'issuer-misconfigured';

export interface TokenIssueErrorOptions {
  /** The vendor's HTTP status, when it answered. */
  status?: number;
  cause?: unknown;
}

/**
 * A token issuer failed. Callers `switch (error.code)`; `createTokenHandler` maps `vendor-timeout` to 504 and every
 * other code to 502.
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
