import { readConfig, type VendorSettings, type WidgetAttributes, type WidgetConfig } from './config.js';
import { judgeDevKey } from './dev-key.js';
import { BundleEmbed } from './embed/bundle-embed.js';
import type { Embed, EmbedHost } from './embed/embed.js';
import { IframeEmbed } from './embed/iframe-embed.js';
import { attributeTarget, configTarget, hookTarget, type ApplyToken, type TokenTarget } from './embed/token-target.js';
import { SecureWidgetError } from './errors.js';
import type { SecureWidgetErrorDetail, SecureWidgetEventMap } from './events.js';
import {
  initialState,
  nextDeadline,
  statusOf,
  step,
  type RecoveryEffects,
  type RecoveryInput,
  type RecoveryState,
} from './recovery.js';
import type { WidgetStatus } from './status.js';
import { TokenBroker, type TokenSubscriber } from './token/broker.js';
import { Deadline } from './token/deadline.js';
import { grantFromMarkup, isFresh, type TokenGrant } from './token/grant.js';
import { rekeyBroker, sharedBroker } from './token/registry.js';
import { customLoader, endpointLoader, type CustomTokenFetcher, type TokenLoader } from './token/source.js';

/** What a session needs from its element: status and events are the element's public face. */
export interface SessionHost {
  readonly element: HTMLElement & WidgetAttributes & { applyToken?: ApplyToken | null };
  setStatus(status: WidgetStatus): void;
  emit<K extends keyof SecureWidgetEventMap>(type: K, detail: SecureWidgetEventMap[K]['detail']): void;
}

interface Waiter {
  resolve(): void;
  reject(error: unknown): void;
}

/**
 * One connection of a `<secure-widget>`: it feeds what happens (tokens, vendor events, calls, the clock) to the
 * recovery machine (recovery.ts) and carries out what the machine decides, on the token source (a broker) and the
 * embedding. Everything it starts ends with `stop()`: one AbortController for listeners, embedding and subscription.
 * @internal
 */
export class WidgetSession {
  readonly #host: SessionHost;
  readonly #config: WidgetConfig | null;
  readonly #controller = new AbortController();
  readonly #subscriber: TokenSubscriber = { marginMs: 0, onGrant() {}, onFailure() {} };
  readonly #embed: Embed | null;
  readonly #deadline = new Deadline();
  #source: TokenSourceHandle | null;
  /** Dev mode: the `api-key` the vendor gets instead of tokens, when the page may use one (dev-key.ts). */
  #devKey: string | null = null;
  #state: RecoveryState;
  #inputs: RecoveryInput[] = [];
  #stepping = false;
  #waiters: Waiter[] = [];
  /** Events of the step under way, dispatched once its status is set. */
  #announcements: (() => void)[] = [];
  /** What the element renders in its shadow root for this session: the iframe in iframe mode. */
  readonly rendered: HTMLElement | null;

