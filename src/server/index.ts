export { createTokenHandler } from './token-handler.js';
export type {
  IssuedToken,
  TokenHandlerErrorCode,
  TokenHandlerOptions,
  TokenIssuer,
  TokenIssuerResult,
} from './token-handler.js';
export { accessKeyExchange } from './providers.js';
export type { AccessKeyExchangeOptions } from './providers.js';
export { tokenExchange } from './token-exchange.js';
export type { TokenExchangeOptions } from './token-exchange.js';
export { signToken } from './sign-token.js';
export type { SignTokenOptions, SigningAlgorithm, SigningKey } from './sign-token.js';
export { toNodeListener } from './node.js';
export type { NodeListener, WebHandler } from './node.js';
export { TokenIssueError } from './errors.js';
export type { TokenIssueErrorCode, TokenIssueErrorOptions } from './errors.js';
export { createMemoryTokenCache } from './token-cache.js';
export type { CachedToken, MemoryTokenCacheOptions, TokenCache } from './token-cache.js';
export type { RateLimitOptions } from './rate-limit.js';
export type { RateLimitVerdict } from './rate-limit.js';
export type { SharedRateLimiter, SharedSingleFlight, SharedTokenStore } from './shared-store.js';
