/**
 * The reference vendor's config-object widget: a browser script (esbuild IIFE) that mimics Qrvey's widgets closely
 * enough to test a host against them (docs/vendors.md). Its element names a JavaScript config object of the page's,
 * `<demo-config-widget settings="qvConfig">` → `window.qvConfig`, and takes its credentials from there: `domain`, the
 * vendor's base URL, and `qvToken`, the security token; or in dev mode `apiKey`, the vendor's publishable dev key
 * (with `userId` and `appId` beside it, as Qrvey's dev mode has them). It loads its data from
 * `${domain}/api/widget-data` with `Authorization: Bearer <qvToken>` (or `x-api-key: <apiKey>`), and fires
 * `qv-token-expired` when the data API answers 401 or the token's expiry passes. Like Qrvey's it never fetches a token
 * itself, and it reads the config object only when it loads (connected, or `reload()`): the host writes the next
 * `qvToken` there and calls `reload()`.
 */
import { decodeJwt } from 'jose';
import { injectStyles, liveCard, statusCard } from './card.js';
import { listenForExpireNow } from './debug-hook.js';
import type { TokenRejectionCode } from './verify-token.js';

const TAG = 'demo-config-widget';
const VERSION = '1.0.0-reference-config';
const SETTINGS_ATTRIBUTE = 'settings';
export const EXPIRY_EVENT = 'qv-token-expired';
// setTimeout keeps its delay in a signed 32-bit integer; anything longer fires at once.
const MAX_TIMER_DELAY = 2 ** 31 - 2;
// The vendor's tokens are about 500 characters; its verifier refuses more than 8192.
const MAX_CREDENTIAL_LENGTH = 8192;
// What a token or key may be made of: nothing that could end a header line or smuggle a second header.
const CREDENTIAL_SHAPE = /^[A-Za-z0-9\-._~+/=]+$/;
// The data API answers a few hundred bytes: a longer answer is not the vendor's.
const MAX_ANSWER_LENGTH = 16_384;
// Ids shown on the card: the data API bounds them at 256, and a card has no room for more.
const MAX_SHOWN_LENGTH = 256;
const GLOBAL_NAME = /^[A-Za-z_$][\w$]{0,63}$/;

/** `data-state` on the element; `error`: the widget is misconfigured or the vendor unreachable, no token fixes it. */
export type DemoConfigWidgetState = 'waiting' | 'verifying' | 'ready' | 'expired' | 'invalid' | 'error';
/** What the widget loaded with: the host's token, or the dev-mode key. Never the value of either. */
export type DemoConfigWidgetCredential = 'token' | 'dev-key';

/** The detail of `qv-token-expired`: the code only, since any script on the page can read an event. */
export interface QvTokenExpiredDetail {
  code: TokenRejectionCode;
}

/** What the widget reads from the page's config object. */
interface WidgetSettings {
  dataApi: URL;
  credential: { kind: DemoConfigWidgetCredential; value: string } | null;
  userId: string | null;
  appId: string | null;
}

/** One load's outcome: `unavailable` is the vendor's or the page's fault, never the token's. */
type DataAnswer =
  | { outcome: 'ready'; subject: string | null; appId: string | null; expiresAt: number | null }
  | { outcome: 'rejected'; code: TokenRejectionCode | 'invalid_api_key' }
  | { outcome: 'unavailable'; reason: string }
  | { outcome: 'aborted' };

const UNREACHABLE = 'The vendor could not be reached.';

// Read while the script is being evaluated: document.currentScript is null at any later time.
const script = typeof document === 'undefined' ? null : document.currentScript;
const scriptElement = script instanceof HTMLScriptElement ? script : null;

/**
 * `<demo-config-widget settings="qvConfig">`, with `window.qvConfig = { domain, qvToken }` (or `{ domain, apiKey }`).
 *
 * @fires qv-token-expired - `{ code: 'token_expired' | 'token_invalid' }` when the token runs out or is rejected.
 */
export class DemoConfigWidget extends HTMLElement {
  static readonly observedAttributes = [SETTINGS_ATTRIBUTE];

  #call = 0;
  #loads = 0;
  #initialised = false;
  #connected = false;
  #loading: Promise<void> = Promise.resolve();
  #controller: AbortController | null = null;
  #expiryTimer: ReturnType<typeof setTimeout> | undefined;
  #countdownTimer: ReturnType<typeof setInterval> | undefined;
  /** The credential of the current load: kept to tell, on a reconnect, whether the config object has a new one. */
  #credentialValue: string | null = null;
  #credential: DemoConfigWidgetCredential | null = null;
  #expiresAt: number | null = null;
  #tokenId: string | null = null;
  #subject: string | null = null;
  #appId: string | null = null;
  #stopExpiryHook: (() => void) | null = null;

