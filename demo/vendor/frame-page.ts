/**
 * The reference vendor's iframe page (docs/design.md, "Iframe protocol"): the browser script of `frame.html`, built as an ES
 * module. It connects to the embedding host with `secure-widget/frame`, verifies each token it is handed against the
 * vendor's JWKS, loads its data with `Authorization: Bearer`, and renders the same card as the bundle widget. The
 * token only ever arrives over the host's MessagePort: the page's URL carries display parameters, never a credential.
 */
import { connectToHost } from '../../src/frame/index.js';
import type { HostConnection } from '../../src/frame/index.js';
import { injectStyles, readyCard, statusCard } from './card.js';
import { listenForExpireNow } from './debug-hook.js';
import { readAllowedOrigins } from './page-config.js';
import { loadWidgetData, locateVendor } from './vendor-api.js';
import type { TokenRejectionCode } from './vendor-api.js';

/** `data-state` on `<body>`, and `vendorFrame.state`; `error` means the vendor could not be reached. */
export type VendorFrameState = 'waiting' | 'verifying' | 'ready' | 'expired' | 'invalid' | 'error';

/** `window.vendorFrame`, for tests that load the page from the host's own origin. Never holds the token. */
export interface VendorFrameStatus {
  /** How many times the page has loaded with a token (each token and each reload). */
  readonly loadCount: number;
  /** When the loaded token expires (ms since epoch, local clock), or null. */
  readonly tokenExpiresAt: number | null;
  /** The `jti` of the token in use, or null: tests tell tokens apart by it, so the token itself is never exposed. */
  readonly loadedTokenId: string | null;
  readonly state: VendorFrameState;
}

// setTimeout keeps its delay in a signed 32-bit integer; anything longer fires at once.
const MAX_TIMER_DELAY = 2 ** 31 - 2;

const root = document.getElementById('vendor-widget') ?? document.body;
const query = new URLSearchParams(location.search);
const communityId = query.get('community-id') ?? '';
const userId = query.get('user-id') ?? '';
// Endpoints relative to this script, so the page works wherever the vendor is mounted.
const vendor = locateVendor(import.meta.url);

let host: HostConnection | null = null;
let token: string | null = null;
let call = 0;
let loads = 0;
let state: VendorFrameState = 'waiting';
let expiresAt: number | null = null;
let tokenId: string | null = null;
// Whether the host has heard `ready` since the widget last failed: a token swapped in ahead of expiry is not news.
let announced = false;
let controller: AbortController | null = null;
let expiryTimer: ReturnType<typeof setTimeout> | undefined;
let countdownTimer: ReturnType<typeof setInterval> | undefined;
let reportHeight: (() => void) | null = null;

const status: VendorFrameStatus = {
  get loadCount() {
    return loads;
  },
  get tokenExpiresAt() {
    return expiresAt;
  },
  get loadedTokenId() {
    return tokenId;
  },
  get state() {
    return state;
  },
};
(window as unknown as { vendorFrame: VendorFrameStatus }).vendorFrame = status;

start();

function start(): void {
  injectStyles('frame');
  show('waiting', statusCard('pending', 'Waiting for the host…', []));
  try {
    host = connectToHost({
      allowedOrigins: readAllowedOrigins(),
      onToken(next) {
        token = next;
        // In iframe mode the host pushes each token it fetched ahead of expiry: the newest one takes over at once.
        void load('token');
      },
      onReload() {
        void load('reload');
      },
    });
  } catch (error) {
    show(
      'error',
      statusCard('failed', 'Widget misconfigured', [error instanceof Error ? error.message : String(error)]),
    );
    return;
  }
  observeHeight(host);
  // For the page's life: the vendor's "expire now" support hook (debug-hook.ts), as if the token had just run out.
  listenForExpireNow(() => {
    if (state === 'ready') reject('token_expired');
  });
}

async function load(reason: 'token' | 'reload'): Promise<void> {
  const current = ++call;
  // A fresh token replacing a good one keeps the card on screen while it is checked: no flash, no resize back and forth.
  const swapping = reason === 'token' && state === 'ready';
  stop();
  expiresAt = null;
  tokenId = null;
  if (token === null) {
    show('waiting', statusCard('pending', 'Waiting for the host…', []));
    return;
  }
  loads++;
  const { signal } = (controller = new AbortController());
  if (swapping) setState('verifying');
  else show('verifying', statusCard('pending', 'Verifying token…', []));
  if (!vendor) {
    fail('The page could not tell where the vendor is.');
    return;
  }

  const result = await loadWidgetData(token, vendor, signal);
  if (current !== call) return;
  switch (result.outcome) {
    case 'aborted':
      return;
    case 'rejected':
      reject(result.code);
      return;
    case 'unavailable':
      fail(result.reason);
      return;
    case 'ready':
      break;
  }
  expiresAt = result.expiresAt;
  tokenId = result.tokenId;
  showReady();
  scheduleExpiry();
  if (reason === 'reload' || !announced) {
    announced = true;
    // The height first: the host shows the frame on `ready`, and the ResizeObserver's report would come a frame later,
    // so the card would be cut off for a moment at the height of the waiting card.
    reportHeight?.();
    host?.ready();
  }
}

function showReady(): void {
  const { card, showRemaining } = readyCard(communityId, userId);
  show('ready', card);
  const update = (): void => showRemaining((expiresAt ?? 0) - Date.now());
  update();
  countdownTimer = setInterval(update, 1000);
}

function scheduleExpiry(): void {
  const at = expiresAt;
  if (at === null) return;
  // The global setTimeout and Date.now are looked up at each call, so a test's fake clock drives the expiry.
  const delay = Math.min(Math.max(0, at - Date.now()), MAX_TIMER_DELAY);
  expiryTimer = setTimeout(() => {
    expiryTimer = undefined;
    // A clamped delay, or a timer that fired a millisecond early, is not expiry yet.
    if (Date.now() < at) scheduleExpiry();
    else reject('token_expired');
  }, delay);
}

function reject(code: TokenRejectionCode): void {
  stop();
  announced = false;
  if (code === 'token_expired') {
    show('expired', statusCard('failed', 'Token expired', ['Waiting for the host to provide a new token.']));
  } else {
    show('invalid', statusCard('failed', 'Token rejected', ['The embed token could not be verified.']));
  }
  // The code only: the host answers with a fresh token, as it does for the bundle widget's rai-error.
  host?.expired(code);
}

function fail(reason: string): void {
  // The vendor's own failure: a new token would not fix it, so the host is not asked for one (that would only loop).
  announced = false;
  show('error', statusCard('failed', 'Widget unavailable', [reason]));
}

function show(next: VendorFrameState, content: HTMLElement): void {
  setState(next);
  root.replaceChildren(content);
}

function setState(next: VendorFrameState): void {
  state = next;
  document.body.dataset.state = next;
}

function stop(): void {
  clearTimeout(expiryTimer);
  clearInterval(countdownTimer);
  expiryTimer = undefined;
  countdownTimer = undefined;
  controller?.abort();
  controller = null;
}

function observeHeight(connection: HostConnection): void {
  // Not documentElement.scrollHeight: for the root element it is never less than the viewport, so a frame the host
  // once made tall could never shrink again. The root's box is the content's height, margins included, whatever the
  // frame's size (the page uses no vh units and no height:100%, so its height never follows the frame's).
  const report = (): void => connection.resize(document.documentElement.getBoundingClientRect().height);
  new ResizeObserver(report).observe(document.body);
  reportHeight = report;
}
