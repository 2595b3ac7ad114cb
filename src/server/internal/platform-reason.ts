/**
 * What the platform said when it refused a key, a signature or a connection, in a form a log line may carry: the
 * error's name (`DataError`, `NotSupportedError`), its `code` (`ECONNREFUSED`) and its message when that is short and
 * holds nothing that looks like key material. WebCrypto's and jose's messages name the problem ("Invalid keyData",
 * "The toCryptoKey method is not implemented"), never the key; the check below is for a platform that one day quotes
 * what it was given.
 */
const MAX_MESSAGE_LENGTH = 160;
// 20 or more base64, base64url or hex characters in a row: a key's bytes, or a token's.
const KEY_MATERIAL = /[A-Za-z0-9+/=_-]{20,}/;
const NAME = /^[A-Za-z][\w$]{0,63}$/;
const CODE = /^[A-Z][A-Z0-9_]{1,63}$/;

export function platformReason(error: unknown): string {
  if (typeof error !== 'object' || error === null) return typeof error;
  const { name, message, code } = error as { name?: unknown; message?: unknown; code?: unknown };
  const parts = [typeof name === 'string' && NAME.test(name) ? name : 'Error'];
  if (typeof code === 'string' && CODE.test(code)) parts.push(code);
  const text = typeof message === 'string' ? message.trim() : '';
  if (text !== '' && text.length <= MAX_MESSAGE_LENGTH && !/[\r\n]/.test(text) && !KEY_MATERIAL.test(text)) {
    return `${parts.join(' ')}: ${text}`;
  }
  return parts.join(' ');
}

/** The `code` of an error or of the first cause that has one (`fetch failed` ← `ECONNREFUSED`), if it is a plain code. */
export function causeCode(error: unknown): string | undefined {
  for (let depth = 0, current = error; depth < 4 && typeof current === 'object' && current !== null; depth += 1) {
    const { code, cause } = current as { code?: unknown; cause?: unknown };
    if (typeof code === 'string' && CODE.test(code)) return code;
    current = cause;
  }
  return undefined;
}
