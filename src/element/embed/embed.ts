import type { SecureWidgetError } from '../errors.js';

/** What an embedding (bundle or iframe) tells the element. */
export interface EmbedHost {
  /** The vendor widget has its first token and is rendered. */
  ready(): void;
  /** The vendor widget rejected its token (bundle: the expiry event; iframe: an `expired` message). */
  expired(): void;
  fail(error: SecureWidgetError): void;
  /** The vendor widget took `token` later than when it was handed over (an iframe that connected afterwards). */
  loaded(token: string): void;
  /** Another widget's page-wide reload (the vendor global) reloaded this vendor widget with `token`. */
  reloaded(token: string): void;
}

/** One way of showing the vendor widget. Everything it starts ends with the signal it was given. */
export interface Embed {
  /** True once the first token has been handed over and the widget loads with it. */
  readonly shown: boolean;
  /** Hands a token over; the first one shows the widget, later ones wait for `reload`. */
  setToken(token: string): void;
  /** Brings the widget back with the token it now holds. */
  reload(token: string): Promise<void>;
}
