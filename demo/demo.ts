/**
 * The demo page's own script: everything a visitor sees besides the widgets themselves (status, token countdown,
 * timelines, event log, request counter, "Refresh now", the two "Try it" buttons). It only listens to the element's
 * public events and reads its public properties, as any host page could. It never sees a token: the events carry none
 * and `embedToken` reads null.
 */
import type { SecureWidgetErrorDetail, SecureWidgetEventMap } from '../src/element/events.js';
import type { SecureWidget } from '../src/element/secure-widget.js';
import { clock } from './clock.js';
import { drawLegend, markShapeOf, WidgetTimeline } from './timeline.js';
// The reference vendor's support hook, as a host would use a vendor's documented debug API: never the element's.
import {
  DEBUG_CHANNEL,
  EXPIRE_NOW,
  RELAY_EXPIRE_REQUEST,
  RELAY_EXPIRE_SENT,
  isMessageOfType,
} from './vendor/debug-hook.js';

/** The page's token endpoints (demo/backend.ts), each with its counter: widgets of one endpoint share its requests. */
const TOKEN_ENDPOINTS = new Map([
  ['/api/widget-token', '#request-count'],
  ['/api/qrvey-token', '#qrvey-request-count'],
]);
const LOG_LIMIT = 50;
/**
 * How long the expiry button rests after a round: an element that sees its vendor reject fresh tokens three times
 * within 5 s stops with `reload-loop` (docs/element.md), and a visitor pressing fast should see recovery, not that.
 */
const EXPIRY_REST_MS = 5_000;
/** The attributes that point at the vendor: the script in bundle mode, the widget page in iframe mode. */
const VENDOR_URL_ATTRIBUTES = ['bundle-url', 'src'] as const;
const WIDGET_EVENTS = [
  'secure-widget-token',
  'secure-widget-ready',
  'secure-widget-reload',
  'secure-widget-error',
] as const satisfies readonly (keyof SecureWidgetEventMap)[];

/** The demo backend's route (demo/backend.ts) that makes its token endpoints answer 503 for a while. */
const BREAK_ENDPOINT_PATH = '/api/demo/break-endpoint';
/**
 * `?break-seconds=2` on the page's URL shortens the break the button asks for (the backend allows 1 to 30), so that
 * the page's test need not wait 30 s.
 */
const BREAK_SECONDS_PARAMETER = 'break-seconds';
/** Set by the dev server when it moved a visitor from 127.0.0.1 to localhost (demo/vite-plugin.ts). */
const MOVED_FROM_PARAMETER = 'moved-from';
/** How long the page waits for the vendor's relay page and for its answer. */
const RELAY_TIMEOUT_MS = 10_000;
/** How long "Vendor fires expiry now" waits for the widgets: a full break (30 s) and the backoff after it. */
const RECOVERY_TIMEOUT_MS = 90_000;
const BREAK_REQUEST_TIMEOUT_MS = 10_000;

const log = document.querySelector<HTMLOListElement>('#event-log');
/** When each widget (by id) last reloaded, from its `secure-widget-reload` events. */
const lastReloadAt = new Map<string, number>();

// Start-up is at the end of this module, below every class and constant it needs (neither is hoisted).

/** The dev server moved the visitor here from 127.0.0.1 (demo/vite-plugin.ts): one sentence says why. */
function sayWhyThePageMoved(): void {
  const url = new URL(location.href);
  if (!url.searchParams.has(MOVED_FROM_PARAMETER)) return;
  document.getElementById('moved-notice')?.removeAttribute('hidden');
  // A reload of the page has not moved: the sentence is for this visit only.
  url.searchParams.delete(MOVED_FROM_PARAMETER);
  history.replaceState(history.state, '', url.href);
}

/**
 * The markup says `bundle-url="http://127.0.0.1:5173/vendor/widget.js"` (`src="http://127.0.0.1:5173/vendor/…"` in
 * iframe mode, `domain: 'http://127.0.0.1:5173/vendor'` in a config object), what a user of `npm start` would write
 * (the port is fixed in vite.config.ts). The same page also runs under the test runner, whose server mounts the vendor
 * on another port: the vendor lives on whatever server serves this page, so its URLs follow the page's port. This runs
 * before the library is loaded (this module comes first in the page), so no widget ever loads the wrong URL.
 */
