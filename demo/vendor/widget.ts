/**
 * The reference vendor's bundle widget: a browser script (esbuild IIFE) that mimics Returning.AI's SDK closely enough
 * to test a host against it. It renders into its light DOM, verifies its `embed-token` against the vendor's JWKS, loads
 * its data with `Authorization: Bearer`, and fires `rai-error` when the token is rejected or runs out. Like the real
 * SDK it never fetches a token itself: the host sets a new `embed-token` and calls `window.ReturningAIWidget.reload()`.
 */
import { createRemoteJWKSet, jwtVerify } from 'jose';
import { VENDOR_ALGORITHM, VENDOR_AUDIENCE, VENDOR_ISSUER } from './claims.js';

const TAG = 'demo-widget';
const VERSION = '1.0.0-reference';
const TOKEN_ATTRIBUTE = 'embed-token';
// setTimeout keeps its delay in a signed 32-bit integer; anything longer fires at once.
const MAX_TIMER_DELAY = 2 ** 31 - 2;

/** `data-state` on the element; `error` means the vendor could not be reached, which no new token would fix. */
export type DemoWidgetState = 'waiting' | 'verifying' | 'ready' | 'expired' | 'invalid' | 'error';
export type DemoWidgetErrorCode = 'token_expired' | 'token_invalid';

export interface ReturningAIWidgetGlobal {
  readonly version: string;
  /** Re-initialises every connected widget from its current `embed-token`; resolves when each is ready or failed. */
  reload(): Promise<void>;
}

interface Vendor {
  keys: ReturnType<typeof createRemoteJWKSet>;
  dataApi: URL;
}

// Read while the script is being evaluated: document.currentScript is null at any later time.
const script = typeof document === 'undefined' ? null : document.currentScript;
const scriptElement = script instanceof HTMLScriptElement ? script : null;
let vendor: Vendor | null = null;
const connectedWidgets = new Set<DemoWidget>();

/**
 * `<demo-widget community-id="42" data-user-id="u1" embed-token="…">`
 *
 * @fires rai-error - `{ code: 'token_expired' | 'token_invalid' }` when the token runs out or is rejected.
 */
export class DemoWidget extends HTMLElement {
  static readonly observedAttributes = [TOKEN_ATTRIBUTE];

