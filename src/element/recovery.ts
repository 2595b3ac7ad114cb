import { SecureWidgetError } from './errors.js';
import type { SecureWidgetReloadDetail, TokenSource } from './events.js';
import { WidgetStatus } from './status.js';
import { isFresh, type TokenGrant } from './token/grant.js';

/**
 * One widget's recovery, as data: a phase, what the vendor runs on, and one transition function
 * `step(state, input, now, effects)` that moves the state to its next phase and asks `effects` for what must happen.
 * It touches neither the DOM nor a timer: the session feeds the inputs and carries out the effects, so every rule
 * below is tested with plain objects and a number for the clock (docs/design.md, "Token lifecycle").
 */

export type ReloadReason = SecureWidgetReloadDetail['reason'];

/** An expiry event this soon after a token was loaded means the vendor rejected a fresh token. */
export const FRESH_REJECTION_WINDOW = 5_000;
export const MAX_FRESH_REJECTIONS = 3;
/**
 * Expiry events this close to the first one are one burst (a vendor whose several requests fail with the same old
 * token): those before the reload are echoes, served by the one recovery; those after it may be the vendor's verdict
 * on the new token, so together they earn one follow-up at the end of the window, never one recovery each.
 */
export const BURST_WINDOW = 100;

/** Where a widget whose recovery is over goes back to. */
type Settled = 'starting' | 'showing' | 'running';

/**
 * - `starting`: no token handed to the vendor yet;
 * - `showing`: the first token is handed over; the vendor is loading with it;
 * - `running`: the vendor is up, on `vendorRuns`;
 * - `renewing`: a reload waits for a token (the vendor rejected its own, or `refresh()`); `resume` is where a failed
 *   `refresh()` goes back to;
 * - `reloading`: the vendor reloads with `token`; `begun` once the vendor was asked (expiry events before that are
 *   echoes of the old token); `waited` when a token had to be fetched first; `followUp` when the vendor fired its
 *   expiry event during the reload (maybe about the new token);
 * - `stopped`: a fatal fault; only `refresh()` leaves it.
 * @internal
 */
export type RecoveryPhase =
  | { readonly name: 'starting' }
  | { readonly name: 'showing' }
  | { readonly name: 'running' }
  | { readonly name: 'renewing'; readonly reason: ReloadReason; readonly resumeTo: Settled }
  | {
      readonly name: 'reloading';
      readonly reason: ReloadReason;
      readonly token: string;
      readonly begun: boolean;
      readonly waited: boolean;
      readonly followUp: boolean;
    }
  | { readonly name: 'stopped'; readonly error: SecureWidgetError };

/** The token the vendor widget runs on, since when, and until when (local ms), if known. */
export interface Loaded {
  readonly token: string;
  readonly at: number;
  readonly expiresAt: number | null;
}

/** @internal Owned by one session and changed only by `step`. */
export interface RecoveryState {
  phase: RecoveryPhase;
  /** The token in hand: the latest this widget was given. */
  grant: TokenGrant | null;
  vendorRuns: Loaded | null;
  freshRejections: number;
  /** When the current burst of expiry events began. */
  burstAt: number;
  /** When the burst's follow-up recovery is due, if one is. */
  followUpAt: number | null;
  /** The last failure to get a token, until a token arrives. */
  tokenFailure: SecureWidgetError | null;
  /** A failure of the embedding that may still mend itself (a frame whose hello is late), until the vendor is ready. */
  embedFailure: SecureWidgetError | null;
  /** There is a source to ask for new tokens (an endpoint or fetchToken), not only a server-rendered token. */
  readonly renewable: boolean;
}

