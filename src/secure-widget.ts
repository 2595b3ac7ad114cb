import { LitElement, html, nothing, type PropertyValues } from 'lit';
import { property } from 'lit/decorators.js';
import { BundleEmbed } from './embed/bundle-embed.js';
import type { Embed } from './embed/embed.js';
import { SecureWidgetError } from './errors.js';
import type { SecureWidgetEventMap, TokenSource } from './events.js';
import { styles } from './secure-widget.styles.js';
import { TokenBroker, sharedBroker, type TokenSubscriber } from './token/broker.js';
import { grantFromMarkup, isFresh, type TokenGrant } from './token/grant.js';
import { customLoader, endpointLoader, type CustomTokenFetcher, type TokenLoader } from './token/source.js';
import { readConfig, type WidgetConfig } from './widget-config.js';

export const WidgetStatus = {
  loading: 'loading',
  ready: 'ready',
  refreshing: 'refreshing',
  error: 'error',
} as const;
export type WidgetStatus = (typeof WidgetStatus)[keyof typeof WidgetStatus];

/** An expiry event this soon after a token was loaded means the vendor rejected a fresh token. */
const FRESH_REJECTION_WINDOW = 5_000;
const MAX_FRESH_REJECTIONS = 3;
/**
 * Expiry events this close to the first one are one burst (a vendor whose several requests fail with the same old
 * token): those before the reload are echoes, served by the one recovery; those after it may be the vendor's verdict
 * on the new token, so together they earn one follow-up at the end of the window, never one recovery each.
 */
const BURST_WINDOW = 100;

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
] as const;

