import { SecureWidgetError, isAbortError } from '../errors.js';
import { isFresh, refreshTime, type TokenGrant } from './grant.js';
import type { TokenLoader } from './source.js';

/** One widget's view of a broker. */
export interface TokenSubscriber {
  /** How long before expiry this widget wants the next token in hand, in ms. */
  readonly margin: number;
  /** A token for this widget; `fetchedForThis` is false when another widget's request (or a timer) fetched it. */
  onToken(grant: TokenGrant, fetchedForThis: boolean): void;
  /** A failed attempt; `retryAt` (local ms) when the broker will try again by itself. */
  onError(error: SecureWidgetError, retryAt: number | null): void;
}

// setTimeout stores its delay in a signed 32-bit integer: anything larger fires at once.
const MAX_DELAY = 2 ** 31 - 1;
const BACKOFF_BASE = 1_000;
const BACKOFF_CAP = 60_000;

/**
 * Shares one token, one in-flight request and one refresh timer among every widget that uses the same source.
 * DOM-free: it only knows loaders, timers and subscribers, so its tests run with a fake clock and a fake loader.
 */
export class TokenBroker {
  readonly #load: TokenLoader;
  readonly #onIdle: () => void;
  readonly #subscribers = new Set<TokenSubscriber>();
  #grant: TokenGrant | null = null;
  #inflight: { promise: Promise<TokenGrant>; controller: AbortController; kind: 'initial' | 'next' } | null = null;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #failures = 0;
  /** The last failure and, while a retry is scheduled, when it runs: every widget waits for that one retry. */
  #lastError: SecureWidgetError | null = null;
  #retryAt: number | null = null;

  constructor(load: TokenLoader, onIdle: () => void = () => {}) {
    this.#load = load;
    this.#onIdle = onIdle;
  }

