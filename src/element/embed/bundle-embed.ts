import { SecureWidgetError } from '../errors.js';
import type { ReloadReason } from '../recovery.js';
import { loadBundle, preloadBundle, type BundleOptions } from './bundle.js';
import type { TokenTarget } from './token-target.js';
import type { Embed, EmbedHost } from './embed.js';
import { VendorSlot } from './vendor-element.js';
import { onGlobalReload } from './vendor-global.js';

export interface BundleConfig {
  bundleUrl: URL | null;
  script: BundleOptions;
  /** Where the vendor element takes its token (or dev key) from. */
  target: TokenTarget;
  expiryEvent: string;
  reloadGlobal: string;
}

/**
 * Bundle mode (docs/design.md, "Rendering"): the vendor script renders into the light DOM. Its download runs in
 * parallel with the token request, and it runs only once the token is on the vendor element: a `<template>` is stamped
 * then; a plain child gets the token in place, and the preloaded script after it.
 */
export class BundleEmbed implements Embed {
  readonly #element: HTMLElement;
  readonly #host: EmbedHost;
  readonly #config: BundleConfig;
  readonly #signal: AbortSignal;
  #slot: VendorSlot | null = null;
  #bundle: Promise<void> | null = null;
  #pendingToken: string | null = null;
  #shown = false;

  constructor(element: HTMLElement, host: EmbedHost, config: BundleConfig, signal: AbortSignal) {
    this.#element = element;
    this.#host = host;
    this.#config = config;
    this.#signal = signal;
    element.addEventListener(config.expiryEvent, (event) => this.#onExpiryEvent(event), { signal });
    onGlobalReload(config.reloadGlobal, this.#onGlobalReload, signal);
    signal.addEventListener('abort', () => this.#slot?.clear(), { once: true });
    this.#findSlot();
  }

  setToken(token: string): void {
    if (!this.#slot) {
      this.#pendingToken = token;
      return;
    }
    if (!this.#put(this.#slot, token) || this.#shown) return;
    this.#shown = true;
    this.#host.loaded(token);
    this.#whenLoaded().then(
      () => {
        if (!this.#signal.aborted) this.#host.ready();
      },
      (error: SecureWidgetError) => {
        if (this.#signal.aborted) return;
        // Forget the failed load, so that the next token (refresh()) tries the script again.
        this.#bundle = null;
        this.#shown = false;
        this.#host.fail(error, false);
      },
    );
  }

  async reload(token: string, reason: ReloadReason): Promise<void> {
    const slot = this.#slot;
    if (!slot || !this.#put(slot, token)) return;
    try {
      await slot.reload(token, this.#config.reloadGlobal, this.#onGlobalReload, reason);
    } catch {
      // The vendor's own reload failed; a fresh copy of its element with the new token is the reload that is left.
      slot.restamp(token);
    }
  }

  /** The token onto the vendor; a config object the page swapped for something else since is a fault, not a crash. */
  #put(slot: VendorSlot, token: string): boolean {
    try {
      slot.setToken(token);
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
      if (this.#slot || this.#signal.aborted || this.#lookForSlot(true)) return;
      const message = 'Bundle mode needs the vendor element in <secure-widget>, in a <template> or as a child.';
      this.#host.fail(new SecureWidgetError('config-invalid', message), true);
    };
    if (document.readyState === 'loading') {
      document.addEventListener('DOMContentLoaded', settle, { once: true, signal: this.#signal });
    } else {
      queueMicrotask(settle);
    }
  }

  /** True when the search is over: the vendor element is found, or the markup is wrong (reported). */
  #lookForSlot(parsed: boolean): boolean {
    if (this.#slot) return true;
    try {
      this.#slot = VendorSlot.find(this.#element, this.#config.target, parsed);
    } catch (error) {
      this.#host.fail(error as SecureWidgetError, false);
      return true;
    }
    if (!this.#slot) return false;
    this.#onSlot();
    return true;
  }

  #onSlot(): void {
    // Template: the script downloads and runs while the token is fetched (its element does not exist yet). A plain
    // child is live already: its script must not run before the token is on it, so it is only preloaded now and runs
    // in #whenLoaded.
    const { bundleUrl, script } = this.#config;
    if (this.#slot!.fromTemplate) this.#bundle = this.#loadBundle();
    else if (bundleUrl && this.#pendingToken === null) preloadBundle(bundleUrl, script);
    if (this.#pendingToken !== null) {
      const token = this.#pendingToken;
      this.#pendingToken = null;
      this.setToken(token);
    }
  }

  #loadBundle(): Promise<void> | null {
    const { bundleUrl, script } = this.#config;
    if (!bundleUrl) return null;
    const loading = loadBundle(bundleUrl, script);
    // Reported once the widget would be shown; until then nobody must see an unhandled rejection.
    loading.catch(() => {});
    return loading;
  }

  async #whenLoaded(): Promise<void> {
    this.#bundle ??= this.#loadBundle();
    await this.#bundle;
  }

  readonly #onGlobalReload = (covers: number, reason: ReloadReason): void => {
    const token = this.#slot?.token;
    if (this.#shown && token && this.#slot!.coveredBy(covers)) this.#host.reloaded(token, reason);
  };

  #onExpiryEvent(event: Event): void {
    const vendor = this.#slot?.element;
    if (vendor && event.target instanceof Node && vendor.contains(event.target)) this.#host.expired();
  }
}
