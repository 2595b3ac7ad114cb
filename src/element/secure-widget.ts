import { ReactiveElement, type PropertyDeclaration, type PropertyValues } from '@lit/reactive-element';
import { styles } from './secure-widget.styles.js';
import { WidgetStatus } from './status.js';
import type { ApplyToken } from './embed/token-target.js';
import type { CustomTokenFetcher } from './token/source.js';
import { WidgetController } from './widget-controller.js';
import { CONSUMED_ATTRIBUTES, DEFER_HYDRATION, KEPT_ON_CHANGE, PROPERTIES, type PropertyName } from './properties.js';

export { WidgetStatus } from './status.js';

const RESTART_ON = (Object.keys(PROPERTIES) as PropertyName[]).filter((name) => !KEPT_ON_CHANGE.includes(name));

/**
 * Embeds a third-party widget that needs a short-lived token: fetches the token from the page's own backend, hands it
 * to the vendor widget, has the next one in hand before it expires, and reloads the widget when the vendor says its
 * token expired. No event, log or attribute of this element ever carries the token.
 *
 * @tagname secure-widget
 * @summary Embed a third-party widget with short-lived tokens, safely, from one HTML tag.
 * @fires secure-widget-token - a token arrived: `{ expiresAt, source }`
 * @fires secure-widget-ready - the vendor widget has its token and is rendered: `{ mode }`
 * @fires secure-widget-reload - the vendor widget was reloaded with a new token: `{ reason }`
 * @fires secure-widget-error - something failed: `{ code, message, fatal, status?, retryAt? }`
 * @slot - bundle mode: the vendor widget, as a plain element (its bundle runs once the token is on it) or a `<template>`
 * @slot loading - shown while `status` is `loading`
 * @slot error - shown while `status` is `error`
 * @csspart error - the built-in message shown when the `error` slot is empty
 */
export class SecureWidget extends ReactiveElement {
  static define(tag = 'secure-widget', registry: CustomElementRegistry = customElements): typeof SecureWidget {
    if (!registry.get(tag)) registry.define(tag, this);
    return this;
  }

  static override styles = styles;

  // Declared here rather than with decorators: the same metadata, without the decorator helpers in the bundle.
  static override properties = Object.fromEntries(
    Object.entries(PROPERTIES).map(([name, attribute]): [string, PropertyDeclaration] => [name, { attribute }]),
  );

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
   * Widgets with the same `token-key` share one token, one request and one timer, whatever function each was given as
   * `fetchToken` (the page says they act for one user). Change it when the user changes: the widget starts over.
   */
  declare tokenKey?: string | null;
  /**
   * Replaces the endpoint: resolves to a token, or `{ token, expiresAt?, expiresIn? }`. A new function (a framework's
   * inline closure on each render) is used for the next fetch and starts nothing over. Widgets share tokens when
   * given the same function, or the same `token-key`. Security: it must get the token from your backend; never mint
   * tokens in the browser.
   */
  declare fetchToken?: CustomTokenFetcher | null;
  /**
   * Config-object vendors (Qrvey): the key of the vendor's JavaScript config object that the token goes into, such as
   * `qvToken`; the object is the global that the vendor element's `config-attribute` (default `settings`) names. It
   * must be a plain object the page's script made, or absent (then the element makes one).
   */
  declare configKey?: string | null;
  /** The vendor element's attribute that names its config object; default `settings`. */
  declare configAttribute?: string | null;
  /**
   * Vendors of any other style: called with the vendor element and each token (before a template is stamped, and
   * on each new token), in place of setting `token-attribute` or `config-key`.
   */
  declare applyToken?: ApplyToken | null;
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

  readonly #controller = new WidgetController(this);
  #slots: [HTMLSlotElement, HTMLSlotElement, HTMLSlotElement] | undefined;
  #view: HTMLElement | null = null;

  static override get observedAttributes(): string[] {
    return [...super.observedAttributes, ...CONSUMED_ATTRIBUTES, DEFER_HYDRATION];
  }

  /** `loading`, `ready`, `refreshing` or `error`; reflected to the `status` attribute for styling. */
  get status(): WidgetStatus {
    return this.#controller.status;
  }

