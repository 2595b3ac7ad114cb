import { SecureWidgetError } from '../errors.js';
import type { ReloadReason } from '../recovery.js';
import { loadBundle, preloadBundle, type BundleOptions } from './bundle.js';
import type { TokenTarget } from './token-target.js';
import type { Embed, EmbedHost } from './embed.js';
import { VendorSlot } from './vendor-element.js';
import { onGlobalReload } from './vendor-global.js';

/** @internal */
export interface BundleConfig {
  bundleUrl: URL | null;
  scriptOptions: BundleOptions;
  /** Where the vendor element takes its token (or dev key) from. */
  target: TokenTarget;
  expiryEvent: string;
  reloadGlobal: string;
}

/**
 * @internal
 * Where the vendor element stands; the phase changes only in `BundleEmbed.#enter`.
 * - `searching`: no vendor element yet (a framework or a script may add it late, and markup found wrong is looked at
 *   again once parsed); `token`, the latest one handed over, goes on the element once it is found;
 * - `found`: `widget` is the element (or its template) and carries no token yet; `bundle` is the script's load when it
 *   started already, as it does at once for a template (nothing of it runs without a token), else null;
 * - `shown`: the first token is on the element; the script loads or has run. A failed load goes back to `found`
 *   without it, so that the next token (refresh()) tries the script again;
 * - `closed`: the signal aborted, or the markup was found wrong (reported once, and not looked at again); what was
 *   stamped is removed, and a load that ends now is nobody's news.
 */
type BundlePhase =
  | { readonly name: 'searching'; readonly widget: null; token: string | null }
  | { readonly name: 'found'; readonly widget: VendorSlot; readonly bundle: Promise<void> | null }
  | { readonly name: 'shown'; readonly widget: VendorSlot }
  | { readonly name: 'closed'; readonly widget: null };

/**
 * Bundle mode (docs/design.md, "Rendering"): the vendor script renders into the light DOM. Its download runs in
 * parallel with the token request, and it runs only once the token is on the vendor element: a `<template>` is stamped
 * then; a plain child gets the token in place, and the preloaded script after it.
 * @internal
 */
export class BundleEmbed implements Embed {
  readonly #element: HTMLElement;
  readonly #host: EmbedHost;
  readonly #config: BundleConfig;
  readonly #signal: AbortSignal;
  #phase: BundlePhase = { name: 'searching', widget: null, token: null };

