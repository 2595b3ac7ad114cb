/**
 * The one URL rule of every side (docs/design.md, "Security rules"): `https:`, or `http:` only where traffic never
 * leaves the machine. The element applies it to what it loads and talks to, the server to the vendor API its secrets
 * travel to.
 */

/**
 * Loopback hosts, as the URL parser normalises a hostname (lower case, IPv4 dotted, IPv6 in brackets).
 * `*.localhost` resolves to loopback in every current browser (RFC 6761 §6.3).
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

/** Why `url` breaks the rule, in words that never quote it (a URL may carry credentials); null when it passes. */
export function urlRuleViolation(url: URL): string | null {
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && isLoopbackHost(url.hostname))) {
    return `must use https: (or http: on localhost); ${url.protocol} is not allowed`;
  }
  if (url.username || url.password) return 'must not contain credentials';
  return null;
}
