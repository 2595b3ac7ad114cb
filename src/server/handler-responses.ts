/**
 * The token handler's answers: JSON that no cache may keep, dated by the handler's clock, and errors as
 * `{"error": {"code", "message"}}` with a fixed message per code (docs/endpoint.md lists them).
 */
export type TokenHandlerErrorCode =
  | 'method-not-allowed'
  | 'payload-too-large'
  | 'cross-site'
  | 'unauthorized'
  | 'rate-limited'
  | 'vendor-failed'
  | 'vendor-timeout'
  | 'issuer-failed'
  | 'internal';

const ERROR_MESSAGES: Record<TokenHandlerErrorCode, string> = {
  'method-not-allowed': 'Use GET or POST.',
  'payload-too-large': 'A token request has no body to speak of.',
  'cross-site': 'Token requests from other sites are refused.',
  unauthorized: 'Sign in to load this widget.',
  'rate-limited': 'Too many token requests; try again later.',
  'vendor-failed': 'The widget vendor could not issue a token.',
  'vendor-timeout': 'The widget vendor did not answer in time.',
  'issuer-failed': 'This site could not issue a token.',
  internal: 'Internal server error.',
};

/** A JSON answer with the headers every answer of the handler carries. */
export function jsonResponse(
  now: number,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: {
      'Content-Type': 'application/json; charset=utf-8',
      // A token is a bearer credential: no shared cache, proxy or back/forward cache may keep it.
      'Cache-Control': 'no-store',
      Pragma: 'no-cache',
      'X-Content-Type-Options': 'nosniff',
      // The element measures the token's remaining life against this header rather than its own clock, and not
      // every runtime adds one, so it is always set from the same clock.
      Date: new Date(now).toUTCString(),
      ...headers,
    },
  });
}

export function errorResponse(
  now: number,
  status: number,
  code: TokenHandlerErrorCode,
  headers?: Record<string, string>,
): Response {
  return jsonResponse(now, status, { error: { code, message: ERROR_MESSAGES[code] } }, headers);
}