  /** How many times this widget has loaded with a credential (first load and every reload). */
  get loadCount(): number {
    return this.#loads;
  }

  /** What the current load used, `token` or `dev-key`, or null while waiting: never the credential itself. */
  get credential(): DemoConfigWidgetCredential | null {
    return this.#credential;
  }

  /**
   * When the loaded token expires (ms since epoch, local clock): the data API's `expiresAt`, as far from now as it was
   * from the answer's `Date`. Null for a dev key, which does not expire.
   */
  get tokenExpiresAt(): number | null {
    return this.#expiresAt;
  }

  /** The `jti` of the token in use, or null: tests tell tokens apart by it, so the token itself is never exposed. */
  get loadedTokenId(): string | null {
    return this.#tokenId;
  }

  /** The user the data API vouched for (the token's `sub`); in dev mode the config object's unverified `userId`. */
  get subject(): string | null {
    return this.#subject;
  }

  /** The application the token opens (its `appId` claim); in dev mode the config object's `appId`. */
  get appId(): string | null {
    return this.#appId;
  }

  /**
   * Reads the config object again (a new `qvToken` written there is used) and loads with it. Resolves when the widget
   * is ready or has failed, after a load that a newer one superseded too.
   */
  reload(): Promise<void> {
    if (!this.#connected) return Promise.resolve();
    return this.#reloadAndSettle();
  }

  connectedCallback(): void {
    this.#connected = true;
    // Under a nonce-based CSP the page's nonce, handed to our script, is what lets our styles apply too.
    injectStyles(VERSION, scriptElement?.nonce);
    // The vendor's "expire now" support hook (debug-hook.ts): a widget on a token fires its expiry event as if the
    // token ran out. A dev key does not expire, so a widget on one ignores it.
    this.#stopExpiryHook ??= listenForExpireNow(() => {
      if (this.dataset.state === 'ready' && this.#credential === 'token') this.#reject('token_expired');
    });
    // Moved within one task: the teardown was skipped (see disconnectedCallback). The config object is read again all
    // the same, and a credential that changed meanwhile is loaded; the same one carries on without a request.
    const current = readCredentialValue(this.getAttribute(SETTINGS_ATTRIBUTE));
    if (this.#initialised && this.#credentialValue === current) return;
    void this.#start();
  }

  disconnectedCallback(): void {
    this.#connected = false;
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

  attributeChangedCallback(_name: string, oldValue: string | null, newValue: string | null): void {
    // Another config object: load from it. The first value is read by connectedCallback.
    if (this.#connected && oldValue !== newValue) void this.#start();
  }

  #start(): Promise<void> {
    this.#loading = this.#load();
    return this.#loading;
  }

  async #reloadAndSettle(): Promise<void> {
    let pending = this.#start();
    // A newer load (a reconnect, another reload) may supersede this one: settle on whichever is current.
    for (;;) {
      await pending;
      if (pending === this.#loading) return;
      pending = this.#loading;
    }
  }

  async #load(): Promise<void> {
    const call = ++this.#call;
    this.#stop();
    this.#credential = null;
    this.#credentialValue = null;
    this.#expiresAt = null;
    this.#tokenId = null;
    this.#subject = null;
    this.#appId = null;
    this.#initialised = true;

    const settings = readSettings(this.getAttribute(SETTINGS_ATTRIBUTE));
    if (typeof settings === 'string') {
      this.#show('error', statusCard('failed', 'Widget misconfigured', [settings]));
      return;
    }
    const { credential } = settings;
    if (credential === null) {
      this.#show('waiting', statusCard('pending', 'Waiting for a token…', []));
      return;
    }
    this.#loads++;
    this.#credential = credential.kind;
    this.#credentialValue = credential.value;
    const dev = credential.kind === 'dev-key';
    if (!CREDENTIAL_SHAPE.test(credential.value)) {
      // Sent, it would break the request line; as a token it is as good as rejected, and a new one may do.
      this.#reject(dev ? 'invalid_api_key' : 'token_invalid');
      return;
    }
    const controller = (this.#controller = new AbortController());
    this.#show('verifying', statusCard('pending', dev ? 'Checking the API key…' : 'Verifying token…', []));

    const answer = await askDataApi(settings.dataApi, credential, controller.signal);
    if (call !== this.#call) return;
    switch (answer.outcome) {
      case 'aborted':
        return;
      case 'rejected':
        this.#reject(answer.code);
        return;
      case 'unavailable':
        this.#show('error', statusCard('failed', 'Widget unavailable', [answer.reason]));
        return;
      case 'ready':
        break;
    }
    if (dev) {
      this.#subject = settings.userId;
      this.#appId = settings.appId;
      const user = `Signed in as ${settings.userId ?? 'an unnamed user'} (not verified: dev mode)`;
      const meta = 'publishable dev key · not for production';
      const { card } = liveCard(`App ${settings.appId ?? '—'}`, [user], meta, false);
      this.#show('ready', card);
      return;
    }
    this.#subject = answer.subject;
    this.#appId = answer.appId;
    this.#expiresAt = answer.expiresAt;
    this.#tokenId = tokenIdOf(credential.value);
    // The vendor's clock forgives a few seconds that this widget does not: past its expiry, the token is spent.
    if (this.#expiresAt !== null && this.#expiresAt <= Date.now()) {
      this.#reject('token_expired');
      return;
    }
    this.#showReady();
    this.#scheduleExpiry();
  }

  #showReady(): void {
    const { card, showRemaining } = liveCard(
      `App ${this.#appId ?? '—'}`,
      [`Signed in as ${this.#subject ?? '—'}`],
      "security token · verified by the vendor's data API",
    );
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

  #reject(code: TokenRejectionCode | 'invalid_api_key'): void {
    this.#stop();
    if (code === 'invalid_api_key') {
      // A key is not renewed like a token: the event would only have the host hand the same key over again, in a loop.
      this.#show('invalid', statusCard('failed', 'API key rejected', ['The vendor does not know this dev key.']));
      return;
    }
    if (code === 'token_expired') {
      this.#show('expired', statusCard('failed', 'Token expired', ['Waiting for the host to provide a new token.']));
    } else {
      this.#show('invalid', statusCard('failed', 'Token rejected', ['The security token could not be verified.']));
    }
    const detail: QvTokenExpiredDetail = { code };
    this.dispatchEvent(new CustomEvent(EXPIRY_EVENT, { bubbles: true, composed: true, detail }));
  }

  #show(state: DemoConfigWidgetState, content: HTMLElement): void {
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

/**
 * The config object named by `name`, read as Qrvey's widgets read theirs, or why it cannot be used. Only a plain object
 * the page's script made, and only its own data properties: a getter (or a host object such as `location`, named by
 * whoever wrote the markup) never runs.
 */
function readSettings(name: string | null): WidgetSettings | string {
  const config = configObject(name);
  if (config === null) {
    return `The ${SETTINGS_ATTRIBUTE} attribute must name the page's config object (var qvConfig = {…}).`;
  }
  const domain = ownString(config, 'domain');
  const dataApi = domain === null ? null : dataApiOf(domain);
  if (dataApi === null) return "The config object's domain must be the vendor's https: URL (http: on localhost).";
  const token = ownString(config, 'qvToken');
  const apiKey = ownString(config, 'apiKey');
  // A token wins over a dev key, as in the host's element: the key is for a page that has no token at all.
  const credential =
    token !== null
      ? { kind: 'token' as const, value: token }
      : apiKey !== null
        ? { kind: 'dev-key' as const, value: apiKey }
        : null;
  return { dataApi, credential, userId: shown(ownString(config, 'userId')), appId: shown(ownString(config, 'appId')) };
}

/** The credential now in the config object (token first), or null: what a reconnect compares with the last load's. */
function readCredentialValue(name: string | null): string | null {
  const config = configObject(name);
  return config === null ? null : (ownString(config, 'qvToken') ?? ownString(config, 'apiKey'));
}

function configObject(name: string | null): Record<string, unknown> | null {
  const trimmed = name?.trim() ?? '';
  if (!GLOBAL_NAME.test(trimmed)) return null;
  try {
    const value: unknown = (window as unknown as Record<string, unknown>)[trimmed];
    if (typeof value !== 'object' || value === null) return null;
    const prototype: unknown = Object.getPrototypeOf(value);
    return prototype === Object.prototype || prototype === null ? (value as Record<string, unknown>) : null;
  } catch {
    // A cross-origin window (`top`) or a hostile getter on window throws on access.
    return null;
  }
}

function ownString(config: Record<string, unknown>, key: string): string | null {
  const descriptor = Object.getOwnPropertyDescriptor(config, key);
  if (!descriptor || !('value' in descriptor) || typeof descriptor.value !== 'string') return null;
  const value = descriptor.value.trim();
  return value.length > 0 && value.length <= MAX_CREDENTIAL_LENGTH ? value : null;
}

function shown(value: string | null): string | null {
  return value === null ? null : value.slice(0, MAX_SHOWN_LENGTH);
}

/** `${domain}/api/widget-data`, when `domain` is a URL a credential may be sent to (the element's own URL rule). */
function dataApiOf(domain: string): URL | null {
  let base: URL;
  try {
    base = new URL(domain.endsWith('/') ? domain : `${domain}/`);
  } catch {
    return null;
  }
  const { hostname } = base;
  const loopback = hostname === 'localhost' || hostname === '[::1]' || /^127(?:\.\d{1,3}){3}$/.test(hostname);
  if (base.protocol !== 'https:' && !(base.protocol === 'http:' && loopback)) return null;
  if (base.username || base.password) return null;
  base.search = '';
  base.hash = '';
  return new URL('api/widget-data', base);
}

/** Loads the widget's data with the credential. Never throws; `aborted` once `signal` is. */
async function askDataApi(
  dataApi: URL,
  credential: { kind: DemoConfigWidgetCredential; value: string },
  signal: AbortSignal,
): Promise<DataAnswer> {
  const headers: Record<string, string> =
    credential.kind === 'token' ? { Authorization: `Bearer ${credential.value}` } : { 'x-api-key': credential.value };
  let response: Response;
  let text: string;
  try {
    // The credential is in a header; cookies for the vendor's origin have no business here.
    response = await fetch(dataApi, { headers, signal, credentials: 'omit', cache: 'no-store' });
    text = await response.text();
  } catch {
    return signal.aborted ? { outcome: 'aborted' } : { outcome: 'unavailable', reason: UNREACHABLE };
  }
  if (signal.aborted) return { outcome: 'aborted' };
  const body = parseAnswer(text);
  if (response.status === 401) return { outcome: 'rejected', code: rejectionCode(body, credential.kind) };
  if (!response.ok) return { outcome: 'unavailable', reason: `The vendor answered HTTP ${response.status}.` };
  if (body === null) return { outcome: 'unavailable', reason: 'The vendor answered something else than its data.' };
  if (credential.kind === 'dev-key') {
    return body.credential === 'dev-key'
      ? { outcome: 'ready', subject: null, appId: null, expiresAt: null }
      : { outcome: 'unavailable', reason: 'The vendor answered something else than its data.' };
  }
  const { subject, appId, expiresAt } = body;
  if (typeof subject !== 'string' || typeof expiresAt !== 'number' || !Number.isFinite(expiresAt)) {
    return { outcome: 'unavailable', reason: 'The vendor answered something else than its data.' };
  }
  return {
    outcome: 'ready',
    subject: shown(subject),
    appId: typeof appId === 'string' ? shown(appId) : null,
    expiresAt: localExpiry(expiresAt * 1000, response.headers.get('Date')),
  };
}

/**
 * When `expiresAt` (the vendor's clock) comes by this browser's clock: as far from now as it is from the answer's
 * `Date`, so that a clock minutes off neither expires a good token early nor keeps a spent one. Without a usable
 * `Date`, the vendor's time is taken as it is.
 */
function localExpiry(expiresAt: number, date: string | null): number {
  const vendorNow = date === null ? Number.NaN : Date.parse(date);
  return Number.isFinite(vendorNow) ? Date.now() + (expiresAt - vendorNow) : expiresAt;
}

function parseAnswer(text: string): Record<string, unknown> | null {
  if (text.length > MAX_ANSWER_LENGTH) return null;
  try {
    const body: unknown = JSON.parse(text);
    return typeof body === 'object' && body !== null && !Array.isArray(body) ? (body as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

function rejectionCode(
  body: Record<string, unknown> | null,
  kind: DemoConfigWidgetCredential,
): TokenRejectionCode | 'invalid_api_key' {
  if (kind === 'dev-key') return 'invalid_api_key';
  const error = body?.error;
  const code = typeof error === 'object' && error !== null && 'code' in error ? error.code : undefined;
  return code === 'token_expired' ? 'token_expired' : 'token_invalid';
}

/** The token's `jti`, read (not verified: the data API did that) to tell one token from the next; null if none. */
function tokenIdOf(token: string): string | null {
  try {
    const { jti } = decodeJwt(token);
    return typeof jti === 'string' ? jti : null;
  } catch {
    return null;
  }
}

// Loaded twice (two bundle-url users, a page that also includes it): the first copy owns the tag.
if (typeof customElements !== 'undefined' && !customElements.get(TAG)) {
  customElements.define(TAG, DemoConfigWidget);
}
