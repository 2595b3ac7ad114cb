/**
 * Which `TokenIssueError`s this library wrote. Their messages never hold a secret (the rule of errors.ts), so the
 * handler's log line may quote them and say which step failed and why. A host's own `TokenIssueError` may say
 * anything (`vendor said ${apiKey}`): its message stays out of the log, as it always did. Internal: a host cannot reach
 * the set, so it cannot vouch for its own messages by mistake.
 */
import { TokenIssueError, type TokenIssueErrorCode, type TokenIssueErrorOptions } from '../errors.js';

const written = new WeakSet<TokenIssueError>();

export function ownIssueError(
  code: TokenIssueErrorCode,
  message: string,
  options?: TokenIssueErrorOptions,
): TokenIssueError {
  const error = new TokenIssueError(code, message, options);
  written.add(error);
  return error;
}

/** True for an error made by {@link ownIssueError}: its message may go into a log line. */
export function isOwnIssueError(error: unknown): error is TokenIssueError {
  return error instanceof TokenIssueError && written.has(error);
}
