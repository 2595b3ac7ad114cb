import { createHash, timingSafeEqual } from 'node:crypto';

export type AccessKeyCheck = (accessId: string, accessKey: string) => boolean;

function digest(value: string): Buffer {
  return createHash('sha256').update(value, 'utf8').digest();
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
    // Both comparisons always run (no short-circuit), so a right id with a wrong key costs the same as neither.
    const idMatches = timingSafeEqual(digest(accessId), idDigest);
    const keyMatches = timingSafeEqual(digest(accessKey), keyDigest);
    return idMatches && keyMatches;
  };
}
