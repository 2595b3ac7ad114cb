/**
 * The reference vendor's bundle widget: a browser script (esbuild IIFE) that mimics Returning.AI's SDK closely enough
 * to test a host against it. It renders into its light DOM, verifies its `embed-token` against the vendor's JWKS, loads
 * its data with `Authorization: Bearer`, and fires `rai-error` when the token is rejected or runs out. Like the real
 * SDK it never fetches a token itself: the host sets a new `embed-token` and calls `window.ReturningAIWidget.reload()`.
 */
import { injectStyles, readyCard, statusCard } from './card.js';
import { listenForExpireNow } from './debug-hook.js';
import { loadWidgetData, locateVendor } from './vendor-api.js';
import type { TokenRejectionCode, VendorEndpoints } from './vendor-api.js';

const TAG = 'demo-widget';
const VERSION = '1.0.0-reference';
const TOKEN_ATTRIBUTE = 'embed-token';
// setTimeout keeps its delay in a signed 32-bit integer; anything longer fires at once.
const MAX_TIMER_DELAY = 2 ** 31 - 2;

/** `data-state` on the element; `error` means the vendor could not be reached, which no new token would fix. */
export type DemoWidgetState = 'waiting' | 'verifying' | 'ready' | 'expired' | 'invalid' | 'error';
export type DemoWidgetErrorCode = TokenRejectionCode;

export interface ReturningAIWidgetGlobal {
  readonly version: string;
  /** Re-initialises every connected widget from its current `embed-token`; resolves when each is ready or failed. */
  reload(): Promise<void>;
}

// Read while the script is being evaluated: document.currentScript is null at any later time.
const script = typeof document === 'undefined' ? null : document.currentScript;
const scriptElement = script instanceof HTMLScriptElement ? script : null;
let vendor: VendorEndpoints | null = null;
const connectedWidgets = new Set<DemoWidget>();

/**
 * `<demo-widget community-id="42" data-user-id="u1" embed-token="…">`
 *
 * @fires rai-error - `{ code: 'token_expired' | 'token_invalid' }` when the token runs out or is rejected.
 */
export class DemoWidget extends HTMLElement {
  static readonly observedAttributes = [TOKEN_ATTRIBUTE];

  /** Re-initialises every connected widget; what `window.ReturningAIWidget.reload()` does. */
  static reloadAll(): Promise<void> {
    return Promise.all([...connectedWidgets].map((widget) => widget.#reloadAndSettle())).then(() => undefined);
  }

  #call = 0;
  #loads = 0;
  #initialised = false;
  #connected = false;
  #loading: Promise<void> = Promise.resolve();
  #controller: AbortController | null = null;
  #expiryTimer: ReturnType<typeof setTimeout> | undefined;
  #countdownTimer: ReturnType<typeof setInterval> | undefined;
  #expiresAt: number | null = null;
  #tokenId: string | null = null;
  #stopExpiryHook: (() => void) | null = null;

  /** How many times this widget has initialised from a token (first load and every reload). */
  get loadCount(): number {
    return this.#loads;
  }

  /** When the loaded token expires (ms since epoch, local clock), or null before a token has been accepted. */
  get tokenExpiresAt(): number | null {
    return this.#expiresAt;
  }

  /** The `jti` of the token in use, or null: tests tell tokens apart by it, so the token itself is never exposed. */
  get loadedTokenId(): string | null {
    return this.#tokenId;
  }

  connectedCallback(): void {
    this.#connected = true;
    connectedWidgets.add(this);
    // Under a nonce-based CSP the page's nonce, handed to our script, is what lets our styles apply too.
    injectStyles(VERSION, scriptElement?.nonce);
    // The vendor's "expire now" support hook (debug-hook.ts): a widget on a token fires rai-error as if it ran out.
    this.#stopExpiryHook ??= listenForExpireNow(() => {
      if (this.dataset.state === 'ready') this.#reject('token_expired');
    });
    // Moved within one task: the teardown was skipped (see disconnectedCallback), so the running widget carries on.
    if (this.#initialised) return;
    if (this.hasAttribute(TOKEN_ATTRIBUTE)) void this.#start();
    else this.#wait();
  }

  disconnectedCallback(): void {
    this.#connected = false;
    connectedWidgets.delete(this);
    // Deferred a microtask so that a move (disconnect + connect in one task) neither stops nor re-initialises it.
    queueMicrotask(() => {
      if (this.isConnected) return;
      this.#call++;
      this.#stop();
      this.#stopExpiryHook?.();
      this.#stopExpiryHook = null;
      this.#initialised = false;
    });
  }

  attributeChangedCallback(name: string, _oldValue: string | null, newValue: string | null): void {
    // Only the first token starts the widget; later changes wait for reload(), as the real SDK asks hosts to do.
    if (name === TOKEN_ATTRIBUTE && this.#connected && !this.#initialised && newValue !== null) void this.#start();
  }

  #start(): Promise<void> {
    this.#loading = this.#load();
    return this.#loading;
  }

  async #reloadAndSettle(): Promise<void> {
    let pending = this.#start();
    // A newer load (the first token arriving, another reload) may supersede this one: settle on whichever is current.
    for (;;) {
      await pending;
      if (pending === this.#loading) return;
      pending = this.#loading;
    }
  }

  async #load(): Promise<void> {
    const call = ++this.#call;
    this.#stop();
    this.#expiresAt = null;
    this.#tokenId = null;
    const token = this.getAttribute(TOKEN_ATTRIBUTE)?.trim();
    if (!token) {
      this.#initialised = false;
      this.#wait();
      return;
    }
    this.#initialised = true;
    this.#loads++;
    const controller = (this.#controller = new AbortController());
    this.#show('verifying', statusCard('pending', 'Verifying token…', []));
    if (!vendor) {
      this.#show(
        'error',
        statusCard('failed', 'Widget unavailable', ['The widget script could not tell where it was loaded from.']),
      );
      return;
    }

    const result = await loadWidgetData(token, vendor, controller.signal);
    if (call !== this.#call) return;
    switch (result.outcome) {
      case 'aborted':
        return;
      case 'rejected':
        this.#reject(result.code);
        return;
      case 'unavailable':
        this.#show('error', statusCard('failed', 'Widget unavailable', [result.reason]));
        return;
      case 'ready':
        break;
    }
    this.#expiresAt = result.expiresAt;
    this.#tokenId = result.tokenId;
    this.#showReady();
    this.#scheduleExpiry();
  }

  #wait(): void {
    this.#show('waiting', statusCard('pending', 'Waiting for a token…', []));
  }

