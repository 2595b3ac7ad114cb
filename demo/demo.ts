/**
 * The demo page's own script: everything a visitor sees besides the widgets themselves (status, token countdown,
 * event log, request counter, "Refresh now"). It only listens to the element's public events and reads its public
 * properties, as any host page could. It never sees a token: the events carry none and `embedToken` reads null.
 */
import type { SecureWidgetErrorDetail, SecureWidgetEventMap } from '../src/element/events.js';
import type { SecureWidget } from '../src/element/secure-widget.js';

/** The page's token endpoints (demo/backend.ts), each with its counter: widgets of one endpoint share its requests. */
const TOKEN_ENDPOINTS = new Map([
  ['/api/widget-token', '#request-count'],
  ['/api/qrvey-token', '#qrvey-request-count'],
]);
const LOG_LIMIT = 50;
/** The attributes that point at the vendor: the script in bundle mode, the widget page in iframe mode. */
const VENDOR_URL_ATTRIBUTES = ['bundle-url', 'src'] as const;
const WIDGET_EVENTS = [
  'secure-widget-token',
  'secure-widget-ready',
  'secure-widget-reload',
  'secure-widget-error',
] as const satisfies readonly (keyof SecureWidgetEventMap)[];

const clock = new Intl.DateTimeFormat(undefined, {
  hour: '2-digit',
  minute: '2-digit',
  second: '2-digit',
  hourCycle: 'h23',
});

const log = document.querySelector<HTMLOListElement>('#event-log');

followVendorPort();
countTokenRequests();
for (const type of WIDGET_EVENTS) document.addEventListener(type, (event) => logWidgetEvent(event as CustomEvent));
const panels = [...document.querySelectorAll<HTMLElement>('.widget-meta[data-widget]')].flatMap(connectPanel);
setInterval(() => panels.forEach((panel) => panel.update()), 1000);

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
  update(): void;
}

/** The status line under a widget: its reflected `status`, the countdown of its token, its "Refresh now" button. */
function connectPanel(panel: HTMLElement): Panel[] {
  const widget = document.getElementById(panel.dataset.widget ?? '') as SecureWidget | null;
  if (!widget || widget.localName !== 'secure-widget') return [];
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
  return [{ update }];
}

function logWidgetEvent(event: CustomEvent): void {
  const widget = event.target instanceof Element ? event.target.closest('secure-widget') : null;
  const name = event.type.replace('secure-widget-', '');
  addLogEntry(name, widget ? labelOf(widget) : 'page', describe(event), widget?.id);
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
