/**
 * Whether `value` is an origin exactly as the browser writes one in `event.origin` and the `Origin` header: scheme, host
 * and port, lower case, no path, no trailing slash, no default port. Allow-lists are compared with `===` against those,
 * so anything else in a list would be a silent no-op, or worse. `"null"` (every sandboxed or `file:` document) and `"*"`
 * (everyone) are never origins to allow.
 */
export function isSerializedOrigin(value: unknown): value is string {
  if (typeof value !== 'string' || value === '*' || value === 'null') return false;
  try {
    return new URL(value).origin === value;
  } catch {
    return false;
  }
}

/** A serialized origin that a web page can have: `http:` or `https:`. */
export function isWebPageOrigin(value: unknown): value is string {
  return isSerializedOrigin(value) && /^https?:\/\//.test(value);
}
