import { readHandlerOptions, type TokenHandlerOptions } from './handler-settings.js';
import { TokenRequest } from './token-request.js';
import type { IssuedToken, TokenIssuer, TokenIssuerResult } from './user-tokens.js';

export type { TokenHandlerErrorCode } from './handler-responses.js';
export type { TokenHandlerOptions } from './handler-settings.js';
export type { IssuedToken, TokenIssuer, TokenIssuerResult };

/**
 * The host backend's token endpoint as a Web-standard handler: refuse what is not a token request from this site,
 * authorize the caller with the host's own session, count their requests, hand out their cached token or get one from
 * the vendor, answer `{"embedToken", "expiresAt"}`. Wrap it with `toNodeListener` for node:http, Express or Vite.
 *
 * The options are read once, here (handler-settings.ts); each request then goes through the steps of
 * token-request.ts, cheapest first, the first that answers ending it.
 */
export function createTokenHandler<User>(options: TokenHandlerOptions<User>): (request: Request) => Promise<Response> {
  const settings = readHandlerOptions(options);
  return async (request) => {
    const steps = new TokenRequest(request, settings);
    return (
      steps.answerPreflight() ??
      steps.refuseOtherMethods() ??
      (await steps.refuseLargeBodies()) ??
      steps.refuseOtherSites() ??
      (await steps.identifyUser()) ??
      (await steps.limitRate()) ??
      (await steps.answerToken())
    );
  };
}
