import sinon from 'sinon';
import type { SecureWidgetEventMap } from '../../src/element/events.js';
import type { ScopeConfig } from './test-backend.js';

// Kept before any test installs a fake clock: waiting for the network must run on real time.
const realSetTimeout = globalThis.setTimeout.bind(globalThis);
const realClearTimeout = globalThis.clearTimeout.bind(globalThis);

/** The reference vendor, on another origin than the test page (localhost vs 127.0.0.1: docs/design.md, "The three sides"). */
export const VENDOR = `http://127.0.0.1:${location.port}/vendor`;
export const BUNDLE_URL = `${VENDOR}/widget.js`;
/** The host's real token endpoint: the access-key exchange with the reference vendor. */
export const HOST_ENDPOINT = '/api/widget-token';

let scopes = 0;

/** A request the page started to a test scope's token endpoint, and how it ended. */
export interface PageRequest {
  /** The endpoint's path (no origin, no query). */
  readonly url: string;
  /** `pending` until the whole answer is in, or the request failed or was aborted. */
  readonly outcome: 'pending' | 'answered' | 'failed' | 'aborted';
  /**
   * Resolves a task after the request is over: aborted or failed (the page's reaction to that is in microtasks, run by
   * then), or answered to its last byte. An answer's body reaches the page's own reader through a tee, possibly a task
   * later than this: where the page's reaction to an answer matters, wait for the reaction itself (an event, a property).
   */
  readonly settled: Promise<void>;
}

const TOKEN_ROUTE = /^\/test-api\/[\w-]+\/token$/;
const pageRequests: PageRequest[] = [];

/** Resolves in a later task: every microtask queued before (an answer's handling, a widget's deferred teardown) has run. */
export function nextTask(): Promise<void> {
  return new Promise((resolve) => realSetTimeout(resolve, 0));
}

/**
 * Counts token requests as they start, in the page, before any test runs: the element calls fetch synchronously when
 * it decides to ask (a timer under a fake clock fires inside `tick`), so "no request" is known at once, without
 * waiting on the server. Only the scopes' token endpoints are watched; their answers are read from a clone, so that a
 * test can wait for a request to be over, body and all, however slow the machine is.
 */
function watchTokenRequests(): void {
  const pageFetch = window.fetch;
  window.fetch = function fetch(input: RequestInfo | URL, init?: RequestInit): Promise<Response> {
    const pending = pageFetch.call(window, input, init);
    const url = new URL(input instanceof Request ? input.url : String(input), location.href);
    if (!TOKEN_ROUTE.test(url.pathname)) return pending;
    const entry: { url: string; outcome: PageRequest['outcome']; settled: Promise<void> } = {
      url: url.pathname,
      outcome: 'pending',
      settled: Promise.resolve(),
    };
    const ended = (error: unknown) => {
      entry.outcome = error instanceof DOMException && error.name === 'AbortError' ? 'aborted' : 'failed';
    };
    // Registered before the caller's own reactions: the clone is taken before anyone reads the body.
    entry.settled = pending
      .then((response) => response.clone().arrayBuffer())
      .then(() => void (entry.outcome = 'answered'), ended)
      .then(nextTask);
    pageRequests.push(entry);
    return pending;
  };
}
watchTokenRequests();

export interface TestScope {
  /** A token endpoint of its own, answering as configured. */
  endpoint: string;
  configure(config: ScopeConfig): Promise<void>;
  /** Requests the endpoint has received in all (on the server: other pages' requests too). */
  calls(): Promise<number>;
  /** Requests this page has started to the endpoint, counted as fetch is called. */
  started(): number;
  /** This page's requests to the endpoint, in the order they started. */
  requests(): readonly PageRequest[];
  /** Resolves once every request this page started to the endpoint so far is over (see PageRequest.settled). */
  settled(): Promise<void>;
}

