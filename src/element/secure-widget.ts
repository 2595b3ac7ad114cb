import { LitElement, html, nothing, type PropertyValues } from 'lit';
import { SecureWidgetError } from './errors.js';
import type { SecureWidgetEventMap } from './events.js';
import { styles } from './secure-widget.styles.js';
import { WidgetStatus } from './status.js';
import type { CustomTokenFetcher } from './token/source.js';
import { readConfig } from './config.js';
import { WidgetSession, errorDetail } from './widget-session.js';

export { WidgetStatus } from './status.js';

/** Properties whose change means another token source or another embedding: the widget starts over. */
const RESTART_ON = [
  'mode',
  'tokenEndpoint',
  'tokenCredentials',
  'tokenScope',
  'fetchToken',
  'bundleUrl',
  'bundleType',
  'src',
  'tokenAttribute',
  'expiryEvent',
  'reloadGlobal',
  'sandbox',
  'allow',
  'referrerPolicy',
  'height',
  'width',
] as const;

/**
 * Embeds a third-party widget that needs a short-lived token: fetches the token from the page's own backend, hands it
 * to the vendor widget, has the next one in hand before it expires, and reloads the widget when the vendor says its
 * token expired. No event, log or attribute of this element ever carries the token.
 *
 * @summary Embed a third-party widget with short-lived tokens, safely, from one HTML tag.
 * @fires secure-widget-token - a token arrived: `{ expiresAt, source }`
 * @fires secure-widget-ready - the vendor widget has its token and is rendered: `{ mode }`
 * @fires secure-widget-reload - the vendor widget was reloaded with a new token: `{ reason }`
 * @fires secure-widget-error - something failed: `{ code, message, fatal, status?, retryAt? }`
 * @slot - bundle mode: the vendor widget, as a `<template>` (stamped once the token is on it) or a plain element
 * @slot loading - shown while `status` is `loading`
 * @slot error - shown while `status` is `error`
 * @csspart error - the built-in message shown when the `error` slot is empty
 */
export class SecureWidget extends LitElement {
  static define(tag = 'secure-widget', registry: CustomElementRegistry = customElements): typeof SecureWidget {
    if (!registry.get(tag)) registry.define(tag, this);
    return this;
  }

  static override styles = styles;

  // Declared here rather than with decorators: the same metadata, without the decorator helpers in the bundle.
  static override properties = {
    tokenEndpoint: { attribute: 'token-endpoint' },
    tokenCredentials: { attribute: 'token-credentials' },
    mode: {},
    bundleUrl: { attribute: 'bundle-url' },
    bundleType: { attribute: 'bundle-type' },
    integrity: {},
    src: {},
    tokenAttribute: { attribute: 'token-attribute' },
    expiryEvent: { attribute: 'expiry-event' },
    reloadGlobal: { attribute: 'reload-global' },
    refreshMargin: { attribute: 'refresh-margin' },
    tokenScope: { attribute: 'token-scope' },
    fetchToken: { attribute: false },
    sandbox: {},
    allow: {},
    referrerPolicy: { attribute: 'referrerpolicy' },
    height: {},
    width: {},
  };

  /** URL of the host backend's token endpoint (GET, JSON or text/plain). Relative URLs are the page's own origin. */
  declare tokenEndpoint?: string | null;
  /** `same-origin` (default), `include` or `omit`: the credentials mode of the token request. */
  declare tokenCredentials?: RequestCredentials | null;
  /** `bundle` or `iframe`; by default `iframe` when `src` is set and `bundle-url` is not. */
  declare mode?: 'bundle' | 'iframe' | null;
  /** The vendor script, loaded once per page. Must be https: (or http: on localhost). */
  declare bundleUrl?: string | null;
  /** `classic` (default) or `module`. */
  declare bundleType?: 'classic' | 'module' | null;
  /** Subresource Integrity for the vendor script (loaded with `crossorigin="anonymous"`). */
  declare integrity?: string | null;
  /** Iframe mode: the vendor's widget page. */
  declare src?: string | null;
  /** Attribute that carries the token on the vendor element; default `embed-token`. Never an `on*` attribute. */
  declare tokenAttribute?: string | null;
  /** Event the vendor widget fires when it rejects its token; default `rai-error`. */
  declare expiryEvent?: string | null;
  /** Global object whose `reload()` reloads the vendor widgets; default `ReturningAIWidget`. */
  declare reloadGlobal?: string | null;
  /** Seconds before expiry to have the next token in hand; default 60, at most half the token's lifetime. */
  declare refreshMargin?: number | string | null;
  /** `page` (default): widgets with the same endpoint share one token and one request. `element`: this one alone. */
  declare tokenScope?: 'page' | 'element' | null;
  /**
   * Replaces the endpoint: resolves to a token, or `{ token, expiresAt?, expiresIn? }`. Widgets given the same
   * function share its tokens. Security: it must get the token from your backend; never mint tokens in the browser.
   */
  declare fetchToken?: CustomTokenFetcher | null;
  /** Iframe mode: the frame's sandbox; default `allow-scripts allow-same-origin allow-forms allow-popups`. */
  declare sandbox?: string | null;
  /** Iframe mode: the frame's permissions policy (`allow`). */
  declare allow?: string | null;
  /** Iframe mode: the frame's referrer policy; default `strict-origin-when-cross-origin`. */
  declare referrerPolicy?: string | null;
  /** Iframe mode: the frame's height (`300` is 300px); without it the frame's `resize` messages set it. */
  declare height?: string | number | null;
  /** Iframe mode: the frame's width; default 100%. */
  declare width?: string | number | null;

