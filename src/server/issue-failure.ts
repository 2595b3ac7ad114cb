/**
 * What the handler answers and logs when a user's token could not be had: which side failed (the vendor, or the host's
 * own issuer) for the answer, and which step and why for the log line, without a secret.
 */
import { TokenIssueError } from './errors.js';
import { isOwnIssueError } from './internal/own-errors.js';

export type IssueFailureCode = 'vendor-failed' | 'vendor-timeout' | 'issuer-failed';

export interface IssueFailure {
  status: 502 | 504;
  code: IssueFailureCode;
  /** For the log line, after "token request failed: ". */
  detail: string;
}

/**
 * `vendor-timeout` is a 504; the vendor's other failures (`vendor-*`) are `502 vendor-failed`; the host's own issuer
 * failing (`issuer-*`: a key that did not import, signing, its own functions; or anything that is not a
 * `TokenIssueError`) is `502 issuer-failed`, so that neither the browser's developer nor the operator goes looking
 * for a vendor outage that is a key in the wrong format.
 *
 * The detail is the issuer's code, the vendor's HTTP status, and the message when this library wrote it (those never
 * hold a secret). A host's own error is named by its class only: its message may hold anything.
 */
export function describeIssueFailure(error: unknown): IssueFailure {
  if (!(error instanceof TokenIssueError)) {
    return {
      status: 502,
      code: 'issuer-failed',
      detail: `issuer-threw: the issuer threw ${thrownKind(error)} (its message is not logged: it may hold a secret)`,
    };
  }
  const { code, status } = error;
  // Only an HTTP status: a custom issuer's TokenIssueError may carry any number.
  const isHttpStatus = status !== undefined && Number.isInteger(status) && status >= 100 && status <= 599;
  const vendorStatus = isHttpStatus ? ` (vendor status ${status})` : '';
  const why = isOwnIssueError(error) ? `: ${error.message}` : '';
  const detail = `${code}${vendorStatus}${why}`;
  if (code === 'vendor-timeout') return { status: 504, code: 'vendor-timeout', detail };
  if (code.startsWith('vendor-')) return { status: 502, code: 'vendor-failed', detail };
  return { status: 502, code: 'issuer-failed', detail };
}

/** `a TypeError`, `a string`: what was thrown, by a name that cannot be a secret. */
export function thrownKind(error: unknown): string {
  if (error instanceof Error) {
    const name = /^[A-Za-z][\w$]{0,63}$/.test(error.name) ? error.name : 'Error';
    return /^[AEIOU]/.test(name) ? `an ${name}` : `a ${name}`;
  }
  return error === null ? 'null' : `a ${typeof error}`;
}
