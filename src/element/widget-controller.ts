import type { ReactiveController, ReactiveControllerHost } from '@lit/reactive-element';
import type { WidgetAttributes } from './config.js';
import { adoptTemplateChildren } from './embed/vendor-element.js';
import { SecureWidgetError } from './errors.js';
import { DEFER_HYDRATION } from './properties.js';
import type { SecureWidgetEventMap } from './events.js';
import { WidgetStatus } from './status.js';
import type { CustomTokenFetcher } from './token/source.js';
import { WidgetSession, type SessionHost } from './widget-session.js';

/** The element as its controller sees it: attributes as properties, and the inputs that start it over. */
export type WidgetControllerHost = ReactiveControllerHost &
  HTMLElement &
  WidgetAttributes & {
    fetchToken?: CustomTokenFetcher | null;
    /** @internal The values whose change means another token source or embedding: the widget starts over. */
    readonly restartInputs: readonly unknown[];
  };

/**
 * Runs the widget's session for as long as the element is connected: `hostConnected` prepares, the first update starts
 * it, `hostDisconnected` ends it (all it started ends with one abort). A move (disconnect and connect in one task)
 * keeps it, so a moved widget keeps its token and makes no request.
 * @internal
 */
export class WidgetController implements ReactiveController {
  readonly #host: WidgetControllerHost;
  readonly #sessionHost: SessionHost;
  #session: WidgetSession | null = null;
  #status: WidgetStatus = WidgetStatus.loading;
  #markupToken: string | null = null;
  #devKey: string | null = null;
  /** The inputs of the last start, failed or not: a configuration error must not restart in a loop. */
  #startedWith: readonly unknown[] | null = null;

  constructor(host: WidgetControllerHost) {
    (this.#host = host).addController(this);
    this.#sessionHost = {
      element: host,
      setStatus: (status) => this.#setStatus(status),
      emit: (type, detail) => this.#emit(type, detail),
    };
  }

  get status(): WidgetStatus {
    return this.#status;
  }

  get session(): WidgetSession | null {
    return this.#session;
  }

  hostConnected(): void {
    if (this.#deferred) return;
    adoptTemplateChildren(this.#host);
    // A new connection starts in the next update, so that properties set right after insertion (el.fetchToken = …)
    // are seen.
    if (!this.#session) this.#host.requestUpdate();
  }

  hostDisconnected(): void {
    // Moving an element disconnects and reconnects it in one task: wait a microtask before tearing down.
    queueMicrotask(() => {
      if (!this.#host.isConnected) this.#stop();
    });
  }

  /** `defer-hydration` was removed: what connecting would have done, now. */
  hydrated(): void {
    if (this.#host.isConnected) this.hostConnected();
  }

  /** Server-rendered markup a framework has yet to hydrate: nothing starts, so nothing of it changes. */
  get #deferred(): boolean {
    return this.#host.hasAttribute(DEFER_HYDRATION);
  }

  /** Before each render: start, start over when an input changed, or hand a new fetchToken to the running session. */
  hostUpdate(): void {
    const host = this.#host;
    if (!host.isConnected || this.#deferred) return;
    const inputs = host.restartInputs;
    const started = this.#startedWith;
    if (!started || inputs.some((value, index) => value !== started[index])) {
      this.#stop();
      this.#start(inputs);
    } else if (typeof host.fetchToken === 'function') {
      this.#session?.useFetchToken(host.fetchToken);
    }
  }

  /** A server-rendered token: the running session uses it now, a session yet to start uses it first. */
  offerMarkupToken(token: string | null): void {
    if (this.#session && token) this.#session.useMarkupToken(token);
    else this.#markupToken = token;
  }

  /** A dev key (or none): the widget starts over with it, since it replaces the token source. */
  useDevKey(key: string | null): void {
    if (key === this.#devKey) return;
    this.#devKey = key;
    this.#stop();
    this.#host.requestUpdate();
  }

  /** The running session, with the latest fetchToken (`el.fetchToken = f; el.refresh()` uses `f`). */
  requireSession(): WidgetSession {
    const session = this.#session;
    if (session) {
      if (typeof this.#host.fetchToken === 'function') session.useFetchToken(this.#host.fetchToken);
      return session;
    }
    throw new SecureWidgetError('config-invalid', '<secure-widget> is not connected or not configured.');
  }

  #start(inputs: readonly unknown[]): void {
    this.#startedWith = inputs;
    const session = new WidgetSession(this.#sessionHost, this.#host.fetchToken, this.#devKey);
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

  #setStatus(status: WidgetStatus): void {
    const host = this.#host;
    if (this.#status !== status) {
      this.#status = status;
      host.requestUpdate();
    }
    if (host.getAttribute('status') !== status) host.setAttribute('status', status);
  }

  #emit<K extends keyof SecureWidgetEventMap>(type: K, detail: SecureWidgetEventMap[K]['detail']): void {
    this.#host.dispatchEvent(new CustomEvent(type, { detail, bubbles: true, composed: true }));
  }
}
