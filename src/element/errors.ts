/**
 * Every failure the element reports has one of these codes; callers `switch (error.code)`.
 * The list is part of the public contract (docs/design.md, "Element"): add, never rename.
 */
export type SecureWidgetErrorCode =
  | 'config-invalid'
  | 'url-rejected'
  | 'endpoint-http'
  | 'endpoint-network'
  | 'endpoint-timeout'
  | 'token-missing'
  | 'token-malformed'
  | 'token-expired'
  | 'secret-key'
  | 'dev-key-remote'
  | 'bundle-load'
  | 'frame-timeout'
  | 'reload-loop';

export interface SecureWidgetErrorOptions {
  /**
   * No automatic retry: only `refresh()` or a configuration change tries again. The default: a failure is fatal
   * unless it is known to pass (a timeout, the network, a 5xx), so that nothing retries in a loop by omission.
   */
  fatal?: boolean;
  status?: number;
  /** Delay the server asked for (`Retry-After`), in ms. */
  retryAfter?: number;
  cause?: unknown;
}

/**
 * The one error type of the library. Messages are written for developers and never carry a token, a key or a
 * response body: they end up in consoles, logs and error trackers.
 */
export class SecureWidgetError extends Error {
  override readonly name = 'SecureWidgetError';
  readonly code: SecureWidgetErrorCode;
  readonly fatal: boolean;
  readonly status?: number;
  readonly retryAfter?: number;

  constructor(code: SecureWidgetErrorCode, message: string, options: SecureWidgetErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.fatal = options.fatal ?? true;
    if (options.status !== undefined) this.status = options.status;
    if (options.retryAfter !== undefined) this.retryAfter = options.retryAfter;
  }
}

export function isAbortError(error: unknown): boolean {
  return error instanceof DOMException && error.name === 'AbortError';
}