  constructor(host: SessionHost, fetchToken: CustomTokenFetcher | null | undefined, apiKey: string | null = null) {
    this.#host = host;
    const { signal } = this.#controller;
    let config: WidgetConfig;
    try {
      config = readConfig(host.element);
      const hasTokenSource = !!config.endpointUrl || typeof fetchToken === 'function';
      const use = apiKey && judgeDevKey(apiKey, location.hostname, hasTokenSource);
      if (use === 'use' && config.mode === 'iframe') throw notConfigured('api-key is for bundle mode.');
      this.#devKey = use === 'use' ? apiKey : null;
    } catch (error) {
      // Nothing to start: the machine stops on the fault, and status follows it like any other.
      this.#config = null;
      this.#source = null;
      this.#embed = null;
      this.rendered = null;
      this.#state = initialState(false);
      this.#send({ type: 'fault', error: error as SecureWidgetError });
      return;
    }
    this.#config = config;
    this.#source = tokenSource(config, fetchToken);
    this.#state = initialState(this.#source !== null);
    this.#subscriber = {
      marginMs: config.marginMs,
      onGrant: (grant, fetchedForThis) =>
        this.#send({ type: 'token', grant, source: fetchedForThis ? 'endpoint' : 'shared' }),
      onFailure: (error, retryAt) => this.#send({ type: 'token-failed', error, retryAt }),
    };
    const embedHost: EmbedHost = {
      ready: () => this.#send({ type: 'vendor-ready' }),
      expired: () => this.#send({ type: 'vendor-expired' }),
      fail: (error, mends) => this.#send({ type: 'vendor-failed', error, mends }),
      vendorHas: (token) => this.#send({ type: 'vendor-loaded', token }),
      reloaded: (token, reason) => this.#send({ type: 'reloaded-by-page', token, reason }),
    };
    if (config.mode === 'iframe') {
      const embed = new IframeEmbed(embedHost, config.src!, config.frame, signal);
      this.#embed = embed;
      this.rendered = embed.frame;
    } else {
      const target = tokenTarget(config.bundle, this.#devKey !== null, () => host.element.applyToken);
      this.#embed = new BundleEmbed(host.element, embedHost, { ...config.bundle, target }, signal);
      this.rendered = null;
    }
    this.#subscribe();
    signal.addEventListener(
      'abort',
      () => {
        this.#deadline.clear();
        this.#source?.leave();
        for (const waiter of this.#waiters.splice(0)) waiter.reject(disconnected());
      },
      { once: true },
    );
    // Timers sleep with the tab and the laptop; coming back is the moment to look at the token again.
    document.addEventListener(
      'visibilitychange',
      () => {
        if (document.visibilityState === 'visible') this.#send({ type: 'wake' });
      },
      { signal },
    );
    window.addEventListener('online', () => this.#send({ type: 'wake' }), { signal });
  }

  /** When the token in hand expires (local ms), or null. */
  get expiresAt(): number | null {
    return this.#state.grant?.expiresAt ?? null;
  }

  get status(): WidgetStatus {
    return statusOf(this.#state, Date.now());
  }

  /** Asks for the first token: the server-rendered one while it is fresh, else the source's. */
  start(markupToken: string | null): void {
    // No configuration, or a vendor element found faulty as the embedding looked at it: nothing is requested.
    if (!this.#config || this.#state.phase.name === 'stopped') return;
    // A start is a new status: `loading`, whatever the last session left.
    this.#host.setStatus(this.status);
    if (this.#devKey !== null) {
      // Dev mode: the key stands in for a token that never expires and cannot be renewed.
      this.#send({ type: 'token', grant: { token: this.#devKey, expiresAt: null, lifetime: null }, source: 'api-key' });
      return;
    }
    if (markupToken && this.useMarkupToken(markupToken)) return;
    if (!this.#source) {
      this.#send({ type: 'fault', error: notConfigured('Set token-endpoint, fetchToken or embed-token.') });
      return;
    }
    this.#source.broker.request(this.#subscriber);
  }

  stop(): void {
    this.#controller.abort();
  }

  /**
   * Uses a server-rendered token while it is fresh (true), shared with the other widgets of the source. A stale one
   * is dropped in favour of a fetch (false): a page served from a cache carries a dead token, and with an endpoint
   * that is routine, not a failure.
   */
  useMarkupToken(token: string): boolean {
    let grant: TokenGrant;
    try {
      grant = grantFromMarkup(token, Date.now());
    } catch (error) {
      if (this.#source) return false;
      this.#send({ type: 'fault', error: error as SecureWidgetError });
      return true;
    }
    const current = this.#state.grant;
    if (current?.expiresAt && grant.expiresAt !== null && grant.expiresAt <= current.expiresAt) return true;
    this.#send({ type: 'token', grant, source: 'markup' });
    this.#source?.broker.offer(grant, this.#subscriber);
    return true;
  }

  /**
   * A new `fetchToken` (a framework passes a new closure on every render): used for the next fetch; the token in
   * hand stays and nothing is fetched because of it.
   */
  useFetchToken(fetchToken: CustomTokenFetcher): void {
    const source = this.#source;
    if (!source || source.fetchToken === fetchToken || this.#controller.signal.aborted) return;
    const loader = customLoader(fetchToken);
    const { broker } = source;
    if (source.key === null || typeof source.key === 'string' || broker.subscriberCount <= 1) {
      // Its own broker, or one shared under an explicit token-key (the page says they are one user): same broker.
      if (typeof source.key === 'function') rekeyBroker(broker, source.key, fetchToken);
      broker.setLoader(loader);
      this.#source = { ...source, fetchToken, key: typeof source.key === 'function' ? fetchToken : source.key };
      return;
    }
    // Other widgets share this broker because they were given the old function: they keep it. This widget moves to
    // the new function's broker, bringing the token in hand along so that the move costs no request.
    const grant = this.#state.grant;
    source.leave();
    const moved = sharedBroker(fetchToken, () => loader);
    this.#source = { key: fetchToken, fetchToken, broker: moved, leave: () => {} };
    this.#subscribe();
    if (isFresh(grant, Date.now())) moved.offer(grant, this.#subscriber);
  }

  /** A new token now, then the vendor reloaded with it. Rejects with the SecureWidgetError that is also dispatched. */
  refresh(): Promise<void> {
    if (!this.#source) {
      return Promise.reject(this.#report(notConfigured('refresh() needs a token-endpoint or fetchToken.')));
    }
    return this.#call({ type: 'refresh' });
  }

  /** The vendor reloaded with the token in hand (or `refresh()` when there is none). */
  reload(): Promise<void> {
    if (!this.#source && !isFresh(this.#state.grant, Date.now())) return this.refresh();
    return this.#call({ type: 'reload' });
  }

  #call(input: RecoveryInput): Promise<void> {
    if (this.#controller.signal.aborted) return Promise.reject(disconnected());
    const done = new Promise<void>((resolve, reject) => this.#waiters.push({ resolve, reject }));
    this.#send(input);
    return done;
  }

  #subscribe(): void {
    const source = this.#source;
    if (!source) return;
    source.leave = source.broker.subscribe(this.#subscriber);
  }

  /**
   * Steps the machine through `input` and whatever its effects feed back (a broker answers some calls
   * synchronously): inputs queue while a step runs, so each sees the state the one before it left.
   */
  #send(input: RecoveryInput): void {
    if (this.#controller.signal.aborted) return;
    this.#inputs.push(input);
    if (this.#stepping) return;
    this.#stepping = true;
    try {
      for (let next = this.#inputs.shift(); next && !this.#controller.signal.aborted; next = this.#inputs.shift()) {
        step(this.#state, next, Date.now(), this.#effects);
        // Status before the events of this step: a listener reads the status an event announces.
        this.#host.setStatus(statusOf(this.#state, Date.now()));
        for (const announce of this.#announcements.splice(0)) announce();
      }
    } finally {
      this.#stepping = false;
    }
    const at = nextDeadline(this.#state);
    if (at === null) this.#deadline.clear();
    else if (at !== this.#deadline.at) this.#deadline.set(at, () => this.#send({ type: 'clock' }));
  }

  /** What the machine asks for, carried out on the element's events, the embedding and the broker. */
  readonly #effects: RecoveryEffects = {
    announceToken: (expiresAt, source) => this.#announce('secure-widget-token', { expiresAt, source }),
    announceReady: () => this.#announce('secure-widget-ready', { mode: this.#config!.mode }),
    announceReload: (reason) => this.#announce('secure-widget-reload', { reason }),
    announceError: (error, retryAt) => this.#announce('secure-widget-error', errorDetail(error, retryAt)),
    handOver: (token) => this.#embed?.setToken(token),
    reloadVendor: (token, reason) => {
      const done = () => this.#send({ type: 'reloaded', token });
      // A microtask late: every widget of a shared token has it on its vendor element before the first page-wide
      // vendor reload starts, so that one reload serves them all.
      queueMicrotask(() => {
        if (this.#controller.signal.aborted) return;
        this.#send({ type: 'reload-begun' });
        this.#embed?.reload(token, reason).then(done, done);
      });
    },
    askReplacement: (rejected) => this.#source?.broker.replace(this.#subscriber, rejected),
    askRefresh: () => this.#source?.broker.refresh(this.#subscriber),
    wakeSource: () => this.#source?.broker.wake(),
    settle: (error) => {
      for (const { resolve, reject } of this.#waiters.splice(0)) {
        if (error) reject(error);
        else resolve();
      }
    },
  };

  #announce<K extends keyof SecureWidgetEventMap>(type: K, detail: SecureWidgetEventMap[K]['detail']): void {
    this.#announcements.push(() => this.#host.emit(type, detail));
  }

  /** An error of a call, outside the machine: announced, and nothing else changes. */
  #report(error: SecureWidgetError): SecureWidgetError {
    if (!this.#controller.signal.aborted) this.#host.emit('secure-widget-error', errorDetail(error));
    return error;
  }
}

export function errorDetail(error: SecureWidgetError, retryAt: number | null = null): SecureWidgetErrorDetail {
  return {
    code: error.code,
    message: error.message,
    fatal: error.fatal,
    ...(error.status !== undefined && { status: error.status }),
    ...(retryAt !== null && { retryAt }),
  };
}

/** Where the vendor element takes its credential from: the page's hook, a config object, or an attribute. */
function tokenTarget(
  settings: VendorSettings,
  devMode: boolean,
  hook: () => ApplyToken | null | undefined,
): TokenTarget {
  const { configKey, configAttribute, tokenAttribute } = settings;
  // In dev mode the key goes where the vendor's own docs put it: `apiKey` in the config, an `api-key` attribute.
  const base = configKey
    ? configTarget(configAttribute, devMode ? 'apiKey' : configKey)
    : attributeTarget(devMode ? 'api-key' : tokenAttribute);
  return devMode ? base : hookTarget(hook, base);
}

/** What a call in progress, or made after the end, rejects with: the caller's own AbortError, not a failure. */
function disconnected(): DOMException {
  return new DOMException('The widget was disconnected.', 'AbortError');
}

function notConfigured(message: string): SecureWidgetError {
  return new SecureWidgetError('config-invalid', message);
}

/**
 * A widget's token source: its broker, the key it is shared under (null: not shared), and the function it calls.
 * @internal
 */
interface TokenSourceHandle {
  key: string | CustomTokenFetcher | null;
  fetchToken: CustomTokenFetcher | null;
  broker: TokenBroker;
  leave: () => void;
}

/**
 * The broker of this widget's token source. Widgets share one when they name the same endpoint and credentials, the
 * same `token-key`, or (with neither) the same fetchToken function: two functions may fetch for two users, so a new
 * function alone never joins another widget's token.
 */
function tokenSource(
  config: WidgetConfig,
  fetchToken: CustomTokenFetcher | null | undefined,
): TokenSourceHandle | null {
  let key: string | CustomTokenFetcher;
  let loader: () => TokenLoader;
  const custom = typeof fetchToken === 'function' ? fetchToken : null;
  if (custom) {
    key = config.tokenKey === null ? custom : `fetchToken ${config.tokenKey}`;
    loader = () => customLoader(custom);
  } else if (config.endpointUrl) {
    const { endpointUrl: endpoint, credentials } = config;
    key = `endpoint ${credentials} ${endpoint.href} ${config.tokenKey ?? ''}`;
    loader = () => endpointLoader({ url: endpoint.href, credentials });
  } else {
    return null;
  }
  if (config.sharing === 'element') {
    return { key: null, fetchToken: custom, broker: new TokenBroker(loader()), leave: () => {} };
  }
  return { key, fetchToken: custom, broker: sharedBroker(key, loader), leave: () => {} };
}
