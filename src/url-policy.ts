import { SecureWidgetError } from './errors.js';

/**
 * Hosts where plain `http:` is acceptable: traffic never leaves the machine. `*.localhost` resolves to loopback in
 * every current browser (RFC 6761 §6.3).
 */
export function isLoopbackHost(hostname: string): boolean {
  const host = hostname.toLowerCase().replace(/\.$/, '');
  return (
    host === 'localhost' ||
    host.endsWith('.localhost') ||
    host === '[::1]' ||
    /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host)
  );
}

/**
 * The URL policy of DESIGN §5 for everything the element loads or talks to: `https:`, or `http:` on loopback.
 * Anything else (`javascript:`, `data:`, `blob:`, `file:`, plain http to the network, junk) is refused before a
 * single byte is loaded, because each of these either runs attacker-chosen code or sends the token in clear text.
 */
export function acceptUrl(value: string, base: string, what: string): URL {
  let url: URL;
  try {
    url = new URL(value, base);
  } catch {
    throw new SecureWidgetError('url-rejected', `${what} is not a valid URL.`, { fatal: true });
  }
  const secure = url.protocol === 'https:' || (url.protocol === 'http:' && isLoopbackHost(url.hostname));
  if (!secure) {
    // The scheme alone identifies the problem without echoing a URL that may carry credentials.
    throw new SecureWidgetError(
      'url-rejected',
      `${what} must use https: (or http: on localhost); ${url.protocol} is not allowed.`,
      { fatal: true },
    );
  }
  if (url.username || url.password) {
    throw new SecureWidgetError('url-rejected', `${what} must not contain credentials.`, { fatal: true });
  }
  return url;
}
