import { isLoopbackHost } from '../protocol/url-rule.js';
import { SecureWidgetError } from './errors.js';
import { pageState } from './page-state.js';

/**
 * The dev-mode `api-key` (the vendors' "API Key — for dev mode only"): handed to the vendor in place of a token only
 * where it cannot hurt. The rules, from the API-key primer every vendor echoes: publishable keys (`pk_…`) are made for
 * browsers; secret keys never belong in a page, on any host; anything else is a developer's key, for a page on their
 * own machine. No message here ever quotes the key.
 */
export type DevKeyUse = 'use' | 'ignore';

const PRODUCTION = 'In production, use token-endpoint.';

/** `sk_…`, `rk_…`, anything saying "secret", a PEM, or a long random string like a server's access key. */
export function looksSecret(key: string): boolean {
  return (
    /^(?:sk|rk)_/i.test(key) ||
    /secret/i.test(key) ||
    /-----BEGIN /.test(key) ||
    (!isPublishable(key) && /^[\w+/=-]{32,}$/.test(key))
  );
}

export function isPublishable(key: string): boolean {
  return /^pk_/.test(key);
}

/**
 * What to do with `key` on a page at `hostname`: use it, or ignore it because a token source is set (a token always
 * wins). Throws `secret-key` for a secret on any host, `dev-key-remote` for a developer's key off loopback.
 */
export function judgeDevKey(key: string, hostname: string, hasTokenSource: boolean): DevKeyUse {
  if (looksSecret(key)) {
    throw new SecureWidgetError(
      'secret-key',
      `api-key looks like a secret key: remove it from the page. ${PRODUCTION}`,
    );
  }
  if (hasTokenSource) {
    warnOnce('secure-widget: api-key is ignored: token-endpoint or fetchToken is set.');
    return 'ignore';
  }
  if (isPublishable(key)) return 'use';
  if (!isLoopbackHost(hostname)) {
    throw new SecureWidgetError('dev-key-remote', `api-key is for development on localhost only. ${PRODUCTION}`);
  }
  warnOnce(`secure-widget: api-key is for development only. ${PRODUCTION}`);
  return 'use';
}

function warnOnce(message: string): void {
  if (pageState.devKeyWarned) return;
  pageState.devKeyWarned = true;
  console.warn(message);
}
