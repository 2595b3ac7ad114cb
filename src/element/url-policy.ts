import { urlRuleViolation } from '../protocol/url-rule.js';
import { SecureWidgetError } from './errors.js';

/**
 * The URL rule (protocol/url-rule.ts) for everything the element loads or talks to. Anything else (`javascript:`,
 * `data:`, `blob:`, `file:`, plain http to the network, junk) is refused before a single byte is loaded, because each
 * either runs attacker-chosen code or sends the token in clear text. A URL on `ownOrigin` (the page's, for the token
 * endpoint) is as safe as the page itself and only has to parse; an opaque origin (`null`: a sandboxed or file: page,
 * and every data: URL) is nobody's own.
 */
export function acceptUrl(value: string, base: string, what: string, ownOrigin?: string): URL {
  let url: URL;
  try {
    url = new URL(value, base);
  } catch {
    throw new SecureWidgetError('url-rejected', `${what} is not a valid URL.`);
  }
  const violation = url.origin === ownOrigin && ownOrigin !== 'null' ? null : urlRuleViolation(url);
  if (violation) throw new SecureWidgetError('url-rejected', `${what} ${violation}.`);
  return url;
}