/** @internal */
export type RecoveryInput =
  /** A token for this widget, from the broker or the markup. */
  | { readonly type: 'token'; readonly grant: TokenGrant; readonly source: TokenSource }
  | { readonly type: 'token-failed'; readonly error: SecureWidgetError; readonly retryAt: number | null }
  /** The vendor took `token`: the first one shown, or one delivered to a frame. */
  | { readonly type: 'vendor-loaded'; readonly token: string }
  | { readonly type: 'vendor-ready' }
  /** The vendor rejected its token (the expiry event, or the frame's `expired`). */
  | { readonly type: 'vendor-expired' }
  /** The embedding failed; `mends` when it keeps trying and may still show the vendor (a late frame, a late child). */
  | { readonly type: 'vendor-failed'; readonly error: SecureWidgetError; readonly mends: boolean }
  /** The vendor has been asked to reload (the reload-vendor effect runs a microtask late, so tokens land first). */
  | { readonly type: 'reload-begun' }
  /** Our reload of the vendor with `token` is done. */
  | { readonly type: 'reloaded'; readonly token: string }
  /** Another widget's page-wide vendor reload reloaded this vendor too, with `token`, for `reason`. */
  | { readonly type: 'reloaded-by-page'; readonly token: string; readonly reason: ReloadReason }
  | { readonly type: 'refresh' }
  | { readonly type: 'reload' }
  /** The tab is visible again or the network is back: timers may have slept. */
  | { readonly type: 'wake' }
  /** A deadline of `nextDeadline()` has passed. */
  | { readonly type: 'clock' }
  /** A fatal fault outside the vendor (no token source, a dead server-rendered token). */
  | { readonly type: 'fault'; readonly error: SecureWidgetError };

/** @internal What the machine asks for; the session carries it out (events, the embedding, the token source). */
export interface RecoveryEffects {
  announceToken(expiresAt: number | null, source: TokenSource): void;
  announceReady(): void;
  announceReload(reason: ReloadReason): void;
  announceError(error: SecureWidgetError, retryAt: number | null): void;
  /** Put the token on the vendor (the first shows it; later ones wait for a reload, or switch a frame at once). */
  handOver(token: string): void;
  reloadVendor(token: string, reason: ReloadReason): void;
  /** Ask the source for a token other than `rejected` (the one in hand if it is another, else a fetch). */
  askReplacement(rejected: string | null): void;
  askRefresh(): void;
  wakeSource(): void;
  /** `refresh()` and `reload()` calls in progress are over, with this error or none. */
  settle(error: SecureWidgetError | null): void;
}

export function initialState(renewable: boolean): RecoveryState {
  return {
    phase: { name: 'starting' },
    grant: null,
    vendorRuns: null,
    freshRejections: 0,
    burstAt: Number.NEGATIVE_INFINITY,
    followUpAt: null,
    tokenFailure: null,
    embedFailure: null,
    renewable,
  };
}

/** The public `status`, derived here and nowhere else. */
export function statusOf(state: RecoveryState, now: number): WidgetStatus {
  const { phase } = state;
  switch (phase.name) {
    case 'stopped':
      return WidgetStatus.error;
    case 'starting':
    case 'showing':
      return state.tokenFailure || state.embedFailure ? WidgetStatus.error : WidgetStatus.loading;
    case 'renewing':
      // The vendor rejected its token and no other came: it shows its own error screen.
      return phase.reason === 'expired' && state.tokenFailure ? WidgetStatus.error : WidgetStatus.refreshing;
    case 'reloading':
      return phase.waited ? WidgetStatus.refreshing : WidgetStatus.ready;
    case 'running':
      // A failed renewal disturbs nothing while the token in hand is good.
      return state.tokenFailure && !isFresh(state.grant, now) ? WidgetStatus.error : WidgetStatus.ready;
  }
}

/** The next moment the state must be looked at again without any input: a follow-up, or a token running out. */
export function nextDeadline(state: RecoveryState): number | null {
  const { followUpAt, grant } = state;
  const expiry = state.phase.name === 'running' && state.tokenFailure ? (grant?.expiresAt ?? null) : null;
  if (followUpAt === null || expiry === null) return followUpAt ?? expiry;
  return Math.min(followUpAt, expiry);
}

/**
 * Moves `s` on by `input` at `now`, in place (the session owns the one state object), asking `fx` for every effect,
 * in order. Deterministic in its arguments: no timer, no clock, no DOM.
 */
