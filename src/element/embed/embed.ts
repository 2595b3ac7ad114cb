import type { SecureWidgetError } from '../errors.js';
import type { ReloadReason } from '../recovery.js';

/** @internal What an embedding (bundle or iframe) tells the session. */
export interface EmbedHost {
  /** The vendor widget has its first token and is rendered. */
  ready(): void;
  /** The vendor widget rejected its token (bundle: the expiry event; iframe: an `expired` message). */
  expired(): void;
  /** `mends`: the embedding keeps trying and may still show the vendor (a late frame, a child added late). */
  fail(error: SecureWidgetError, mends: boolean): void;
  /** The vendor widget runs on `token` now: the first one shown, or one delivered to a frame. */
  vendorHas(token: string): void;
  /** Another widget's page-wide reload (the vendor global) reloaded this vendor widget with `token`, for `reason`. */
  reloaded(token: string, reason: ReloadReason): void;
}

/** @internal One way of showing the vendor widget. Everything it starts ends with the signal it was given. */
export interface Embed {
  /** Hands a token over; the first one shows the widget, later ones wait for `reload` (a frame switches at once). */
  setToken(token: string): void;
  /** Brings the widget back with `token`; `reason` is told to the other widgets a page-wide reload reloads too. */
  reload(token: string, reason: ReloadReason): Promise<void>;
}