function followVendorPort(): void {
  for (const name of VENDOR_URL_ATTRIBUTES) {
    for (const widget of document.querySelectorAll(`secure-widget[${name}]`)) {
      const url = onPagePort(widget.getAttribute(name)!);
      if (url) widget.setAttribute(name, url);
    }
  }
  // A config-object widget names its config object on the vendor element: `settings="qvConfig"` → window.qvConfig.
  for (const widget of document.querySelectorAll('secure-widget[config-key]')) {
    const template = widget.querySelector('template');
    const vendor = template?.content.firstElementChild;
    const name = vendor?.getAttribute(widget.getAttribute('config-attribute') ?? 'settings');
    const config: unknown = name ? (window as unknown as Record<string, unknown>)[name] : undefined;
    if (typeof config !== 'object' || config === null) continue;
    const domain = (config as { domain?: unknown }).domain;
    const url = typeof domain === 'string' ? onPagePort(domain) : null;
    if (url) (config as { domain: string }).domain = url;
  }
}

/** `value` on this page's port when it points at the vendor (127.0.0.1) on another; null when it needs no move. */
function onPagePort(value: string): string | null {
  const url = new URL(value, document.baseURI);
  if (url.hostname !== '127.0.0.1' || url.port === location.port) return null;
  url.port = location.port;
  return url.href;
}

/** Counts the page's requests to each token endpoint, to show that widgets sharing an endpoint share a request. */
function countTokenRequests(): void {
  const counts = new Map<string, number>();
  const pageFetch = window.fetch.bind(window);
  window.fetch = (input: RequestInfo | URL, init?: RequestInit): Promise<Response> => {
    const url = new URL(input instanceof Request ? input.url : String(input), location.href);
    const response = pageFetch(input, init);
    const counter = url.origin === location.origin ? TOKEN_ENDPOINTS.get(url.pathname) : undefined;
    if (counter) {
      const path = url.pathname;
      const requests = (counts.get(path) ?? 0) + 1;
      counts.set(path, requests);
      const shown = document.querySelector<HTMLElement>(counter);
      if (shown) shown.textContent = String(requests);
      response.then(
        (answer) => addLogEntry('request', 'page', `GET ${path} → HTTP ${answer.status}`),
        (error: unknown) => addLogEntry('request', 'page', `GET ${path} → ${failureOf(error)}`),
      );
    }
    return response;
  };
}

/**
 * The library aborts a first request that is no longer needed: here Widget C's server-rendered token, read after A and
 * B had asked, serves every widget. That is no failure, and the log does not call it one.
 */
function failureOf(error: unknown): string {
  return error instanceof DOMException && error.name === 'AbortError' ? 'cancelled, not needed' : 'failed';
}

interface Panel {
  widget: SecureWidget;
  timeline: WidgetTimeline;
  update(): void;
}

/**
 * The status line under a widget (its reflected `status`, the countdown of its token, its "Refresh now" button) and
 * the widget's timeline below it.
 */
function connectPanel(panel: HTMLElement): Panel[] {
  const widget = document.getElementById(panel.dataset.widget ?? '') as SecureWidget | null;
  if (widget?.localName !== 'secure-widget') return [];
  const timeline = new WidgetTimeline(widget.id, labelOf(widget));
  panel.after(timeline.figure);
  const status = panel.querySelector<HTMLElement>('[data-field=status]');
  const countdown = panel.querySelector<HTMLElement>('[data-field=countdown]');
  const button = panel.querySelector<HTMLButtonElement>('[data-action=refresh]');

  const update = (): void => {
    const current = widget.getAttribute('status') ?? 'loading';
    panel.dataset.status = current;
    if (status) status.textContent = current;
    // Undefined until the library has upgraded the element.
    const expiresAt = (widget.expiresAt as number | null | undefined) ?? null;
    if (countdown) countdown.textContent = expiresAt === null ? '—' : formatRemaining(expiresAt - Date.now());
  };
  new MutationObserver(update).observe(widget, { attributes: true, attributeFilter: ['status'] });
  widget.addEventListener('secure-widget-token', update);

  button?.addEventListener('click', async () => {
    button.disabled = true;
    try {
      await customElements.whenDefined('secure-widget');
      await widget.refresh();
    } catch (error) {
      // The element also dispatches secure-widget-error for this failure; this line says which call it ended.
      const code = typeof error === 'object' && error !== null && 'code' in error ? String(error.code) : 'unknown';
      addLogEntry('refresh', labelOf(widget), `refresh() rejected: ${code}`, widget.id);
    } finally {
      button.disabled = false;
    }
  });
  update();
  return [{ widget, timeline, update }];
}