  #status: WidgetStatus = WidgetStatus.loading;
  #markupToken: string | null = null;
  #session: WidgetSession | null = null;
  /** The inputs of the last start, failed or not: a configuration error must not restart in a loop. */
  #startedWith: readonly unknown[] | null = null;

  static override get observedAttributes(): string[] {
    return [...super.observedAttributes, 'embed-token'];
  }

  /** `loading`, `ready`, `refreshing` or `error`; reflected to the `status` attribute for styling. */
  get status(): WidgetStatus {
    return this.#status;
  }

  /** When the token in hand expires, in ms since the epoch by the local clock; null when unknown or none. */
  get expiresAt(): number | null {
    return this.#session?.expiresAt ?? null;
  }

  /**
   * A token rendered by the server, used first while it is fresh (no request at load). Write-only: reading gives
   * null, and the `embed-token` attribute is removed as soon as it is read, so that session-replay tools, DOM
   * serialisation and other scripts' casual reads never meet the token.
   */
  get embedToken(): string | null {
    return null;
  }
  set embedToken(token: string | null) {
    const value = token?.trim() || null;
    if (this.#session && value) this.#session.useMarkupToken(value);
    else this.#markupToken = value;
  }

  override attributeChangedCallback(name: string, old: string | null, value: string | null): void {
    if (name === 'embed-token') {
      if (value === null) return;
      this.removeAttribute('embed-token');
      this.embedToken = value;
      return;
    }
    super.attributeChangedCallback(name, old, value);
  }

  override connectedCallback(): void {
    super.connectedCallback();
    // A moved element keeps its session (see disconnectedCallback); a new connection starts in the next update,
    // so that properties set right after insertion (el.fetchToken = …) are seen.
    if (!this.#session) this.requestUpdate();
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    // Moving an element disconnects and reconnects it in one task: wait a microtask before tearing down, so that a
    // move keeps its token and makes no request.
    queueMicrotask(() => {
      if (!this.isConnected) this.#stop();
    });
  }

  /** A new token now, then reload the vendor widget with it. Rejects with a SecureWidgetError (also dispatched). */
  async refresh(): Promise<void> {
    await this.#requireSession().refresh();
  }

  /** Reloads the vendor widget with the token in hand. */
  async reload(): Promise<void> {
    await this.#requireSession().reload();
  }

  protected override render() {
    const status = this.#status;
    // The frame stays in the tree while hidden: taking an iframe out of the document would unload it.
    const view = this.#session?.view;
    if (view) view.hidden = status === WidgetStatus.error;
    return html`${status === WidgetStatus.loading ? html`<slot name="loading"></slot>` : nothing}${status ===
    WidgetStatus.error
      ? html`<slot name="error"><p part="error">This widget is unavailable right now.</p></slot>`
      : html`<slot></slot>`}${view ?? nothing}`;
  }

  /** Starts (or restarts) before rendering, so the status a start sets is part of this update, not another one. */
  protected override willUpdate(changed: PropertyValues<this>): void {
    super.willUpdate(changed);
    if (!this.isConnected) return;
    const inputs = RESTART_ON.map((name) => this[name]);
    const started = this.#startedWith;
    if (started && inputs.every((value, index) => value === started[index])) return;
    this.#stop();
    this.#start(inputs);
  }

  #start(inputs: readonly unknown[]): void {
    this.#startedWith = inputs;
    this.#setStatus(WidgetStatus.loading);
    let session: WidgetSession;
    try {
      const config = readConfig(this);
      session = new WidgetSession(this.#sessionHost, config, this.fetchToken);
    } catch (error) {
      this.#emit('secure-widget-error', errorDetail(error as SecureWidgetError));
      this.#setStatus(WidgetStatus.error);
      return;
    }
    this.#session = session;
    const markupToken = this.#markupToken;
    this.#markupToken = null;
    session.start(markupToken);
  }

  #stop(): void {
    this.#startedWith = null;
    this.#session?.stop();
    this.#session = null;
  }

  readonly #sessionHost = {
    element: this,
    get status(): WidgetStatus {
      return this.element.status;
    },
    setStatus: (status: WidgetStatus) => this.#setStatus(status),
    emit: <K extends keyof SecureWidgetEventMap>(type: K, detail: SecureWidgetEventMap[K]['detail']) =>
      this.#emit(type, detail),
  };

  #requireSession(): WidgetSession {
    if (this.#session) return this.#session;
    throw new SecureWidgetError('config-invalid', '<secure-widget> is not connected or not configured.', {
      fatal: true,
    });
  }

  #setStatus(status: WidgetStatus): void {
    if (this.#status !== status) {
      this.#status = status;
      this.requestUpdate();
    }
    if (this.getAttribute('status') !== status) this.setAttribute('status', status);
  }

  #emit<K extends keyof SecureWidgetEventMap>(type: K, detail: SecureWidgetEventMap[K]['detail']): void {
    this.dispatchEvent(new CustomEvent(type, { detail, bubbles: true, composed: true }));
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'secure-widget': SecureWidget;
  }
}