  #showReady(): void {
    const { card, showRemaining } = readyCard(this.getAttribute('community-id') ?? '', this.dataset.userId ?? '');
    this.#show('ready', card);

    const update = (): void => showRemaining((this.#expiresAt ?? 0) - Date.now());
    update();
    this.#countdownTimer = setInterval(update, 1000);
  }

  #scheduleExpiry(): void {
    const expiresAt = this.#expiresAt;
    if (expiresAt === null) return;
    // The global setTimeout and Date.now are looked up at each call, so a test's fake clock drives the expiry.
    const delay = Math.min(Math.max(0, expiresAt - Date.now()), MAX_TIMER_DELAY);
    this.#expiryTimer = setTimeout(() => {
      this.#expiryTimer = undefined;
      // A clamped delay, or a timer that fired a millisecond early, is not expiry yet.
      if (Date.now() < expiresAt) this.#scheduleExpiry();
      else this.#reject('token_expired');
    }, delay);
  }

  #reject(code: DemoWidgetErrorCode): void {
    this.#stop();
    if (code === 'token_expired') {
      this.#show('expired', statusCard('failed', 'Token expired', ['Waiting for the host to provide a new token.']));
    } else {
      this.#show('invalid', statusCard('failed', 'Token rejected', ['The embed token could not be verified.']));
    }
    // The detail holds the code only: an event is readable by any script on the page, the token must not be.
    this.dispatchEvent(new CustomEvent('rai-error', { bubbles: true, composed: true, detail: { code } }));
  }

  #show(state: DemoWidgetState, content: HTMLElement): void {
    this.dataset.state = state;
    this.replaceChildren(content);
  }

  #stop(): void {
    clearTimeout(this.#expiryTimer);
    clearInterval(this.#countdownTimer);
    this.#expiryTimer = undefined;
    this.#countdownTimer = undefined;
    this.#controller?.abort();
    this.#controller = null;
  }
}

// Loaded twice (two bundle-url users, a page that also includes it): the first copy owns the tag and the global.
if (typeof customElements !== 'undefined' && !customElements.get(TAG)) {
  vendor = scriptElement?.src ? locateVendor(scriptElement.src) : null;
  const api: ReturningAIWidgetGlobal = { version: VERSION, reload: () => DemoWidget.reloadAll() };
  (window as unknown as { ReturningAIWidget: ReturningAIWidgetGlobal }).ReturningAIWidget = api;
  customElements.define(TAG, DemoWidget);
}