export function step(s: RecoveryState, input: RecoveryInput, now: number, fx: RecoveryEffects): void {
  const { phase } = s;
  switch (input.type) {
    case 'token':
      return onToken(s, input.grant, input.source, now, fx);
    case 'token-failed':
      if (phase.name === 'stopped') return;
      fx.announceError(input.error, input.retryAt);
      s.tokenFailure = input.error;
      // refresh() is over; the widget goes on with the token in hand. (A vendor waiting for a token after its expiry
      // event keeps waiting: the source retries a transient failure by itself, a wake or refresh() a fatal one.)
      if (phase.name === 'renewing' && phase.reason === 'manual') {
        s.phase = { name: phase.resumeTo };
        fx.settle(input.error);
      }
      return;
    case 'vendor-loaded':
      s.vendorRuns = loadedNow(s, input.token, now);
      return;
    case 'vendor-ready':
      if (phase.name === 'stopped') return;
      s.embedFailure = null;
      if (phase.name === 'showing') s.phase = { name: 'running' };
      if (phase.name === 'renewing' && phase.resumeTo === 'showing') s.phase = { ...phase, resumeTo: 'running' };
      fx.announceReady();
      return;
    case 'vendor-expired':
      return onVendorExpired(s, now, fx);
    case 'vendor-failed':
      fx.announceError(input.error, null);
      if (input.mends) {
        s.embedFailure = input.error;
        return;
      }
      // Nothing of the vendor runs: the next start of it (after refresh()) is a first load again.
      s.vendorRuns = null;
      s.followUpAt = null;
      s.phase = { name: 'stopped', error: input.error };
      fx.settle(input.error);
      return;
    case 'reload-begun':
      if (phase.name === 'reloading') s.phase = { ...phase, begun: true };
      return;
    case 'reloaded':
      s.vendorRuns = loadedNow(s, input.token, now);
      if (phase.name !== 'reloading' || phase.token !== input.token) return;
      s.phase = { name: 'running' };
      if (phase.followUp) s.followUpAt = Math.max(s.burstAt + BURST_WINDOW, now);
      fx.announceReload(phase.reason);
      fx.settle(null);
      return;
    case 'reloaded-by-page':
      // Our own recovery reports its own reload; a stop holds.
      if (phase.name !== 'showing' && phase.name !== 'running') return;
      s.vendorRuns = loadedNow(s, input.token, now);
      s.phase = { name: 'running' };
      fx.announceReload(input.reason);
      return;
    case 'reload':
      if ((phase.name === 'showing' || phase.name === 'running') && isFresh(s.grant, now)) {
        return reload(s, 'manual', s.grant.token, false, fx);
      }
      // Without a good token in hand, reload() is refresh().
      return refresh(s, fx);
    case 'refresh':
      return refresh(s, fx);
    case 'wake':
      if (phase.name === 'stopped') return;
      fx.wakeSource();
      if (phase.name === 'running' && isExpired(s.vendorRuns, now) && isFresh(s.grant, now)) {
        if (s.grant.token !== s.vendorRuns!.token) {
          s.burstAt = now;
          reload(s, 'expired', s.grant.token, false, fx);
        }
      }
      return;
    case 'clock':
      if (s.followUpAt === null || now < s.followUpAt) return;
      s.followUpAt = null;
      if (phase.name === 'showing' || phase.name === 'running') recover(s, now, fx);
      return;
    case 'fault':
      stop(s, input.error, fx);
      fx.settle(input.error);
  }
}

function onToken(s: RecoveryState, grant: TokenGrant, source: TokenSource, now: number, fx: RecoveryEffects): void {
  const { phase } = s;
  // A stop holds until refresh(): no token reaches the vendor, nothing is announced.
  if (phase.name === 'stopped') {
    s.grant = grant;
    return;
  }
  // The vendor just rejected this very token: it cannot be the one to reload with.
  if (phase.name === 'renewing' && phase.reason === 'expired' && grant.token === s.vendorRuns?.token) return;
  s.grant = grant;
  s.tokenFailure = null;
  fx.announceToken(grant.expiresAt, source);
  if (phase.name === 'renewing') {
    if (phase.resumeTo !== 'starting') return reload(s, phase.reason, grant.token, true, fx);
    // Never shown yet: showing it is the load.
    s.phase = { name: 'showing' };
    fx.handOver(grant.token);
    fx.settle(null);
    return;
  }
  // Kept current on the vendor, so it never holds an expired token: the first shows it, a frame switches at once, a
  // bundle widget picks it up on its next reload.
  fx.handOver(grant.token);
  if (phase.name === 'starting') s.phase = { name: 'showing' };
  // The vendor is still on a token that has run out (its expiry event was missed, or the tab slept): reload now
  // rather than leave an expired widget on screen.
  if (phase.name === 'running' && isExpired(s.vendorRuns, now)) {
    s.burstAt = now;
    reload(s, 'expired', grant.token, false, fx);
  }
}