  /** Re-initialises every connected widget; what `window.ReturningAIWidget.reload()` does. */
  static reloadAll(): Promise<void> {
    return Promise.all([...connectedWidgets].map((widget) => widget.#reloadAndSettle())).then(() => undefined);
  }

  #call = 0;
  #loads = 0;
  #initialised = false;
  #connected = false;
  #loading: Promise<void> = Promise.resolve();
  #controller: AbortController | null = null;
  #expiryTimer: ReturnType<typeof setTimeout> | undefined;
  #countdownTimer: ReturnType<typeof setInterval> | undefined;
  #expiresAt: number | null = null;
  #tokenId: string | null = null;

  /** How many times this widget has initialised from a token (first load and every reload). */
  get loadCount(): number {
    return this.#loads;
  }

  /** When the loaded token expires (ms since epoch, local clock), or null before a token has been accepted. */
  get tokenExpiresAt(): number | null {
    return this.#expiresAt;
  }

  /** The `jti` of the token in use, or null: tests tell tokens apart by it, so the token itself is never exposed. */
  get loadedTokenId(): string | null {
    return this.#tokenId;
  }

  connectedCallback(): void {
    this.#connected = true;
    connectedWidgets.add(this);
    injectStyles();
    // Moved within one task: the teardown was skipped (see disconnectedCallback), so the running widget carries on.
    if (this.#initialised) return;
    if (this.hasAttribute(TOKEN_ATTRIBUTE)) void this.#start();
    else this.#wait();
  }

  disconnectedCallback(): void {
    this.#connected = false;
    connectedWidgets.delete(this);
    // Deferred a microtask so that a move (disconnect + connect in one task) neither stops nor re-initialises it.
    queueMicrotask(() => {
      if (this.isConnected) return;
      this.#call++;
      this.#stop();
      this.#initialised = false;
    });
  }

  attributeChangedCallback(name: string, _oldValue: string | null, newValue: string | null): void {
    // Only the first token starts the widget; later changes wait for reload(), as the real SDK asks hosts to do.
    if (name === TOKEN_ATTRIBUTE && this.#connected && !this.#initialised && newValue !== null) void this.#start();
  }

  #start(): Promise<void> {
    this.#loading = this.#load();
    return this.#loading;
  }

  async #reloadAndSettle(): Promise<void> {
    let pending = this.#start();
    // A newer load (the first token arriving, another reload) may supersede this one: settle on whichever is current.
    for (;;) {
      await pending;
      if (pending === this.#loading) return;
      pending = this.#loading;
    }
  }

  async #load(): Promise<void> {
    const call = ++this.#call;
    this.#stop();
    this.#expiresAt = null;
    this.#tokenId = null;
    const token = this.getAttribute(TOKEN_ATTRIBUTE)?.trim();
    if (!token) {
      this.#initialised = false;
      this.#wait();
      return;
    }
    this.#initialised = true;
    this.#loads++;
    const controller = (this.#controller = new AbortController());
    this.#show('verifying', statusCard('pending', 'Verifying token…', []));
    if (!vendor) {
      this.#show('error', statusCard('failed', 'Widget unavailable', ['The widget script could not tell where it was loaded from.']));
      return;
    }

    let exp: number;
    let jti: unknown;
    try {
      ({ payload: { exp = 0, jti } } = await jwtVerify(token, vendor.keys, {
        algorithms: [VENDOR_ALGORITHM],
        issuer: VENDOR_ISSUER,
        audience: VENDOR_AUDIENCE,
        requiredClaims: ['exp', 'iat', 'sub'],
      }));
    } catch (error) {
      if (call !== this.#call) return;
      const rejection = tokenRejection(error);
      if (rejection) this.#reject(rejection);
      // The key set could not be fetched: a new token would not help, so no rai-error (it would only start a loop).
      else this.#show('error', statusCard('failed', 'Widget unavailable', ['The vendor could not be reached.']));
      return;
    }
    if (call !== this.#call) return;

    let response: Response;
    try {
      response = await fetch(vendor.dataApi, {
        headers: { Authorization: `Bearer ${token}` },
        signal: controller.signal,
        // The token is the credential; cookies for the vendor's origin have no business here.
        credentials: 'omit',
        cache: 'no-store',
      });
    } catch {
      if (call !== this.#call) return;
      this.#show('error', statusCard('failed', 'Widget unavailable', ['The vendor could not be reached.']));
      return;
    }
    if (call !== this.#call) return;
    if (response.status === 401) {
      const code = await apiRejection(response);
      if (call !== this.#call) return;
      this.#reject(code);
      return;
    }
    if (!response.ok) {
      void response.body?.cancel();
      this.#show('error', statusCard('failed', 'Widget unavailable', [`The vendor answered HTTP ${response.status}.`]));
      return;
    }
    void response.body?.cancel();

    this.#expiresAt = exp * 1000;
    this.#tokenId = typeof jti === 'string' ? jti : null;
    this.#showReady();
    this.#scheduleExpiry();
  }

  #wait(): void {
    this.#show('waiting', statusCard('pending', 'Waiting for a token…', []));
  }

  #showReady(): void {
    const communityId = this.getAttribute('community-id') ?? '';
    const userId = this.dataset.userId ?? '';
    const countdown = element('p', 'demo-widget__line demo-widget__countdown');
    const card = statusCard('ready', `Community ${communityId}`, [`Signed in as ${userId}`]);
    card.append(countdown, element('p', 'demo-widget__meta', `${VENDOR_ALGORITHM} · verified by the vendor`));
    this.#show('ready', card);

    const update = (): void => {
      countdown.textContent = `Token valid for ${formatRemaining((this.#expiresAt ?? 0) - Date.now())}`;
    };
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

  #reject(code: DemoWidgetErrorCode): void {
    this.#stop();
    if (code === 'token_expired') {
      this.#show('expired', statusCard('failed', 'Token expired', ['Waiting for the host to provide a new token.']));
    } else {
      this.#show('invalid', statusCard('failed', 'Token rejected', ['The embed token could not be verified.']));
    }
    // The detail holds the code only: an event is readable by any script on the page, the token must not be.
    this.dispatchEvent(new CustomEvent('rai-error', { bubbles: true, composed: true, detail: { code } }));
  }

  #show(state: DemoWidgetState, content: HTMLElement): void {
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

/** jose's verdict on the token itself, or null when verification failed for another reason (the JWKS fetch). */
function tokenRejection(error: unknown): DemoWidgetErrorCode | null {
  const code = typeof error === 'object' && error !== null && 'code' in error ? error.code : undefined;
  if (code === 'ERR_JWT_EXPIRED') return 'token_expired';
  if (typeof code !== 'string') return null;
  if (code.startsWith('ERR_JWT_') || code.startsWith('ERR_JWS_')) return 'token_invalid';
  if (code === 'ERR_JOSE_ALG_NOT_ALLOWED' || code === 'ERR_JOSE_NOT_SUPPORTED') return 'token_invalid';
  if (code === 'ERR_JWKS_NO_MATCHING_KEY' || code === 'ERR_JWKS_MULTIPLE_MATCHING_KEYS') return 'token_invalid';
  return null;
}

async function apiRejection(response: Response): Promise<DemoWidgetErrorCode> {
  try {
    const body: unknown = await response.json();
    const error = typeof body === 'object' && body !== null && 'error' in body ? body.error : undefined;
    const code = typeof error === 'object' && error !== null && 'code' in error ? error.code : undefined;
    return code === 'token_expired' ? 'token_expired' : 'token_invalid';
  } catch {
    return 'token_invalid';
  }
}

function formatRemaining(ms: number): string {
  const seconds = Math.max(0, Math.ceil(ms / 1000));
  return `${Math.floor(seconds / 60)}:${String(seconds % 60).padStart(2, '0')}`;
}

function element(tag: string, className: string, text?: string): HTMLElement {
  const node = document.createElement(tag);
  node.className = className;
  // textContent only: attribute values (community id, user id) come from the page and must never become markup.
  if (text !== undefined) node.textContent = text;
  return node;
}

function statusCard(tone: 'ready' | 'pending' | 'failed', title: string, lines: string[]): HTMLElement {
  const card = element('div', `demo-widget__card demo-widget__card--${tone}`);
  const header = element('div', 'demo-widget__header');
  header.append(element('span', 'demo-widget__dot'), element('p', 'demo-widget__title', title));
  card.append(header, ...lines.map((line) => element('p', 'demo-widget__line', line)));
  return card;
}

const STYLES = `
.demo-widget__card{box-sizing:border-box;max-width:360px;padding:14px 16px;border:1px solid #d0d7de;border-radius:10px;
background:#fff;color:#1f2328;font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif}
.demo-widget__header{display:flex;align-items:center;gap:8px}
.demo-widget__title{margin:0;font-size:15px;font-weight:600}
.demo-widget__dot{flex:none;width:10px;height:10px;border-radius:50%;background:#9a6700}
.demo-widget__card--ready .demo-widget__dot{background:#1a7f37}
.demo-widget__card--failed .demo-widget__dot{background:#cf222e}
.demo-widget__line{margin:6px 0 0}
.demo-widget__countdown{font-variant-numeric:tabular-nums}
.demo-widget__meta{margin:10px 0 0;font-size:12px;color:#59636e}
`;

let stylesInjected = false;

function injectStyles(): void {
  if (stylesInjected) return;
  stylesInjected = true;
  const style = document.createElement('style');
  style.dataset.demoWidget = VERSION;
  // Under a nonce-based CSP the page's nonce, handed to our script, is what lets our styles apply too.
  if (scriptElement?.nonce) style.nonce = scriptElement.nonce;
  style.textContent = STYLES;
  document.head.append(style);
}

function locateVendor(src: string): Vendor | null {
  try {
    // Endpoints are relative to the script's own URL, so the same bundle works wherever the vendor is mounted.
    const base = new URL('.', src);
    return {
      keys: createRemoteJWKSet(new URL('.well-known/jwks.json', base)),
      dataApi: new URL('api/widget-data', base),
    };
  } catch {
    return null;
  }
}

// Loaded twice (two bundle-url users, a page that also includes it): the first copy owns the tag and the global.
if (typeof customElements !== 'undefined' && !customElements.get(TAG)) {
  vendor = scriptElement?.src ? locateVendor(scriptElement.src) : null;
  const api: ReturningAIWidgetGlobal = { version: VERSION, reload: () => DemoWidget.reloadAll() };
  (window as unknown as { ReturningAIWidget: ReturningAIWidgetGlobal }).ReturningAIWidget = api;
  customElements.define(TAG, DemoWidget);
}
