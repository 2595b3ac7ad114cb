import { BundleEmbed } from './embed/bundle-embed.js';
import type { Embed, EmbedHost } from './embed/embed.js';
import { IframeEmbed } from './embed/iframe-embed.js';
import { SecureWidgetError } from './errors.js';
import type { SecureWidgetEventMap, TokenSource } from './events.js';
import { WidgetStatus } from './status.js';
import { TokenBroker, sharedBroker, type TokenSubscriber } from './token/broker.js';
import { grantFromMarkup, isFresh, type TokenGrant } from './token/grant.js';
import { customLoader, endpointLoader, type CustomTokenFetcher, type TokenLoader } from './token/source.js';
import type { WidgetConfig } from './config.js';

/** An expiry event this soon after a token was loaded means the vendor rejected a fresh token. */
const FRESH_REJECTION_WINDOW = 5_000;
const MAX_FRESH_REJECTIONS = 3;
/**
 * Expiry events this close to the first one are one burst (a vendor whose several requests fail with the same old
 * token): those before the reload are echoes, served by the one recovery; those after it may be the vendor's verdict
 * on the new token, so together they earn one follow-up at the end of the window, never one recovery each.
 */
const BURST_WINDOW = 100;
const MAX_DELAY = 2 ** 31 - 1;

/** What a session needs from its element: status and events are the element's public face. */
export interface SessionHost {
  readonly element: HTMLElement;
  readonly status: WidgetStatus;
  setStatus(status: WidgetStatus): void;
  emit<K extends keyof SecureWidgetEventMap>(type: K, detail: SecureWidgetEventMap[K]['detail']): void;
}

/**
 * One connection of a `<secure-widget>`: the token source (a shared broker), the embedding, and the recovery logic
 * that ties them together (hand over, reload, bursts, reload loops, wake). Everything it starts ends with `stop()`.
 */
export class WidgetSession {
  readonly #host: SessionHost;
  readonly #config: WidgetConfig;
  readonly #controller = new AbortController();
  readonly #broker: TokenBroker | null;
  readonly #subscriber: TokenSubscriber;
  readonly #embed: Embed;
  /** What the element renders in its shadow root for this session: the iframe in iframe mode. */
  readonly view: HTMLElement | null;

  #grant: TokenGrant | null = null;
  /** The token the vendor widget was last loaded with: the one it rejects when it fires its expiry event. */
  #loadedToken: string | null = null;
  #loadedAt = 0;
  /** When that token expires (local ms), if known: a vendor still running on it past then is reloaded unasked. */
  #loadedExpiresAt: number | null = null;
  #freshRejections = 0;
  /** A recovery is under way (hand-over or fetch, then reload); `#reloading` is its reload part. */
  #recovering = false;
  #reloading = false;
  /** When the current burst of expiry events began. */
  #burstAt = Number.NEGATIVE_INFINITY;
  /** An expiry event came after this burst's reload began: look again once the burst is over. */
  #followUp = false;
  #followUpTimer: ReturnType<typeof setTimeout> | undefined;
  /** An expiry could not be served; the next token that arrives reloads the widget. */
  #awaitingToken = false;
  /** Stopped by reload-loop until refresh(). */
  #halted = false;
  /** Flips status to `error` when the token in hand runs out after a failed attempt to replace it. */
  #expiryWatch: ReturnType<typeof setTimeout> | undefined;