export async function testScope(config: ScopeConfig = {}): Promise<TestScope> {
  const name = `s${Date.now().toString(36)}${(scopes += 1)}${Math.random().toString(36).slice(2, 6)}`;
  const base = `/test-api/${name}`;
  const scope: TestScope = {
    endpoint: `${base}/token`,
    async configure(next) {
      const response = await fetch(`${base}/config`, { method: 'POST', body: JSON.stringify(next) });
      if (!response.ok) throw new Error(`configure failed: ${response.status}`);
    },
    async calls() {
      const response = await fetch(`${base}/stats`, { cache: 'no-store' });
      return ((await response.json()) as { calls: number }).calls;
    },
    started: () => scope.requests().length,
    requests: () => pageRequests.filter((request) => request.url === `${base}/token`),
    async settled() {
      const requests = scope.requests();
      // Polled for a clear failure (a request that never ends), then awaited for the page's handling of each.
      const ended = () => requests.every((request) => request.outcome !== 'pending');
      await until(ended, `the requests to ${base}/token to end`, 8_000);
      await Promise.all(requests.map((request) => request.settled));
    },
  };
  await scope.configure(config);
  return scope;
}

/**
 * Polls on real time until `predicate` holds. The only wait on time the tests have, and it waits for something to
 * happen: a test that must know nothing happened asserts it after a signal that it would have happened by then
 * (`scope.started()` after a fake-clock advance, a marker, a pong, `nextTask()`), never after a sleep.
 */
export async function until(predicate: () => boolean | Promise<boolean>, what = 'condition', timeout = 5_000) {
  const deadline = performance.now() + timeout;
  while (!(await predicate())) {
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => realSetTimeout(resolve, 10));
  }
}

/** What the frame probe (test-backend.ts) reports: the document that made the report, its place among that document's. */
export interface ProbeReport {
  origin: string;
  mode: string;
  doc: string;
  seq: number;
  marker?: number;
}

/** What the probes of `scope` reported, each document's reports in the order it made them. */
export async function probeReports<T extends ProbeReport = ProbeReport>(scope: TestScope): Promise<T[]> {
  const base = scope.endpoint.replace(/\/token$/, '');
  const seen = (await fetch(`${base}/reports`, { cache: 'no-store' }).then((response) => response.json())) as T[];
  const docs = [...new Set(seen.map((report) => report.doc))];
  return seen.sort((a, b) => docs.indexOf(a.doc) - docs.indexOf(b.doc) || a.seq - b.seq);
}

let markers = 0;

/**
 * Posts a marker to the probe in `frame` and waits for its report and every report its document made before it. This
 * page's messages reach the probe in the order they were posted: whatever this page (the element included) posted to
 * it before is in the reports by then.
 */
export async function probeCaughtUp(scope: TestScope, frame: Window): Promise<void> {
  const id = (markers += 1);
  frame.postMessage({ 'probe:marker': id }, '*');
  await until(async () => {
    const seen = await probeReports(scope);
    const marker = seen.find((report) => report.marker === id);
    return marker !== undefined && seen.filter((report) => report.doc === marker.doc).length > marker.seq;
  }, `the probe's marker ${id} and the reports before it`);
}

/**
 * Hands `overhear` every message that a MessagePort of this page receives through a listener added with
 * addEventListener (the element's frame ports), right after that listener: when it runs, the element has handled that
 * message and every one before it on the port. Returns the undo.
 */
export function overhearPorts(overhear: (data: unknown) => void): () => void {
  const add = MessagePort.prototype.addEventListener;
  MessagePort.prototype.addEventListener = function addEventListener(
    this: MessagePort,
    ...args: Parameters<MessagePort['addEventListener']>
  ) {
    add.apply(this, args);
    if (args[0] === 'message') add.call(this, 'message', (event) => overhear((event as MessageEvent).data));
  };
  return () => void (MessagePort.prototype.addEventListener = add);
}

/** The events a widget fires, for `recordEvents`. */
export const WIDGET_EVENTS = [
  'secure-widget-token',
  'secure-widget-ready',
  'secure-widget-reload',
  'secure-widget-error',
] as const satisfies readonly (keyof SecureWidgetEventMap)[];