/** Everything one connection started; aborting `controller` ends all of it. */
interface Session {
  readonly controller: AbortController;
  readonly config: WidgetConfig;
  readonly broker: TokenBroker | null;
  readonly subscriber: TokenSubscriber;
  readonly embed: Embed;
  grant: TokenGrant | null;
  /** The token the vendor widget was last loaded with: the one it rejects when it fires its expiry event. */
  loadedToken: string | null;
  loadedAt: number;
  /** When that token expires (local ms), if known: a vendor still running on it past then is reloaded unasked. */
  loadedExpiresAt: number | null;
  /** When the current burst of expiry events began. */
  burstAt: number;
  /** An expiry event came after this burst's reload began: look again once the burst is over. */
  followUp: boolean;
  followUpTimer: ReturnType<typeof setTimeout> | undefined;
  /** Flips status to `error` when the token in hand runs out after a failed attempt to replace it. */
  expiryWatch: ReturnType<typeof setTimeout> | undefined;
  freshRejections: number;
  recovering: boolean;
  /** Inside the vendor's reload: an expiry event now may be a rejection of the new token. */
  reloading: boolean;
  /** An expiry could not be served; the next token that arrives reloads the widget. */
  awaitingToken: boolean;
  halted: boolean;
}

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

  /** URL of the host backend's token endpoint (GET, JSON or text/plain). Relative URLs are the page's own origin. */
  @property({ attribute: 'token-endpoint' }) tokenEndpoint: string | null = null;
  /** `same-origin` (default), `include` or `omit`: the credentials mode of the token request. */
  @property({ attribute: 'token-credentials' }) tokenCredentials: RequestCredentials | null = null;
  /** `bundle` or `iframe`; by default `iframe` when `src` is set and `bundle-url` is not. */
  @property() mode: 'bundle' | 'iframe' | null = null;
  /** The vendor script, loaded once per page. Must be https: (or http: on localhost). */
  @property({ attribute: 'bundle-url' }) bundleUrl: string | null = null;
  /** `classic` (default) or `module`. */
  @property({ attribute: 'bundle-type' }) bundleType: 'classic' | 'module' | null = null;
  /** Subresource Integrity for the vendor script (loaded with `crossorigin="anonymous"`). */
  @property() integrity: string | null = null;
  /** Iframe mode: the vendor's widget page. */
  @property() src: string | null = null;
  /** Attribute that carries the token on the vendor element; default `embed-token`. Never an `on*` attribute. */
  @property({ attribute: 'token-attribute' }) tokenAttribute: string | null = null;
  /** Event the vendor widget fires when it rejects its token; default `rai-error`. */
  @property({ attribute: 'expiry-event' }) expiryEvent: string | null = null;
  /** Global object whose `reload()` reloads the vendor widgets; default `ReturningAIWidget`. */
  @property({ attribute: 'reload-global' }) reloadGlobal: string | null = null;
  /** Seconds before expiry to have the next token in hand; default 60, at most half the token's lifetime. */
  @property({ attribute: 'refresh-margin' }) refreshMargin: number | string | null = null;
  /** `page` (default): widgets with the same endpoint share one token and one request. `element`: this one alone. */
  @property({ attribute: 'token-scope' }) tokenScope: 'page' | 'element' | null = null;
  /**
   * Replaces the endpoint: resolves to a token, or `{ token, expiresAt?, expiresIn? }`. Widgets given the same
   * function share its tokens. Security: it must get the token from your backend; never mint tokens in the browser.
   */
  @property({ attribute: false }) fetchToken: CustomTokenFetcher | null = null;

  #status: WidgetStatus = WidgetStatus.loading;
  #markupToken: string | null = null;
  #session: Session | null = null;
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
    return this.#session?.grant?.expiresAt ?? null;
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
    this.#markupToken = token?.trim() || null;
    if (this.#session && this.#markupToken) this.#useMarkupToken(this.#session);
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
    const session = this.#requireSession();
    if (!session.broker) {
      throw this.#report(
        session,
        new SecureWidgetError('config-invalid', 'refresh() needs a token-endpoint or fetchToken.', { fatal: true }),
      );
    }
    session.halted = false;
    session.freshRejections = 0;
    this.#setStatus(WidgetStatus.refreshing);
    const grant = await session.broker.refresh(session.subscriber);
    await this.#reloadWith(session, grant, 'manual');
  }

  /** Reloads the vendor widget with the token in hand. */
  async reload(): Promise<void> {
    const session = this.#requireSession();
    if (!isFresh(session.grant, Date.now())) return this.refresh();
    await this.#reloadWith(session, session.grant, 'manual');
  }

  protected override render() {
    const status = this.#status;
    return html`${status === WidgetStatus.loading ? html`<slot name="loading"></slot>` : nothing}${status ===
    WidgetStatus.error
      ? html`<slot name="error"><p part="error">This widget is unavailable right now.</p></slot>`
      : html`<slot></slot>`}`;
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
    const controller = new AbortController();
    let config: WidgetConfig;
    try {
      config = readConfig(this);
      if (config.mode === 'iframe') {
        throw new SecureWidgetError('config-invalid', 'Iframe mode is not available in this version yet.', {
          fatal: true,
        });
      }
    } catch (error) {
      this.#emitError(error as SecureWidgetError);
      this.#setStatus(WidgetStatus.error);
      return;
    }

    const broker = this.#broker(config);
    const subscriber: TokenSubscriber = {
      margin: config.margin,
      onToken: (grant, fetchedForThis) => this.#onToken(session, grant, fetchedForThis ? 'endpoint' : 'shared'),
      onError: (error, retryAt) => this.#onTokenError(session, error, retryAt),
    };
    const embed = new BundleEmbed(
      this,
      {
        ready: () => this.#onReady(session),
        expired: () => void this.#onExpired(session),
        fail: (error) => this.#report(session, error),
        reloaded: (token) => this.#onReloadedByAnother(session, token),
      },
      {
        bundleUrl: config.bundleUrl,
        bundle: { type: config.bundleType, integrity: config.integrity, nonce: config.nonce },
        tokenAttribute: config.tokenAttribute,
        expiryEvent: config.expiryEvent,
        reloadGlobal: config.reloadGlobal,
      },
      controller.signal,
    );
    const session: Session = {
      controller,
      config,
      broker,
      subscriber,
      embed,
      grant: null,
      loadedToken: null,
      loadedAt: 0,
      loadedExpiresAt: null,
      burstAt: Number.NEGATIVE_INFINITY,
      followUp: false,
      followUpTimer: undefined,
      expiryWatch: undefined,
      freshRejections: 0,
      recovering: false,
      reloading: false,
      awaitingToken: false,
      halted: false,
    };
    this.#session = session;
    if (broker) {
      const unsubscribe = broker.subscribe(subscriber);
      controller.signal.addEventListener('abort', unsubscribe, { once: true });
    }
    controller.signal.addEventListener(
      'abort',
      () => {
        clearTimeout(session.expiryWatch);
        clearTimeout(session.followUpTimer);
      },
      { once: true },
    );
    // Timers sleep with the tab and the laptop; coming back is the moment to look at the token again.
    const wake = () => this.#wake(session);
    document.addEventListener(
      'visibilitychange',
      () => {
        if (document.visibilityState === 'visible') wake();
      },
      { signal: controller.signal },
    );
    window.addEventListener('online', wake, { signal: controller.signal });

    if (this.#markupToken && this.#useMarkupToken(session)) return;
    if (!broker) {
      this.#report(
        session,
        new SecureWidgetError('config-invalid', 'Set token-endpoint, fetchToken or embed-token.', { fatal: true }),
      );
      return;
    }
    broker.request(subscriber).catch(() => {});
  }

  #stop(): void {
    this.#startedWith = null;
    const session = this.#session;
    if (!session) return;
    this.#session = null;
    session.controller.abort();
  }

  #broker(config: WidgetConfig): TokenBroker | null {
    const fetchToken = this.fetchToken;
    let key: unknown;
    let loader: () => TokenLoader;
    if (typeof fetchToken === 'function') {
      key = fetchToken;
      loader = () => customLoader(fetchToken);
    } else if (config.endpoint) {
      const { endpoint, credentials } = config;
      key = `${credentials} ${endpoint.href}`;
      loader = () => endpointLoader({ url: endpoint.href, credentials });
    } else {
      return null;
    }
    return config.scope === 'element' ? new TokenBroker(loader()) : sharedBroker(key, loader);
  }

  /** Uses the server-rendered token while it is fresh; a stale one is dropped in favour of a fetch. */
  #useMarkupToken(session: Session): boolean {
    const token = this.#markupToken!;
    this.#markupToken = null;
    let grant: TokenGrant;
    try {
      grant = grantFromMarkup(token, Date.now());
    } catch (error) {
      // A page served from a cache carries a dead token; with an endpoint that is routine, not a failure.
      if (session.broker) return false;
      this.#report(session, error as SecureWidgetError);
      return true;
    }
    if (session.grant?.expiresAt && grant.expiresAt !== null && grant.expiresAt <= session.grant.expiresAt) {
      return true;
    }
    this.#onToken(session, grant, 'markup');
    session.broker?.offer(grant, session.subscriber);
    return true;
  }

  #onToken(session: Session, grant: TokenGrant, source: TokenSource): void {
    if (session !== this.#session) return;
    session.grant = grant;
    clearTimeout(session.expiryWatch);
    session.expiryWatch = undefined;
    this.#emit('secure-widget-token', { expiresAt: grant.expiresAt, source });
    const { embed } = session;
    if (!embed.shown) {
      embed.setToken(grant.token);
      if (embed.shown) this.#loaded(session, grant.token);
      return;
    }
    // Kept current on the vendor element, so it never holds an expired token; the widget picks it up on reload.
    embed.setToken(grant.token);
    // The vendor is still on a token that has run out (its expiry event was missed, or failed to bring a token, or
    // the tab slept): reload now rather than leave an expired widget on screen.
    if ((session.awaitingToken || this.#loadedExpired(session)) && !session.recovering) {
      session.burstAt = Date.now();
      void this.#reloadWith(session, grant, 'expired');
    }
  }

  #loadedExpired(session: Session): boolean {
    return session.loadedExpiresAt !== null && session.loadedExpiresAt <= Date.now();
  }

  #wake(session: Session): void {
    if (session !== this.#session) return;
    session.broker?.wake();
    const grant = session.broker?.grant;
    if (grant && grant.token !== session.loadedToken && this.#loadedExpired(session) && !session.recovering) {
      session.burstAt = Date.now();
      void this.#reloadWith(session, grant, 'expired');
    }
  }

  #onReady(session: Session): void {
    if (session !== this.#session) return;
    this.#setStatus(WidgetStatus.ready);
    this.#emit('secure-widget-ready', { mode: session.config.mode });
  }

  /** The vendor rejected its token: the next one is usually in hand already (fetched ahead of expiry). */
  async #onExpired(session: Session): Promise<void> {
    if (session !== this.#session || session.halted) return;
    const now = Date.now();
    if (session.recovering) {
      // Before the reload these are echoes of the old token; during it, possibly the vendor rejecting the new one.
      if (session.reloading) session.followUp = true;
      return;
    }
    if (now - session.burstAt < BURST_WINDOW) {
      if (session.loadedAt >= session.burstAt) this.#scheduleFollowUp(session);
      return;
    }
    if (!session.broker) {
      this.#report(
        session,
        new SecureWidgetError('token-expired', 'The token expired and there is no token-endpoint to renew it.', {
          fatal: true,
        }),
      );
      return;
    }
    session.burstAt = now;
    if (now - session.loadedAt < FRESH_REJECTION_WINDOW) session.freshRejections += 1;
    else session.freshRejections = 0;
    if (session.freshRejections >= MAX_FRESH_REJECTIONS) {
      session.halted = true;
      this.#report(
        session,
        new SecureWidgetError(
          'reload-loop',
          `The widget rejected ${MAX_FRESH_REJECTIONS} fresh tokens in a row; stopped until refresh().`,
          { fatal: true },
        ),
      );
      return;
    }
    session.recovering = true;
    let grant: TokenGrant;
    try {
      grant = await session.broker.replace(session.subscriber, session.loadedToken);
    } catch {
      // Reported through the broker's onError; the next token that arrives reloads the widget.
      session.recovering = false;
      session.awaitingToken = true;
      return;
    }
    await this.#reloadWith(session, grant, 'expired');
  }

  async #reloadWith(session: Session, grant: TokenGrant, reason: 'expired' | 'manual'): Promise<void> {
    if (session !== this.#session) return;
    session.awaitingToken = false;
    const { embed } = session;
    // Expiry events that arrive while the vendor reloads are echoes of the old token: one recovery serves them all.
    // The flag drops before the reload event, so a rejection of the new token is handled as a new one.
    session.recovering = true;
    let reloaded = false;
    try {
      if (!embed.shown) {
        // Never shown (the first token or the bundle failed): showing it now is the load.
        embed.setToken(grant.token);
        if (embed.shown) this.#loaded(session, grant.token);
        return;
      }
      if (this.#status !== WidgetStatus.ready) this.#setStatus(WidgetStatus.refreshing);
      session.reloading = true;
      await embed.reload(grant.token);
      reloaded = session === this.#session;
    } finally {
      session.recovering = false;
      session.reloading = false;
    }
    if (!reloaded) return;
    this.#loaded(session, grant.token);
    this.#setStatus(WidgetStatus.ready);
    this.#emit('secure-widget-reload', { reason });
    if (session.followUp) this.#scheduleFollowUp(session);
  }

  /** One more recovery once the burst window is over, for expiry events that came after the burst's reload. */
  #scheduleFollowUp(session: Session): void {
    session.followUp = false;
    if (session.followUpTimer !== undefined) return;
    session.followUpTimer = setTimeout(
      () => {
        session.followUpTimer = undefined;
        void this.#onExpired(session);
      },
      Math.max(0, session.burstAt + BURST_WINDOW - Date.now()),
    );
  }

  /** Another widget's call to the vendor's page-wide reload reloaded this one too, with the token on its element. */
  #onReloadedByAnother(session: Session, token: string): void {
    if (session !== this.#session || session.recovering) return;
    session.awaitingToken = false;
    this.#loaded(session, token);
    this.#setStatus(WidgetStatus.ready);
    this.#emit('secure-widget-reload', { reason: 'expired' });
  }

  #loaded(session: Session, token: string): void {
    session.loadedToken = token;
    session.loadedAt = Date.now();
    session.loadedExpiresAt = session.grant?.token === token ? session.grant.expiresAt : null;
  }

  #onTokenError(session: Session, error: SecureWidgetError, retryAt: number | null): void {
    if (session !== this.#session) return;
    this.#emitError(error, retryAt);
    const { grant } = session;
    // A failed prefetch does not disturb a widget whose token is still good: it shows `error` only if that token runs
    // out before a new one arrives.
    if (!isFresh(grant, Date.now()) || !session.embed.shown) {
      this.#setStatus(WidgetStatus.error);
    } else if (grant.expiresAt !== null && session.expiryWatch === undefined) {
      session.expiryWatch = setTimeout(
        () => {
          if (session === this.#session && session.grant === grant) this.#setStatus(WidgetStatus.error);
        },
        Math.min(grant.expiresAt - Date.now(), 2 ** 31 - 1),
      );
    }
  }

  #report(session: Session, error: SecureWidgetError): SecureWidgetError {
    if (session === this.#session) {
      this.#emitError(error);
      this.#setStatus(WidgetStatus.error);
    }
    return error;
  }

  #requireSession(): Session {
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

  #emitError(error: SecureWidgetError, retryAt: number | null = null): void {
    this.#emit('secure-widget-error', {
      code: error.code,
      message: error.message,
      fatal: error.fatal,
      ...(error.status !== undefined && { status: error.status }),
      ...(retryAt !== null && { retryAt }),
    });
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
