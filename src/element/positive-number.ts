/**
 * A number from markup or from a response, or null when it is junk: empty, not a number, not finite, zero or
 * negative. Every such value in this library is a duration or a time, where zero makes no sense, so junk means "not
 * set" and the default applies (`refresh-margin=""` is the default margin, not 0; `expiresIn: ""` is no hint, not an
 * expired token).
 */
export function positiveNumber(value: unknown): number | null {
  const number = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
  return typeof number === 'number' && Number.isFinite(number) && number > 0 ? number : null;
}