function onVendorExpired(s: RecoveryState, now: number, fx: RecoveryEffects): void {
  const { phase } = s;
  // Nothing handed over yet, stopped, or (before the reload begins) echoes of the old token.
  if (phase.name === 'starting' || phase.name === 'stopped' || phase.name === 'renewing') return;
  if (phase.name === 'reloading') {
    if (phase.begun) s.phase = { ...phase, followUp: true };
  } else if (now - s.burstAt >= BURST_WINDOW) {
    recover(s, now, fx);
  } else if (s.vendorRuns && s.vendorRuns.at >= s.burstAt) {
    // After this burst's reload: maybe the vendor's verdict on the new token; one follow-up looks again.
    s.followUpAt = s.burstAt + BURST_WINDOW;
  }
}

/** The vendor rejected its token: a new burst. Counts fresh rejections toward `reload-loop`, then asks for a token. */
function recover(s: RecoveryState, now: number, fx: RecoveryEffects): void {
  const fresh = s.vendorRuns !== null && now - s.vendorRuns.at < FRESH_REJECTION_WINDOW;
  s.freshRejections = fresh ? s.freshRejections + 1 : 0;
  s.burstAt = now;
  if (s.freshRejections >= MAX_FRESH_REJECTIONS) {
    const message = `The widget rejected ${MAX_FRESH_REJECTIONS} fresh tokens in a row; stopped until refresh().`;
    stop(s, stopError('reload-loop', message), fx);
  } else if (!s.renewable) {
    stop(s, stopError('token-expired', 'The token expired and there is no token-endpoint to renew it.'), fx);
  } else {
    s.phase = { name: 'renewing', reason: 'expired', resumeTo: settledPhase(s) };
    fx.askReplacement(s.vendorRuns?.token ?? null);
  }
}

/** refresh(): a new token now, whatever is in hand, then a reload; it also lifts a stop. */
function refresh(s: RecoveryState, fx: RecoveryEffects): void {
  s.freshRejections = 0;
  s.followUpAt = null;
  s.phase = { name: 'renewing', reason: 'manual', resumeTo: settledPhase(s) };
  fx.askRefresh();
}

function stop(s: RecoveryState, error: SecureWidgetError, fx: RecoveryEffects): void {
  s.followUpAt = null;
  s.phase = { name: 'stopped', error };
  fx.announceError(error, null);
}

function reload(s: RecoveryState, reason: ReloadReason, token: string, waited: boolean, fx: RecoveryEffects): void {
  s.phase = { name: 'reloading', reason, token, begun: false, waited, followUp: false };
  // On the vendor first: a page-wide vendor reload started by another widget in the same moment then carries it too.
  fx.handOver(token);
  fx.reloadVendor(token, reason);
}

function settledPhase(s: RecoveryState): Settled {
  const { phase } = s;
  if (phase.name === 'renewing') return phase.resumeTo;
  if (phase.name === 'starting' || phase.name === 'showing' || phase.name === 'running') return phase.name;
  return s.vendorRuns ? 'running' : 'starting';
}

function loadedNow(s: RecoveryState, token: string, now: number): Loaded {
  return { token, at: now, expiresAt: s.grant?.token === token ? s.grant.expiresAt : null };
}

function isExpired(loaded: Loaded | null, now: number): boolean {
  return loaded?.expiresAt != null && loaded.expiresAt <= now;
}

function stopError(code: 'reload-loop' | 'token-expired', message: string): SecureWidgetError {
  return new SecureWidgetError(code, message);
}
