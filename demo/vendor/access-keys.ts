import { createHash, timingSafeEqual } from 'node:crypto';

export type AccessKeyCheck = (accessId: string, accessKey: string) => boolean;
export type ApiKeyCheck = (apiKey: unknown) => boolean;

function digest(value: string): Buffer {
  // The string's own UTF-16 code units, not UTF-8: encoding to UTF-8 turns every lone surrogate into U+FFFD, so
  // '\ud800' and '\ufffd' would digest, and so compare, the same.
  return createHash('sha256').update(Buffer.from(value, 'utf16le')).digest();
}

/**
 * Checks a submitted accessId/accessKey pair without leaking, through timing, how much of either was right.
 * Comparing fixed-size SHA-256 digests makes the comparison length-independent, so timingSafeEqual never sees buffers
 * of different lengths (it would throw) and a wrong-length key is a plain `false`.
 */
export function createAccessKeyCheck(expectedId: string, expectedKey: string): AccessKeyCheck {
  const idDigest = digest(expectedId);
  const keyDigest = digest(expectedKey);
  return (accessId, accessKey) => {
    // Checked here too, not only by the caller: a non-string would make digest() throw, and a throw is a 500.
    if (typeof accessId !== 'string' || typeof accessKey !== 'string') return false;
    // Both comparisons always run (no short-circuit), so a right id with a wrong key costs the same as neither.
    const idMatches = timingSafeEqual(digest(accessId), idDigest);
    const keyMatches = timingSafeEqual(digest(accessKey), keyDigest);
    return idMatches && keyMatches;
  };
}

/**
 * Checks a submitted API key (the private key of the Qrvey-style token API, or the publishable dev key of the data
 * API) the same way: fixed-size digests compared in constant time, so neither timing nor a length mismatch tells a
 * caller how much of a guess was right. Anything but a string (a missing header) is a plain `false`.
 */
export function createApiKeyCheck(expectedKey: string): ApiKeyCheck {
  const keyDigest = digest(expectedKey);
  return (apiKey) => typeof apiKey === 'string' && timingSafeEqual(digest(apiKey), keyDigest);
}