  /** The token in hand, if it has not expired. */
  get grant(): TokenGrant | null {
    return isFresh(this.#grant, Date.now()) ? this.#grant : null;
  }

  /** It had a token, and that token has run out. */
  get expired(): boolean {
    return this.#grant !== null && !isFresh(this.#grant, Date.now());
  }

  get subscriberCount(): number {
    return this.#subscribers.size;
  }

  subscribe(subscriber: TokenSubscriber): () => void {
    this.#subscribers.add(subscriber);
    // A newcomer may want the next token earlier (a larger margin), or the broker may be waking from stop().
    if (!this.#inflight && this.#retryAt === null) this.#schedule();
    return () => {
      if (!this.#subscribers.delete(subscriber) || this.#subscribers.size > 0) return;
      this.stop();
      this.#onIdle();
    };
  }

  /**
   * A token for `subscriber`: the one in hand while it is valid (delivered at once, even when its successor is due, so
   * a widget never waits on the network while a good token exists), else the next one, from the request in flight or
   * a new one.
   */
  request(subscriber: TokenSubscriber): Promise<TokenGrant> {
    const grant = this.grant;
    if (!grant) {
      // During a backoff a newcomer hears the failure and waits for the scheduled retry: 50 widgets connecting to a
      // failing endpoint follow one schedule instead of each asking at once.
      if (this.#retryAt !== null && !this.#inflight) {
        subscriber.onError(this.#lastError!, this.#retryAt);
        return this.#waiting();
      }
      return this.#fetch(subscriber, 'initial');
    }
    subscriber.onToken(grant, false);
    if (this.#due(grant) && !this.#inflight && this.#retryAt === null) void this.#fetch(null).catch(() => {});
    return Promise.resolve(grant);
  }

  /**
   * The page came back (tab visible again, network online): timers may have slept through the refresh, and a fatal
   * failure may be gone (the user signed in elsewhere). Fetch now if the token is missing or due.
   */
  wake(): void {
    if (this.#inflight || this.#subscribers.size === 0) return;
    const grant = this.grant;
    if (grant && !this.#due(grant)) return;
    void this.#fetch(null).catch(() => {});
  }

  /**
   * The vendor rejected `rejected`: hand over the token already fetched ahead of expiry if there is one, so recovery
   * costs no round trip; fetch only when the token in hand is the rejected one.
   */
  replace(subscriber: TokenSubscriber, rejected: string | null): Promise<TokenGrant> {
    const grant = this.grant;
    if (grant && grant.token !== rejected) {
      subscriber.onToken(grant, false);
      return Promise.resolve(grant);
    }
    // A retry is scheduled already, or the last failure was fatal (only refresh(), a wake or another endpoint try
    // again): expiry events from many widgets must not bypass that.
    if (!this.#inflight && this.#lastError && (this.#retryAt !== null || this.#lastError.fatal)) return this.#waiting();
    return this.#fetch(subscriber);
  }

  /** A new token now, whatever is in hand (joins a request already in flight). */
  refresh(subscriber: TokenSubscriber): Promise<TokenGrant> {
    return this.#fetch(subscriber);
  }

  /**
   * A token that arrived another way (server-rendered into the page). Adopted when it outlives the one in hand, and
   * handed to the other widgets, so a server-rendered page makes no request at load.
   */
  offer(grant: TokenGrant, from: TokenSubscriber): void {
    const current = this.grant;
    if (current && (grant.expiresAt === null || (current.expiresAt !== null && current.expiresAt >= grant.expiresAt))) {
      return;
    }
    this.#grant = grant;
    // Widgets earlier on the page may have asked for a first token already: this one serves them, so that request is
    // not needed (a server-rendered page makes no request at load, whatever the order of its widgets).
    if (this.#inflight?.kind === 'initial' && !this.#due(grant)) {
      this.#inflight.controller.abort();
      this.#inflight = null;
    }
    this.#schedule();
    for (const subscriber of this.#subscribers) if (subscriber !== from) subscriber.onToken(grant, false);
  }

  /** Ends the timer and the request in flight; the broker can be used again afterwards. */
  stop(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#retryAt = null;
    this.#inflight?.controller.abort();
    this.#inflight = null;
  }

  #margin(): number {
    let margin = 0;
    for (const subscriber of this.#subscribers) margin = Math.max(margin, subscriber.margin);
    return margin;
  }

  #due(grant: TokenGrant): boolean {
    const due = refreshTime(grant, this.#margin());
    return due !== null && due <= Date.now();
  }

  /** A settled promise for callers that must not start a request now; the outcome reaches them as notifications. */
  #waiting(): Promise<TokenGrant> {
    const waiting = Promise.reject(this.#lastError!);
    waiting.catch(() => {});
    return waiting;
  }

  #fetch(initiator: TokenSubscriber | null, kind: 'initial' | 'next' = 'next'): Promise<TokenGrant> {
    if (this.#inflight) return this.#inflight.promise;
    clearTimeout(this.#timer);
    this.#retryAt = null;
    const controller = new AbortController();
    const promise = this.#load(controller.signal).then(
      (grant) => {
        if (this.#inflight?.controller === controller) this.#inflight = null;
        // A loader that ignores its signal (a custom fetchToken) may still resolve after stop(): nobody wants it.
        if (controller.signal.aborted) throw new DOMException('Aborted', 'AbortError');
        this.#failures = 0;
        this.#lastError = null;
        this.#grant = grant;
        this.#schedule();
        const forWhom = initiator ?? this.#subscribers.values().next().value;
        for (const subscriber of [...this.#subscribers]) subscriber.onToken(grant, subscriber === forWhom);
        return grant;
      },
      (error: unknown) => {
        if (this.#inflight?.controller === controller) this.#inflight = null;
        // Nobody is waiting for an aborted request: it is not a failure to report.
        if (controller.signal.aborted || isAbortError(error)) throw error;
        const failure =
          error instanceof SecureWidgetError
            ? error
            : new SecureWidgetError('token-missing', 'fetchToken failed.', { fatal: true, cause: error });
        this.#lastError = failure;
        const retryAt = failure.fatal ? null : this.#scheduleRetry(failure);
        for (const subscriber of [...this.#subscribers]) subscriber.onError(failure, retryAt);
        throw failure;
      },
    );
    this.#inflight = { promise, controller, kind };
    // The subscribers hear about failures; a caller that does not await the promise must not see an unhandled one.
    promise.catch(() => {});
    return promise;
  }

  /** Next token `margin` before expiry. A token that arrives already inside its window waits half its remaining life. */
  #schedule(): void {
    clearTimeout(this.#timer);
    const grant = this.#grant;
    if (!grant || grant.expiresAt === null || this.#subscribers.size === 0) return;
    const now = Date.now();
    let due = refreshTime(grant, this.#margin())!;
    if (due <= now) due = now + (grant.expiresAt - now) / 2;
    this.#timer = setTimeout(() => {
      // A delay beyond setTimeout's range was clamped: not due yet, wait again.
      if (Date.now() < due) this.#schedule();
      else void this.#fetch(null).catch(() => {});
    }, clamp(due - now));
  }

  /** Exponential backoff with full jitter, so that many pages do not retry in step; `Retry-After` wins when longer. */
  #scheduleRetry(failure: SecureWidgetError): number {
    this.#failures += 1;
    const ceiling = Math.min(BACKOFF_CAP, BACKOFF_BASE * 2 ** (this.#failures - 1));
    const delay = Math.max(Math.random() * ceiling, failure.retryAfter ?? 0);
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => void this.#fetch(null).catch(() => {}), clamp(delay));
    this.#retryAt = Date.now() + delay;
    return this.#retryAt;
  }
}

function clamp(delay: number): number {
  return Math.min(Math.max(0, delay), MAX_DELAY);
}

const shared = new Map<unknown, TokenBroker>();

/**
 * The page-wide broker for a token source (an endpoint URL + credentials mode, or a fetchToken function), created on
 * first use. When its last widget leaves, its timer and request stop, but a token still valid stays in hand (in
 * memory), so that a single-page app that unmounts and remounts its widget on navigation makes no request; a broker
 * whose token has run out is forgotten.
 */
export function sharedBroker(key: unknown, createLoader: () => TokenLoader): TokenBroker {
  let broker = shared.get(key);
  if (broker && broker.subscriberCount === 0 && broker.expired) broker = undefined;
  if (!broker) {
    const created = new TokenBroker(createLoader(), () => {
      if (shared.get(key) === created && !created.grant) shared.delete(key);
    });
    shared.set(key, created);
    broker = created;
  }
  return broker;
}
