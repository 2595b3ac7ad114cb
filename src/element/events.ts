import type { SecureWidgetErrorCode } from './errors.js';

/** Where a widget's token came from. */
/** `api-key`: dev mode, the vendor got the `api-key` instead of a token. */
export type TokenSource = 'markup' | 'endpoint' | 'shared' | 'api-key';

export interface SecureWidgetTokenDetail {
  /** Local-clock ms; null for an opaque token without expiry hints. Never the token itself. */
  expiresAt: number | null;
  source: TokenSource;
}
export interface SecureWidgetReadyDetail {
  mode: 'bundle' | 'iframe';
}
export interface SecureWidgetReloadDetail {
  reason: 'expired' | 'manual';
}
export interface SecureWidgetErrorDetail {
  code: SecureWidgetErrorCode;
  message: string;
  /** No automatic retry until `refresh()` or a configuration change. */
  fatal: boolean;
  /** The endpoint's HTTP status, for `endpoint-http`. */
  status?: number;
  /** Local-clock ms of the next automatic attempt, when one is scheduled. */
  retryAt?: number;
}

export interface SecureWidgetEventMap {
  'secure-widget-token': CustomEvent<SecureWidgetTokenDetail>;
  'secure-widget-ready': CustomEvent<SecureWidgetReadyDetail>;
  'secure-widget-reload': CustomEvent<SecureWidgetReloadDetail>;
  'secure-widget-error': CustomEvent<SecureWidgetErrorDetail>;
}

declare global {
  // The events bubble and are composed, so listeners anywhere up the tree get them typed: elements, the document and
  // the window all read GlobalEventHandlersEventMap.
  interface GlobalEventHandlersEventMap extends SecureWidgetEventMap {}
}