function onWidgetEvent(event: CustomEvent): void {
  const widget = event.target instanceof Element ? event.target.closest('secure-widget') : null;
  const name = event.type.replace('secure-widget-', '');
  addLogEntry(name, widget ? labelOf(widget) : 'page', describe(event), widget?.id);
  if (!widget) return;
  const now = Date.now();
  if (event.type === 'secure-widget-reload') lastReloadAt.set(widget.id, now);
  timelines.get(widget.id)?.add({ shape: markShapeOf(event), at: now, text: `${name} · ${describe(event)}` });
}

/** Each detail field by name: nothing beyond the documented fields (a token least of all) can reach the page. */
function describe(event: CustomEvent): string {
  switch (event.type) {
    case 'secure-widget-token': {
      const { source, expiresAt } = (event as SecureWidgetEventMap['secure-widget-token']).detail;
      return `source: ${source} · ${expiresAt === null ? 'no expiry known' : `expires ${clock.format(expiresAt)}`}`;
    }
    case 'secure-widget-ready':
      return `mode: ${(event as SecureWidgetEventMap['secure-widget-ready']).detail.mode}`;
    case 'secure-widget-reload':
      return `reason: ${(event as SecureWidgetEventMap['secure-widget-reload']).detail.reason}`;
    case 'secure-widget-error':
      return describeError((event as SecureWidgetEventMap['secure-widget-error']).detail);
    default:
      return '';
  }
}

function describeError({ code, message, fatal, status, retryAt }: SecureWidgetErrorDetail): string {
  const parts = [`${code}: ${message}`];
  if (status !== undefined) parts.push(`HTTP ${status}`);
  parts.push(fatal ? 'fatal until refresh()' : 'transient');
  if (retryAt !== undefined) parts.push(`retry at ${clock.format(retryAt)}`);
  return parts.join(' · ');
}

function addLogEntry(kind: string, who: string, detail: string, widgetId?: string): void {
  if (!log) return;
  const entry = document.createElement('li');
  entry.className = 'log__entry';
  entry.dataset.kind = kind;
  if (widgetId) entry.dataset.widget = widgetId;
  // textContent throughout: details come from events and server answers, never to be parsed as markup.
  entry.append(
    cell('time', 'log__time', clock.format(Date.now())),
    cell('span', 'log__who', who),
    cell('span', 'log__kind', kind),
    cell('span', 'log__detail', detail),
  );
  log.prepend(entry);
  while (log.children.length > LOG_LIMIT) log.lastElementChild!.remove();
}

function cell(tag: string, className: string, text: string): HTMLElement {
  const node = document.createElement(tag);
  node.className = className;
  node.textContent = text;
  return node;
}

/** "Widget A": the heading of the widget's card, without its tag. */
function labelOf(widget: Element): string {
  const heading = widget.closest('.card')?.querySelector('h3');
  return heading?.firstChild?.textContent?.trim() || widget.id || 'secure-widget';
}

function formatRemaining(ms: number): string {
  if (ms <= 0) return 'expired';
  const seconds = Math.ceil(ms / 1000);
  return `${Math.floor(seconds / 60)}:${String(seconds % 60).padStart(2, '0')}`;
}

// ---------------------------------------------------------------------------------------------------------------------
// "Try it": the vendor fires expiry now; the token endpoints break for a while.

/** The button's line of status, spoken by screen readers (role=status). */
function controlStatus(name: string): (message: string) => void {
  const line = document.querySelector<HTMLElement>(`[data-field="${name}"]`);
  return (message) => {
    if (line) line.textContent = message;
  };
}

