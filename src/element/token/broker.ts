import { SecureWidgetError, isAbortError } from '../errors.js';
import { Deadline, MIN_REFRESH_DELAY } from './deadline.js';
import { isFresh, refreshTime, type TokenGrant } from './grant.js';
import type { TokenLoader } from './source.js';

/** @internal One widget's view of a broker. */
export interface TokenSubscriber {
  /** How long before expiry this widget wants the next token in hand, in ms. */
  readonly marginMs: number;
  /** A token for this widget; `fetchedForThis` is false when another widget's request (or a timer) fetched it. */
  onGrant(grant: TokenGrant, fetchedForThis: boolean): void;
  /** A failed attempt; `retryAt` (local ms) when the broker will try again by itself. */
  onFailure(error: SecureWidgetError, retryAt: number | null): void;
}

const BACKOFF_BASE = 1_000;
const BACKOFF_CAP = 60_000;
/** The longest `Retry-After` honoured: a server asking for hours would leave the widget dead as long. */
const MAX_RETRY_AFTER = 10 * 60_000;

/**
 * What the broker is doing, beside the token it holds. Exactly one timer runs, and the phase says which: the refresh
 * in `scheduled`, the retry in `backoff`.
 * - `idle`: nothing to do (no widget, or a token with no expiry);
 * - `scheduled`: the next token is fetched at `at`, `margin` before expiry;
 * - `fetching`: one request in flight, shared by everyone (`first`: nothing was in hand when it started);
 * - `backoff`: a transient failure; every widget waits for the one retry at `at`;
 * - `failed`: a fatal failure; only `refresh()`, `wake()` or a newcomer try again.
 * @internal
 */
export type BrokerPhase =
  | { readonly name: 'idle' }
  | { readonly name: 'scheduled'; readonly at: number }
  | { readonly name: 'fetching'; readonly turn: 'first' | 'next'; readonly controller: AbortController }
  | { readonly name: 'backoff'; readonly at: number; readonly error: SecureWidgetError }
  | { readonly name: 'failed'; readonly error: SecureWidgetError };

/**
 * Shares one token, one in-flight request and one timer among every widget that uses the same source.
 * DOM-free: it only knows loaders, timers and subscribers, so its tests run with a fake clock and a fake loader.
 * Its calls return nothing: every outcome, of a widget's own call or of a timer, reaches the subscribers the same way
 * (`onGrant`, `onFailure`), so there is one path to test and none to forget.
 * @internal
 */
export class TokenBroker {
  #load: TokenLoader;
  readonly #onIdle: () => void;
  readonly #subscribers = new Set<TokenSubscriber>();
  readonly #timer = new Deadline();
  #phase: BrokerPhase = { name: 'idle' };
  #grant: TokenGrant | null = null;
  /** Failures in a row, for the backoff; a success starts it over. */
  #failures = 0;
  /** When the last request started: none starts again within MIN_REFRESH_DELAY of it, by timer, wake or newcomer. */
  #attemptedAt = Number.NEGATIVE_INFINITY;

  constructor(load: TokenLoader, onIdle: () => void = () => {}) {
    this.#load = load;
    this.#onIdle = onIdle;
  }