/** Every event of these types that `target` sees, in order. */
export function recordEvents(target: EventTarget, types: readonly (keyof SecureWidgetEventMap | string)[]) {
  const events: CustomEvent[] = [];
  for (const type of types) target.addEventListener(type, (event) => events.push(event as CustomEvent));
  return {
    events,
    of<K extends keyof SecureWidgetEventMap>(type: K): SecureWidgetEventMap[K][] {
      return events.filter((event) => event.type === type) as SecureWidgetEventMap[K][];
    },
  };
}

export function nextEvent<K extends keyof SecureWidgetEventMap>(
  target: EventTarget,
  type: K,
  timeout = 5_000,
): Promise<SecureWidgetEventMap[K]> {
  return new Promise((resolve, reject) => {
    const timer = realSetTimeout(() => reject(new Error(`no ${type} event within ${timeout} ms`)), timeout);
    target.addEventListener(
      type,
      (event) => {
        realClearTimeout(timer);
        resolve(event as SecureWidgetEventMap[K]);
      },
      { once: true },
    );
  });
}

/** Inserts markup into a fresh container, the way a page or a CMS block would. */
export function mount(markup: string): HTMLElement {
  const container = document.createElement('div');
  container.innerHTML = markup;
  document.body.append(container);
  return container;
}

/**
 * `count` widgets on `endpoint` that share one page-wide vendor (`reload-global="<reloadGlobal>"`), each stamping a
 * `<vendorTag>`; resolves once all are ready, with the container that holds them.
 */
export async function readyWidgetsOfOneVendor(endpoint: string, reloadGlobal: string, vendorTag: string, count = 3) {
  const container = mount(
    Array.from(
      { length: count },
      () => `<secure-widget token-endpoint="${endpoint}" reload-global="${reloadGlobal}">
        <template><${vendorTag}></${vendorTag}></template></secure-widget>`,
    ).join(''),
  );
  const widgets = [...container.querySelectorAll('secure-widget')];
  await Promise.all(widgets.map((widget) => nextEvent(widget, 'secure-widget-ready')));
  return { container, widgets };
}

/** The `jti` of a JWT, to tell tokens apart without printing them. */
export function tokenId(token: string | null): string | null {
  if (!token) return null;
  const payload = JSON.parse(atob(token.split('.')[1]!.replace(/-/g, '+').replace(/_/g, '/'))) as { jti?: string };
  return payload.jti ?? null;
}

/**
 * A fake clock starting now. Timers and Date only: faking requestAnimationFrame would hang Lit's updates
 * (TOOLING.md), and the network keeps running on real time.
 */
export function fakeClock(): sinon.SinonFakeTimers {
  return sinon.useFakeTimers({
    now: Date.now(),
    toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date'],
    // Widgets of earlier tests may stop their real timers while this clock is installed.
    shouldClearNativeTimers: true,
  });
}

/**
 * A fake clock for the page, and the same shift for a test endpoint's clock, so that tokens minted "later" are later for
 * both sides, as in real life. `skew` puts the endpoint's clock that far ahead of the page's (negative: behind).
 */
export function fakeTime(scope: TestScope, skew = 0) {
  const clock = fakeClock();
  let elapsed = 0;
  let config: ScopeConfig = {};
  return {
    clock,
    /** Sets how the endpoint answers from now on (its clock stays in step). */
    async configure(next: ScopeConfig) {
      config = next;
      await scope.configure({ ...config, offsetMs: skew + elapsed });
    },
    /** Moves both clocks on; timers due meanwhile fire (requests they start run on real time). */
    async advance(ms: number) {
      elapsed += ms;
      await scope.configure({ ...config, offsetMs: skew + elapsed });
      clock.tick(ms);
    },
  };
}

/**
 * Registers the page's clean-up after each test: the undo steps given to the returned function run newest first, then
 * sinon is restored and the page emptied.
 */
export function cleanUpAfterEach(): (undo: () => void) => void {
  const steps: (() => void)[] = [];
  afterEach(() => {
    for (const undo of steps.splice(0).reverse()) undo();
    sinon.restore();
    document.body.replaceChildren();
  });
  return (undo) => void steps.push(undo);
}