function connectExpiryControl(): void {
  const button = document.querySelector<HTMLButtonElement>('[data-action=fire-expiry]');
  if (!button) return;
  const say = controlStatus('fire-expiry');
  button.addEventListener('click', async () => {
    button.disabled = true;
    const firedAt = Date.now();
    // The widgets running now are the ones that will fire; one already waiting for a token has nothing to expire.
    const running = panels.map((panel) => panel.widget).filter((widget) => widget.getAttribute('status') === 'ready');
    try {
      say('The vendor widgets fire their expiry event…');
      addLogEntry('demo', 'page', "The vendor fires every widget's expiry event (its support hook)");
      await fireVendorExpiry();
      say('The element reloads each widget with a token…');
      const reloaded = (widget: Element) => (lastReloadAt.get(widget.id) ?? 0) >= firedAt;
      const back = await waitUntil(
        () => running.every((widget) => reloaded(widget) && widget.getAttribute('status') === 'ready'),
        RECOVERY_TIMEOUT_MS,
      );
      if (!back) {
        say('Some widgets are still waiting for a token: see their timelines and the log.');
        return;
      }
      // Expiries within a few seconds of a reload are how a vendor rejecting fresh tokens looks, and after three the
      // element stops that loop (reload-loop): the button rests so that each press shows a plain expiry.
      say(`Every widget reloaded and is ready again. The button rests ${EXPIRY_REST_MS / 1000} s.`);
      await pause(EXPIRY_REST_MS);
      say('Every widget reloaded and is ready again.');
    } catch (error) {
      say(`The vendor's support hook did not answer (${error instanceof Error ? error.message : 'unknown'}).`);
    } finally {
      button.disabled = false;
    }
  });
}

let pageChannel: BroadcastChannel | null = null;

/**
 * The reference vendor's "expire now" (demo/vendor/debug-hook.ts): its bundle widgets, on this page's origin, hear it
 * on a BroadcastChannel; its iframe widget runs on the vendor's origin, which that channel never reaches, so the
 * vendor's relay page, framed here, posts it there.
 */
async function fireVendorExpiry(): Promise<void> {
  pageChannel ??= new BroadcastChannel(DEBUG_CHANNEL);
  pageChannel.postMessage(EXPIRE_NOW);
  const relay = await openVendorRelay();
  const origin = new URL(relay.src).origin;
  await new Promise<void>((resolve, reject) => {
    const done = (): void => {
      clearTimeout(timer);
      window.removeEventListener('message', onMessage);
    };
    const timer = setTimeout(() => {
      done();
      reject(new Error('no answer from the vendor'));
    }, RELAY_TIMEOUT_MS);
    const onMessage = (event: MessageEvent): void => {
      if (event.source !== relay.contentWindow || event.origin !== origin) return;
      if (!isMessageOfType(event.data, RELAY_EXPIRE_SENT)) return;
      done();
      resolve();
    };
    window.addEventListener('message', onMessage);
    relay.contentWindow?.postMessage({ type: RELAY_EXPIRE_REQUEST }, origin);
  });
}

let vendorRelay: Promise<HTMLIFrameElement> | null = null;

/** The vendor's relay page, framed once (hidden) when first needed, next to where the page loads the vendor from. */
function openVendorRelay(): Promise<HTMLIFrameElement> {
  vendorRelay ??= new Promise<HTMLIFrameElement>((resolve, reject) => {
    const script = document.querySelector('secure-widget[bundle-url]')?.getAttribute('bundle-url');
    if (!script) {
      reject(new Error('no vendor on this page'));
      return;
    }
    const frame = document.createElement('iframe');
    frame.hidden = true;
    frame.title = "The vendor's support hook";
    frame.src = new URL('debug.html', new URL(script, location.href)).href;
    const timer = setTimeout(() => {
      frame.remove();
      reject(new Error('the vendor did not load'));
    }, RELAY_TIMEOUT_MS);
    // Fires once the relay's module script has run (a load waits for module scripts): it is listening by then.
    frame.addEventListener(
      'load',
      () => {
        clearTimeout(timer);
        resolve(frame);
      },
      { once: true },
    );
    document.body.append(frame);
  }).catch((error: unknown) => {
    // A failed relay is not kept: the next press tries again.
    vendorRelay = null;
    throw error;
  });
  return vendorRelay;
}