  get phase(): BrokerPhase {
    return this.#phase;
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

  /**
   * The next request uses `load`. A framework hands a widget a new `fetchToken` closure on every render: the token in
   * hand stays, and nothing is fetched because of it.
   */
  setLoader(load: TokenLoader): void {
    this.#load = load;
  }

  subscribe(subscriber: TokenSubscriber): () => void {
    this.#subscribers.add(subscriber);
    // A newcomer may want the next token earlier (a larger margin), or the broker may be waking from stop().
    if (this.#phase.name === 'idle' || this.#phase.name === 'scheduled') this.#schedule();
    return () => {
      if (!this.#subscribers.delete(subscriber) || this.#subscribers.size > 0) return;
      this.stop();
      this.#onIdle();
    };
  }

  /**
   * A token for `subscriber`: the one in hand while it is valid (delivered at once, even when its successor is due, so
   * a widget never waits on the network while a good token exists), else the next one.
   */
  request(subscriber: TokenSubscriber): void {
    const grant = this.grant;
    const phase = this.#phase;
    if (grant) {
      subscriber.onGrant(grant, false);
      if (this.#due(grant) && (phase.name === 'idle' || phase.name === 'scheduled')) this.#fetch(null);
      return;
    }
    // During a backoff a newcomer hears the failure and waits for the scheduled retry: 50 widgets connecting to a
    // failing endpoint follow one schedule instead of each asking at once. So does one right after a fatal failure.
    if (phase.name === 'backoff' || (phase.name === 'failed' && this.#tooSoon())) {
      subscriber.onFailure(phase.error, phase.name === 'backoff' ? phase.at : null);
      return;
    }
    this.#fetch(subscriber, 'first');
  }

  /**
   * The page came back (tab visible again, network online): timers may have slept through the refresh, and a fatal
   * failure may be gone (the user signed in elsewhere). Fetch now if the token is missing or due.
   */
  wake(): void {
    if (this.#phase.name === 'fetching' || this.#subscribers.size === 0 || this.#tooSoon()) return;
    const grant = this.grant;
    if (grant && !this.#due(grant)) return;
    this.#fetch(null);
  }

  /**
   * The vendor rejected `rejectedToken`: hand over the token already fetched ahead of expiry if there is one, so
   * recovery costs no round trip; fetch only when the token in hand is the rejected one.
   */
  replace(subscriber: TokenSubscriber, rejectedToken: string | null): void {
    const grant = this.grant;
    if (grant && grant.token !== rejectedToken) {
      subscriber.onGrant(grant, false);
      return;
    }
    // A retry is scheduled already, or the last failure was fatal (only refresh(), a wake or a newcomer try again):
    // expiry events from many widgets must not bypass that.
    const phase = this.#phase;
    if (phase.name === 'backoff' || phase.name === 'failed') return;
    if (phase.name !== 'fetching' && this.#tooSoon()) {
      // A vendor rejecting the token it was just given would ask again at once: the floor makes that one request a
      // second (and reload-loop ends it after three).
      this.#enter({ name: 'scheduled', at: this.#attemptedAt + MIN_REFRESH_DELAY }, subscriber);
      return;
    }
    this.#fetch(subscriber);
  }

  /** A new token now, whatever is in hand (joins a request already in flight). */
  refresh(subscriber: TokenSubscriber): void {
    this.#fetch(subscriber);
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
    const phase = this.#phase;
    // Widgets earlier on the page may have asked for a first token already: this one serves them, so that request is
    // not needed (a server-rendered page makes no request at load, whatever the order of its widgets).
    if (phase.name === 'fetching' && phase.turn === 'first' && !this.#due(grant)) {
      phase.controller.abort();
      this.#enter({ name: 'idle' });
    }
    if (this.#phase.name !== 'fetching') this.#schedule();
    for (const subscriber of this.#subscribers) if (subscriber !== from) subscriber.onGrant(grant, false);
  }

  /** Ends the timer and the request in flight; the broker can be used again afterwards. */
  stop(): void {
    if (this.#phase.name === 'fetching') this.#phase.controller.abort();
    // A fatal failure is remembered: a widget that comes back must not turn it into a request storm on its own.
    this.#enter(this.#phase.name === 'failed' ? this.#phase : { name: 'idle' });
  }

  /**
   * Leaves the current phase (its timer or request ends with it) and enters `next`; a timed phase fetches at its end,
   * for `initiator` (the widget whose call it is) or for nobody in particular.
   */
  #enter(next: BrokerPhase, initiator: TokenSubscriber | null = null): void {
    this.#timer.clear();
    this.#phase = next;
    if (next.name === 'scheduled' || next.name === 'backoff') this.#timer.set(next.at, () => this.#fetch(initiator));
  }

  #margin(): number {
    let margin = 0;
    for (const subscriber of this.#subscribers) margin = Math.max(margin, subscriber.marginMs);
    return margin;
  }

  #due(grant: TokenGrant): boolean {
    const due = refreshTime(grant, this.#margin());
    return due !== null && due <= Date.now();
  }

  /** A request started less than MIN_REFRESH_DELAY ago: a page firing `online` in a loop must not become a storm. */
  #tooSoon(): boolean {
    return Date.now() - this.#attemptedAt < MIN_REFRESH_DELAY;
  }

  /** Starts the one request, or joins the one in flight; `initiator` is told the token was fetched for it. */
  #fetch(initiator: TokenSubscriber | null, kind: 'first' | 'next' = 'next'): void {
    if (this.#phase.name === 'fetching') return;
    this.#attemptedAt = Date.now();
    const controller = new AbortController();
    this.#load(controller.signal).then(
      (grant) => this.#succeeded(controller, grant, initiator),
      (error: unknown) => this.#failedWith(controller, error),
    );
    this.#enter({ name: 'fetching', turn: kind, controller });
  }

  #succeeded(controller: AbortController, grant: TokenGrant, initiator: TokenSubscriber | null): void {
    // A loader that ignores its signal (a custom fetchToken) may still resolve after stop(): nobody wants it.
    if (controller.signal.aborted) return;
    this.#failures = 0;
    this.#grant = grant;
    this.#enter({ name: 'idle' });
    this.#schedule();
    const forWhom = initiator ?? this.#subscribers.values().next().value;
    for (const subscriber of [...this.#subscribers]) subscriber.onGrant(grant, subscriber === forWhom);
  }

  #failedWith(controller: AbortController, error: unknown): void {
    // Nobody is waiting for an aborted request: it is not a failure to report.
    if (controller.signal.aborted) return;
    // A fetchToken that rejected with an AbortError of its own: back to the schedule of the token in hand.
    if (isAbortError(error)) return this.#schedule();
    const failure =
      error instanceof SecureWidgetError
        ? error
        : new SecureWidgetError('token-missing', 'fetchToken failed.', { cause: error });
    let retryAt: number | null = null;
    if (failure.fatal) {
      this.#enter({ name: 'failed', error: failure });
    } else {
      retryAt = Date.now() + this.#backoff(failure);
      this.#enter({ name: 'backoff', at: retryAt, error: failure });
    }
    for (const subscriber of [...this.#subscribers]) subscriber.onFailure(failure, retryAt);
  }

  /** Next token `margin` before expiry; a token that arrives already inside that window waits half what is left. */
  #schedule(): void {
    const grant = this.#grant;
    if (!grant || grant.expiresAt === null || this.#subscribers.size === 0) {
      this.#enter({ name: 'idle' });
      return;
    }
    const now = Date.now();
    let due = refreshTime(grant, this.#margin())!;
    if (due <= now) due = now + (grant.expiresAt - now) / 2;
    this.#enter({ name: 'scheduled', at: Math.max(due, this.#attemptedAt + MIN_REFRESH_DELAY) });
  }

  /**
   * Exponential backoff with jitter above the floor (1 s, then 1–2 s, 1–4 s … 1–60 s), so that many pages do not retry
   * in step and none retries at once; `Retry-After` wins when longer, up to MAX_RETRY_AFTER.
   */
  #backoff(failure: SecureWidgetError): number {
    this.#failures += 1;
    const ceiling = Math.min(BACKOFF_CAP, BACKOFF_BASE * 2 ** (this.#failures - 1));
    const jittered = MIN_REFRESH_DELAY + Math.random() * (ceiling - MIN_REFRESH_DELAY);
    return Math.max(jittered, Math.min(failure.retryAfter ?? 0, MAX_RETRY_AFTER));
  }
}
