/** Bounds that more than one side enforces: one number each, so the sides can never disagree. */

/**
 * The longest token any side accepts, in characters: the element refuses a longer one from its endpoint, the frame
 * helper over the port, the server from its issuer. Anything larger is a page, a dump or an attack, not a token.
 */
export const MAX_TOKEN_LENGTH = 16 * 1024;

/**
 * The longest body any side reads when it expects a token: a JSON envelope around a token of MAX_TOKEN_LENGTH. The
 * element reads its endpoint's answer no further, the server its vendor's.
 */
export const MAX_TOKEN_BODY = MAX_TOKEN_LENGTH + 4096;

/**
 * A token with less than this to live (ms) is expired on every side: the element refuses it (`token-expired`) and
 * the server does not hand it out, so that a token stated to live a millisecond costs one request, not a loop.
 */
export const MIN_TOKEN_LIFE = 1_000;