  constructor(host: SessionHost, config: WidgetConfig, fetchToken: CustomTokenFetcher | null | undefined) {
    this.#host = host;
    this.#config = config;
    const { signal } = this.#controller;
    this.#broker = brokerFor(config, fetchToken);
    this.#subscriber = {
      margin: config.margin,
      onToken: (grant, fetchedForThis) => this.#onToken(grant, fetchedForThis ? 'endpoint' : 'shared'),
      onError: (error, retryAt) => this.#onTokenError(error, retryAt),
    };
    const embedHost: EmbedHost = {
      ready: () => this.#onReady(),
      expired: () => void this.#onExpired(),
      fail: (error) => this.#report(error),
      loaded: (token) => this.#loaded(token),
      reloaded: (token) => this.#onReloadedByAnother(token),
    };
    if (config.mode === 'iframe') {
      const embed = new IframeEmbed(embedHost, config.src!, config.frame, signal);
      this.#embed = embed;
      this.view = embed.frame;
    } else {
      this.#embed = new BundleEmbed(
        host.element,
        embedHost,
        {
          bundleUrl: config.bundleUrl,
          bundle: { type: config.bundleType, integrity: config.integrity, nonce: config.nonce },
          tokenAttribute: config.tokenAttribute,
          expiryEvent: config.expiryEvent,
          reloadGlobal: config.reloadGlobal,
        },
        signal,
      );
      this.view = null;
    }
    if (this.#broker) signal.addEventListener('abort', this.#broker.subscribe(this.#subscriber), { once: true });
    signal.addEventListener(
      'abort',
      () => {
        clearTimeout(this.#expiryWatch);
        clearTimeout(this.#followUpTimer);
      },
      { once: true },
    );
    // Timers sleep with the tab and the laptop; coming back is the moment to look at the token again.
    document.addEventListener(
      'visibilitychange',
      () => {
        if (document.visibilityState === 'visible') this.#wake();
      },
      { signal },
    );
    window.addEventListener('online', () => this.#wake(), { signal });
  }

  get #stopped(): boolean {
    return this.#controller.signal.aborted;
  }

  /** When the token in hand expires (local ms), or null. */
  get expiresAt(): number | null {
    return this.#grant?.expiresAt ?? null;
  }

  /** Asks for the first token: the server-rendered one while it is fresh, else the broker's. */
  start(markupToken: string | null): void {
    if (markupToken && this.useMarkupToken(markupToken)) return;
    if (!this.#broker) {
      this.#report(
        new SecureWidgetError('config-invalid', 'Set token-endpoint, fetchToken or embed-token.', { fatal: true }),
      );
      return;
    }
    this.#broker.request(this.#subscriber).catch(() => {});
  }

  stop(): void {
    this.#controller.abort();
  }

  /**
   * Uses a server-rendered token while it is fresh (true), shared with the other widgets of the endpoint. A stale one
   * is dropped in favour of a fetch (false): a page served from a cache carries a dead token, and with an endpoint
   * that is routine, not a failure.
   */
  useMarkupToken(token: string): boolean {
    let grant: TokenGrant;
    try {
      grant = grantFromMarkup(token, Date.now());
    } catch (error) {
      if (this.#broker) return false;
      this.#report(error as SecureWidgetError);
      return true;
    }
    const current = this.#grant;
    if (current?.expiresAt && grant.expiresAt !== null && grant.expiresAt <= current.expiresAt) return true;
    this.#onToken(grant, 'markup');
    this.#broker?.offer(grant, this.#subscriber);
    return true;
  }

  async refresh(): Promise<void> {
    if (!this.#broker) {
      throw this.#report(
        new SecureWidgetError('config-invalid', 'refresh() needs a token-endpoint or fetchToken.', { fatal: true }),
      );
    }
    this.#halted = false;
    this.#freshRejections = 0;
    this.#host.setStatus(WidgetStatus.refreshing);
    const grant = await this.#broker.refresh(this.#subscriber);
    await this.#reloadWith(grant, 'manual');
  }

  async reload(): Promise<void> {
    const grant = this.#grant;
    if (!isFresh(grant, Date.now())) return this.refresh();
    await this.#reloadWith(grant, 'manual');
  }

  #onToken(grant: TokenGrant, source: TokenSource): void {
    if (this.#stopped) return;
    this.#grant = grant;
    clearTimeout(this.#expiryWatch);
    this.#expiryWatch = undefined;
    this.#host.emit('secure-widget-token', { expiresAt: grant.expiresAt, source });
    const embed = this.#embed;
    if (!embed.shown) {
      embed.setToken(grant.token);
      if (embed.shown) this.#loaded(grant.token);
      return;
    }
    // Kept current on the vendor element, so it never holds an expired token; the widget picks it up on reload.
    embed.setToken(grant.token);
    // The vendor is still on a token that has run out (its expiry event was missed, or failed to bring a token, or
    // the tab slept): reload now rather than leave an expired widget on screen.
    if ((this.#awaitingToken || this.#loadedExpired()) && !this.#recovering) {
      this.#burstAt = Date.now();
      void this.#reloadWith(grant, 'expired');
    }
  }

  #loadedExpired(): boolean {
    return this.#loadedExpiresAt !== null && this.#loadedExpiresAt <= Date.now();
  }

  #wake(): void {
    if (this.#stopped) return;
    this.#broker?.wake();
    const grant = this.#broker?.grant;
    if (grant && grant.token !== this.#loadedToken && this.#loadedExpired() && !this.#recovering) {
      this.#burstAt = Date.now();
      void this.#reloadWith(grant, 'expired');
    }
  }

  #onReady(): void {
    if (this.#stopped) return;
    this.#host.setStatus(WidgetStatus.ready);
    this.#host.emit('secure-widget-ready', { mode: this.#config.mode });
  }

  /** The vendor rejected its token: the next one is usually in hand already (fetched ahead of expiry). */
  async #onExpired(): Promise<void> {
    if (this.#stopped || this.#halted) return;
    const now = Date.now();
    if (this.#recovering) {
      // Before the reload these are echoes of the old token; during it, possibly the vendor rejecting the new one.
      if (this.#reloading) this.#followUp = true;
      return;
    }
    if (now - this.#burstAt < BURST_WINDOW) {
      if (this.#loadedAt >= this.#burstAt) this.#scheduleFollowUp();
      return;
    }
    const broker = this.#broker;
    if (!broker) {
      this.#report(
        new SecureWidgetError('token-expired', 'The token expired and there is no token-endpoint to renew it.', {
          fatal: true,
        }),
      );
      return;
    }
    this.#burstAt = now;
    this.#freshRejections = now - this.#loadedAt < FRESH_REJECTION_WINDOW ? this.#freshRejections + 1 : 0;
    if (this.#freshRejections >= MAX_FRESH_REJECTIONS) {
      this.#halted = true;
      this.#report(
        new SecureWidgetError(
          'reload-loop',
          `The widget rejected ${MAX_FRESH_REJECTIONS} fresh tokens in a row; stopped until refresh().`,
          { fatal: true },
        ),
      );
      return;
    }
    this.#recovering = true;
    let grant: TokenGrant;
    try {
      grant = await broker.replace(this.#subscriber, this.#loadedToken);
    } catch {
      // Reported through the broker's onError; the next token that arrives reloads the widget.
      this.#recovering = false;
      this.#awaitingToken = true;
      return;
    }
    await this.#reloadWith(grant, 'expired');
  }

  async #reloadWith(grant: TokenGrant, reason: 'expired' | 'manual'): Promise<void> {
    if (this.#stopped) return;
    this.#awaitingToken = false;
    const embed = this.#embed;
    this.#recovering = true;
    let reloaded = false;
    try {
      if (!embed.shown) {
        // Never shown (the first token or the bundle failed): showing it now is the load.
        embed.setToken(grant.token);
        if (embed.shown) this.#loaded(grant.token);
        return;
      }
      if (this.#host.status !== WidgetStatus.ready) this.#host.setStatus(WidgetStatus.refreshing);
      this.#reloading = true;
      await embed.reload(grant.token);
      reloaded = !this.#stopped;
    } finally {
      // Dropped before the reload event, so that a rejection of the new token right after it is a new one.
      this.#recovering = false;
      this.#reloading = false;
    }
    if (!reloaded) return;
    this.#loaded(grant.token);
    this.#host.setStatus(WidgetStatus.ready);
    this.#host.emit('secure-widget-reload', { reason });
    if (this.#followUp) this.#scheduleFollowUp();
  }

  /** One more recovery once the burst window is over, for expiry events that came after the burst's reload. */
  #scheduleFollowUp(): void {
    this.#followUp = false;
    if (this.#followUpTimer !== undefined) return;
    this.#followUpTimer = setTimeout(
      () => {
        this.#followUpTimer = undefined;
        void this.#onExpired();
      },
      Math.max(0, this.#burstAt + BURST_WINDOW - Date.now()),
    );
  }

  /** Another widget's call to the vendor's page-wide reload reloaded this one too, with the token on its element. */
  #onReloadedByAnother(token: string): void {
    if (this.#stopped || this.#recovering) return;
    this.#awaitingToken = false;
    this.#loaded(token);
    this.#host.setStatus(WidgetStatus.ready);
    this.#host.emit('secure-widget-reload', { reason: 'expired' });
  }

  #loaded(token: string): void {
    this.#loadedToken = token;
    this.#loadedAt = Date.now();
    this.#loadedExpiresAt = this.#grant?.token === token ? this.#grant.expiresAt : null;
  }

  #onTokenError(error: SecureWidgetError, retryAt: number | null): void {
    if (this.#stopped) return;
    this.#emitError(error, retryAt);
    const grant = this.#grant;
    // A failed prefetch does not disturb a widget whose token is still good: it shows `error` only if that token runs
    // out before a new one arrives.
    if (!isFresh(grant, Date.now()) || !this.#embed.shown) {
      this.#host.setStatus(WidgetStatus.error);
    } else if (grant.expiresAt !== null && this.#expiryWatch === undefined) {
      this.#expiryWatch = setTimeout(
        () => {
          if (!this.#stopped && this.#grant === grant) this.#host.setStatus(WidgetStatus.error);
        },
        Math.min(grant.expiresAt - Date.now(), MAX_DELAY),
      );
    }
  }

  #report(error: SecureWidgetError): SecureWidgetError {
    if (!this.#stopped) {
      this.#emitError(error);
      this.#host.setStatus(WidgetStatus.error);
    }
    return error;
  }

  #emitError(error: SecureWidgetError, retryAt: number | null = null): void {
    this.#host.emit('secure-widget-error', errorDetail(error, retryAt));
  }
}

export function errorDetail(error: SecureWidgetError, retryAt: number | null = null) {
  return {
    code: error.code,
    message: error.message,
    fatal: error.fatal,
    ...(error.status !== undefined && { status: error.status }),
    ...(retryAt !== null && { retryAt }),
  };
}

/** The page-wide broker of this token source (an endpoint + credentials, or a fetchToken function), or its own. */
function brokerFor(config: WidgetConfig, fetchToken: CustomTokenFetcher | null | undefined): TokenBroker | null {
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