  /** When the token in hand expires, in ms since the epoch by the local clock; null when unknown or none. */
  get expiresAt(): number | null {
    return this.#controller.session?.expiresAt ?? null;
  }

  /** @internal The inputs whose change starts the widget over; `fetchToken` counts only as there or not. */
  get restartInputs(): readonly unknown[] {
    return RESTART_ON.map((name) => (name === 'fetchToken' ? typeof this.fetchToken === 'function' : this[name]));
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
    this.#controller.offerMarkupToken(token?.trim() || null);
  }

  /**
   * Dev mode only: a vendor API key handed to the vendor in place of a token, and only where it cannot hurt: a
   * publishable `pk_…` key on any host, another key on a loopback host (with one console warning); `dev-key-remote`
   * off loopback, `secret-key` for anything that looks secret, on every host. Ignored when a token source is set.
   * Write-only, and the `api-key` attribute is removed as soon as it is read, like `embed-token`. Security: never put
   * a secret key in a page.
   */
  get apiKey(): string | null {
    return null;
  }
  set apiKey(key: string | null) {
    this.#controller.useDevKey(key?.trim() || null);
  }

  override attributeChangedCallback(name: string, old: string | null, value: string | null): void {
    if (name === DEFER_HYDRATION) {
      if (value === null) this.#hydrate();
      return;
    }
    if ((CONSUMED_ATTRIBUTES as readonly string[]).includes(name)) {
      // Until hydration the framework's markup must stay as rendered: read it then (#hydrate).
      if (value !== null && !this.hasAttribute(DEFER_HYDRATION)) this.#consume(name, value);
      return;
    }
    super.attributeChangedCallback(name, old, value);
  }

  /** Read once and taken off the element: session-replay tools and DOM dumps record attributes. */
  #consume(name: string, value: string): void {
    this.removeAttribute(name);
    if (name === 'embed-token') this.embedToken = value;
    else this.apiKey = value;
  }

  /** `defer-hydration` is gone: the framework has hydrated its markup, and the element may change it from now on. */
  #hydrate(): void {
    for (const name of CONSUMED_ATTRIBUTES) {
      const value = this.getAttribute(name);
      if (value !== null) this.#consume(name, value);
    }
    this.#controller.hydrated();
  }

  /** A new token now, then reload the vendor widget with it. Rejects with a SecureWidgetError (also dispatched). */
  async refresh(): Promise<void> {
    await this.#controller.requireSession().refresh();
  }

  /** Reloads the vendor widget with the token in hand. */
  async reload(): Promise<void> {
    await this.#controller.requireSession().reload();
  }

  /**
   * The shadow root holds three slots and, in iframe mode, the frame; `status` says which show. Written with the DOM
   * rather than a template: ReactiveElement (Lit's reactive core) without lit-html's template engine, which a view
   * this small does not need, saves a third of the bundle (docs/decisions.md).
   */
  protected override update(changed: PropertyValues<this>): void {
    super.update(changed);
    const root = this.renderRoot;
    const slots = (this.#slots ??= [slot('loading'), slot('error', errorMessage()), slot()]);
    const [loading, error, content] = slots;
    if (!loading.isConnected) root.append(...slots);
    const { status } = this;
    loading.hidden = status !== WidgetStatus.loading;
    error.hidden = status !== WidgetStatus.error;
    content.hidden = !error.hidden;
    // The frame stays in the tree while hidden: taking an iframe out of the document would unload it.
    const view = this.#controller.session?.rendered ?? null;
    if (this.#view !== view) {
      this.#view?.remove();
      if (view) root.append(view);
      this.#view = view;
    }
    if (view) view.hidden = status === WidgetStatus.error;
  }
}

function slot(name?: string, fallback?: Node): HTMLSlotElement {
  const element = document.createElement('slot');
  if (name) element.name = name;
  if (fallback) element.append(fallback);
  return element;
}

function errorMessage(): HTMLElement {
  const message = document.createElement('p');
  message.setAttribute('part', 'error');
  message.textContent = 'This widget is unavailable right now.';
  return message;
}

declare global {
  interface HTMLElementTagNameMap {
    'secure-widget': SecureWidget;
  }
}
