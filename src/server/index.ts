export { createTokenHandler } from './token-handler.js';
export type { IssuedToken, TokenHandlerErrorCode, TokenHandlerOptions, TokenIssuer } from './token-handler.js';
export { accessKeyExchange } from './providers.js';
export type { AccessKeyExchangeOptions } from './providers.js';
export { toNodeListener } from './node.js';
export type { NodeListener, WebHandler } from './node.js';
export { TokenIssueError } from './errors.js';
export type { TokenIssueErrorCode, TokenIssueErrorOptions } from './errors.js';
