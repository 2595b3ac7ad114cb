import { createExchange } from './internal/exchange.js';
import { refuseUnknownOptions } from './internal/known-options.js';
import { hasUnexpandedTemplate, isPlaceholderSecret } from './placeholder-secret.js';
import type { IssuedToken, TokenIssuer } from './user-tokens.js';

export interface AccessKeyExchangeOptions {
  /** The vendor's token API: `https:`, or `http:` on a loopback host only (the access key travels in the body). */
  url: string | URL;
  accessId: string;
  /**
   * Secret. Sent to `url` only; never in a response, an error message or a log line. An empty value, a placeholder
   * pasted from docs (`YOUR_ACCESS_KEY`, `change-me`, `<access key>`, `xxxx`) or an unexpanded template
   * (`${ACCESS_KEY}`, `{{accessKey}}`) is refused at construction.
   */
  accessKey: string;
  /**
   * @deprecated Refused with a `TypeError`: the deadline is the handler's, `createTokenHandler({ timeoutMs })`, which
   * aborts the signal it passes. To call the exchange yourself with one, pass `{ signal: AbortSignal.timeout(ms) }`.
   */
  timeoutMs?: never;
  /** Where the token is in the vendor's JSON. Default `json.data.embedToken`. */
  pick?: (json: unknown) => unknown;
  /** Default `globalThis.fetch`, looked up per call. */
  fetch?: typeof fetch;
}

/**
 * Exchanges an access id and key for an embed token: `POST url {accessId, accessKey}` → `{data: {embedToken}}`
 * (the Returning.AI flow). Every user gets the same kind of token, so the user is ignored. A configuration of
 * `tokenExchange`, with its errors.
 */
export function accessKeyExchange(options: AccessKeyExchangeOptions): TokenIssuer<unknown, IssuedToken> {
  if (typeof options !== 'object' || options === null) {
    throw new TypeError('accessKeyExchange: options must be an object');
  }
  refuseUnknownOptions<AccessKeyExchangeOptions>('accessKeyExchange', options, ACCESS_KEY_EXCHANGE_OPTIONS);
  const accessId = requireCredential(options.accessId, 'accessId');
  const accessKey = requireCredential(options.accessKey, 'accessKey');
  // A placeholder would fail at the vendor with a 401 on every request; refusing it here fails the deploy instead.
  if (isPlaceholderSecret(accessKey)) {
    throw new TypeError(
      'accessKeyExchange: options.accessKey is a placeholder or an unexpanded template (like YOUR_ACCESS_KEY, ' +
        'change-me or ${ACCESS_KEY}), not an access key',
    );
  }
  // Not a secret, so any real word passes; an unexpanded variable is the one mistake to catch.
  if (hasUnexpandedTemplate(accessId)) {
    throw new TypeError('accessKeyExchange: options.accessId is an unexpanded template (like ${ACCESS_ID})');
  }
  const credentials = { accessId, accessKey };
  const { url, timeoutMs, pick, fetch } = options;
  return createExchange('accessKeyExchange', { url, timeoutMs, pick, fetch, body: () => credentials }, pickEmbedToken);
}

const ACCESS_KEY_EXCHANGE_OPTIONS: Record<keyof AccessKeyExchangeOptions, true> = {
  url: true,
  accessId: true,
  accessKey: true,
  timeoutMs: true,
  pick: true,
  fetch: true,
};

function pickEmbedToken(json: unknown): unknown {
  if (typeof json !== 'object' || json === null) return undefined;
  const data = (json as { data?: unknown }).data;
  if (typeof data !== 'object' || data === null) return undefined;
  return (data as { embedToken?: unknown }).embedToken;
}

function requireCredential(value: unknown, name: 'accessId' | 'accessKey'): string {
  // The message names the option and never quotes it: a misplaced secret must not end up in a crash log.
  if (typeof value !== 'string' || value.trim() === '') {
    throw new TypeError(`accessKeyExchange: options.${name} must be a non-empty string`);
  }
  return value;
}