  constructor(element: HTMLElement, host: EmbedHost, config: BundleConfig, signal: AbortSignal) {
    this.#element = element;
    this.#host = host;
    this.#config = config;
    this.#signal = signal;
    element.addEventListener(config.expiryEvent, (event) => this.#onExpiryEvent(event), { signal });
    onGlobalReload(config.reloadGlobal, this.#onGlobalReload, signal);
    signal.addEventListener('abort', () => this.#enter({ name: 'closed', widget: null }), { once: true });
    this.#findSlot();
  }

  setToken(token: string): void {
    const phase = this.#phase;
    if (phase.name === 'searching') phase.token = token;
    const { widget } = phase;
    if (!widget || !this.#put(widget, token) || phase.name !== 'found') return;
    const shown = { name: 'shown', widget } as const;
    this.#enter(shown);
    this.#host.vendorHas(token);
    // How the load ends is news only to the phase that waits for it: not after an abort.
    this.#whenLoaded(phase.bundle).then(
      () => {
        if (this.#phase === shown) this.#host.ready();
      },
      (error: SecureWidgetError) => {
        if (this.#phase !== shown) return;
        this.#enter({ name: 'found', widget, bundle: null });
        this.#host.fail(error, false);
      },
    );
  }

  async reload(token: string, reason: ReloadReason): Promise<void> {
    const { widget } = this.#phase;
    if (!widget || !this.#put(widget, token)) return;
    try {
      await widget.reload(token, this.#config.reloadGlobal, this.#onGlobalReload, reason);
    } catch {
      // The vendor's own reload failed; a fresh copy of its element with the new token is the reload that is left.
      widget.restamp(token);
    }
  }

  /** The one way from a phase to the next; closing removes what was stamped (a plain child is the page's, and stays). */
  #enter(next: BundlePhase): void {
    if (next.name === 'closed') this.#phase.widget?.clear();
    this.#phase = next;
  }

  /** The token onto the vendor; a config object the page swapped for something else since is a fault, not a crash. */
  #put(widget: VendorSlot, token: string): boolean {
    try {
      widget.setToken(token);
      return true;
    } catch (error) {
      this.#host.fail(error as SecureWidgetError, false);
      return false;
    }
  }

  /** Page scripts, parsers and frameworks may add the vendor child after us: wait for it rather than fail early. */
  #findSlot(): void {
    if (this.#lookForSlot(document.readyState !== 'loading')) return;
    // Children added later (a framework, a script); the parser's own additions are complete at DOMContentLoaded.
    const observer = new MutationObserver(() => {
      if (this.#lookForSlot(document.readyState !== 'loading')) observer.disconnect();
    });
    observer.observe(this.#element, { childList: true, subtree: true });
    this.#signal.addEventListener('abort', () => observer.disconnect(), { once: true });
    const settle = () => {
      if (this.#lookForSlot(true)) return;
      const message = 'Bundle mode needs the vendor element in <secure-widget>, in a <template> or as a child.';
      this.#host.fail(new SecureWidgetError('config-invalid', message), true);
    };
    if (document.readyState === 'loading') {
      document.addEventListener('DOMContentLoaded', settle, { once: true, signal: this.#signal });
    } else {
      queueMicrotask(settle);
    }
  }

  /** True when the search is over: the vendor element is found, the markup is wrong (reported), or we are closed. */
  #lookForSlot(parsed: boolean): boolean {
    const phase = this.#phase;
    if (phase.name !== 'searching') return true;
    let widget: VendorSlot | null;
    try {
      widget = VendorSlot.find(this.#element, this.#config.target, parsed);
    } catch (error) {
      // The search is over: the check at DOMContentLoaded must not report the same markup a second time.
      this.#enter({ name: 'closed', widget: null });
      this.#host.fail(error as SecureWidgetError, false);
      return true;
    }
    if (!widget) return false;
    // Template: the script downloads and runs while the token is fetched (its element does not exist yet). A plain
    // child is live already: its script must not run before the token is on it, so it is only preloaded now and runs
    // once the first token is on it.
    this.#enter({ name: 'found', widget, bundle: widget.fromTemplate ? this.#loadBundle() : null });
    const { bundleUrl, scriptOptions: script } = this.#config;
    if (!widget.fromTemplate && bundleUrl && phase.token === null) preloadBundle(bundleUrl, script);
    if (phase.token !== null) this.setToken(phase.token);
    return true;
  }

  #loadBundle(): Promise<void> | null {
    const { bundleUrl, scriptOptions: script } = this.#config;
    if (!bundleUrl) return null;
    const loading = loadBundle(bundleUrl, script);
    // Reported once the widget would be shown; until then nobody must see an unhandled rejection.
    loading.catch(() => {});
    return loading;
  }

  /** The script's load, started now unless it already was (a template's). */
  async #whenLoaded(bundle: Promise<void> | null): Promise<void> {
    await (bundle ?? this.#loadBundle());
  }

  readonly #onGlobalReload = (covers: number, reason: ReloadReason): void => {
    const phase = this.#phase;
    const token = phase.name === 'shown' && phase.widget.token;
    if (token && phase.widget.coveredBy(covers)) this.#host.reloaded(token, reason);
  };

  #onExpiryEvent(event: Event): void {
    const vendor = this.#phase.widget?.element;
    if (vendor && event.target instanceof Node && vendor.contains(event.target)) this.#host.expired();
  }
}