interface BreakState {
  broken: boolean;
  secondsLeft: number;
}

/** "Break the endpoint for 30 s": asks the demo backend to answer 503, then counts the break down on the page clock. */
function connectBreakControl(): { update(now: number): void } | null {
  const button = document.querySelector<HTMLButtonElement>('[data-action=break-endpoint]');
  if (!button) return null;
  const say = controlStatus('break-endpoint');
  let endsAt: number | null = null;

  const show = (state: BreakState): void => {
    if (!state.broken) return;
    endsAt = Date.now() + state.secondsLeft * 1000;
    button.disabled = true;
    update(Date.now());
  };
  const update = (now: number): void => {
    if (endsAt === null) return;
    const left = Math.ceil((endsAt - now) / 1000);
    if (left > 0) {
      say(`The token endpoints answer 503 for ${left} s more. The element retries with backoff.`);
      return;
    }
    endsAt = null;
    button.disabled = false;
    say("The token endpoints answer again: the element's next retry gets a token.");
    addLogEntry('demo', 'page', 'The token endpoints answer again');
  };

  button.addEventListener('click', async () => {
    button.disabled = true;
    const url = new URL(BREAK_ENDPOINT_PATH, location.href);
    const seconds = new URLSearchParams(location.search).get(BREAK_SECONDS_PARAMETER);
    if (seconds) url.searchParams.set('seconds', seconds);
    try {
      const answer = await askBreakRoute(url, 'POST');
      addLogEntry('demo', 'page', `The token endpoints answer 503 for ${answer.secondsLeft} s (broken on purpose)`);
      show(answer);
    } catch (error) {
      button.disabled = false;
      say(`The demo backend did not break the endpoints (${error instanceof Error ? error.message : 'unknown'}).`);
    }
  });
  // A break that began before this page loaded (a reload during one) is shown, not forgotten.
  askBreakRoute(new URL(BREAK_ENDPOINT_PATH, location.href), 'GET').then(show, () => {});
  return { update };
}

async function askBreakRoute(url: URL, method: 'GET' | 'POST'): Promise<BreakState> {
  const response = await fetch(url, {
    method,
    headers: { Accept: 'application/json' },
    signal: AbortSignal.timeout(BREAK_REQUEST_TIMEOUT_MS),
  });
  const body: unknown = await response.json();
  if (!response.ok) {
    const error = typeof body === 'object' && body !== null ? (body as { error?: { message?: unknown } }).error : null;
    throw new Error(typeof error?.message === 'string' ? error.message : `HTTP ${response.status}`);
  }
  const { broken, secondsLeft } = body as Partial<BreakState>;
  if (typeof broken !== 'boolean' || typeof secondsLeft !== 'number') throw new Error('an unexpected answer');
  return { broken, secondsLeft };
}

/** Polls `predicate` until it holds (true) or `timeoutMs` passes (false). */
async function waitUntil(predicate: () => boolean, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) return false;
    await pause(250);
  }
  return true;
}

function pause(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

// ---------------------------------------------------------------------------------------------------------------------
// Start-up.

followVendorPort();
countTokenRequests();
for (const type of WIDGET_EVENTS) document.addEventListener(type, (event) => onWidgetEvent(event as CustomEvent));
const panels = [...document.querySelectorAll<HTMLElement>('.widget-meta[data-widget]')].flatMap(connectPanel);
const timelines = new Map(panels.map((panel) => [panel.widget.id, panel.timeline]));
const breakControl = connectBreakControl();
connectExpiryControl();
drawLegend();
sayWhyThePageMoved();
// The page's one clock: countdowns, timelines and the break's countdown move on together, once a second.
setInterval(() => {
  const now = Date.now();
  for (const panel of panels) panel.update();
  for (const timeline of timelines.values()) timeline.draw(now);
  breakControl?.update(now);
}, 1000);
