import { urlRuleViolation } from '../protocol/url-rule.js';
import { SecureWidgetError } from './errors.js';

/**
 * The URL rule (protocol/url-rule.ts) for everything the element loads or talks to. Anything else (`javascript:`,
 * `data:`, `blob:`, `file:`, plain http to the network, junk) is refused before a single byte is loaded, because each
 * either runs attacker-chosen code or sends the token in clear text.
 */
export function acceptUrl(value: string, base: string, what: string): URL {
  let url: URL;
  try {
    url = new URL(value, base);
  } catch {
    throw new SecureWidgetError('url-rejected', `${what} is not a valid URL.`, { fatal: true });
  }
  const violation = urlRuleViolation(url);
  if (violation) throw new SecureWidgetError('url-rejected', `${what} ${violation}.`, { fatal: true });
  return url;
}
