import { expect } from '@open-wc/testing';
import sinon from 'sinon';
import '../src/index.js';
import type { SecureWidget } from '../src/element/secure-widget.js';
import {
  cleanUpAfterEach,
  fakeTime,
  mount,
  nextEvent,
  nextTask,
  recordEvents,
  testScope,
  until,
  WIDGET_EVENTS,
  type TestScope,
} from './support/browser.js';
import type { ScopeConfig } from './support/test-backend.js';

const HOUR = 3_600_000;

/** A vendor element with its own reload(), counting reloads. */
class PolicyWidget extends HTMLElement {
  reloads = 0;
  async reload() {
    this.reloads += 1;
  }
}
customElements.define('policy-widget', PolicyWidget);

const later = cleanUpAfterEach();

function track(time: ReturnType<typeof fakeTime>) {
  later(() => time.clock.restore());
  return time;
}

function mountWidgets(scope: TestScope, count = 1, attributes = 'refresh-margin="10"') {
  const container = mount(
    Array.from(
      { length: count },
      () => `<secure-widget token-endpoint="${scope.endpoint}" ${attributes}>
        <template><policy-widget></policy-widget></template></secure-widget>`,
    ).join(''),
  );
  const widgets = [...container.querySelectorAll('secure-widget')] as SecureWidget[];
  const log = recordEvents(container, WIDGET_EVENTS);
  return { container, widgets, widget: widgets[0]!, log };
}

/**
 * A test scope on the fake clock (`skew` ms off the endpoint's), its endpoint answering as `config` says, and `count`
 * widgets mounted on it; `random` is what Math.random returns from then on (the backoff's jitter).
 */
async function mounted(
  config: ScopeConfig,
  { count = 1, skew = 0, random }: { count?: number; skew?: number; random?: number } = {},
) {
  const scope = await testScope();
  const time = track(fakeTime(scope, skew));
  if (random !== undefined) sinon.stub(Math, 'random').returns(random);
  await time.configure(config);
  return { scope, time, ...mountWidgets(scope, count) };
}

const vendorOf = (widget: SecureWidget) => widget.querySelector<PolicyWidget>('policy-widget')!;
const rejected = () =>
  new CustomEvent('rai-error', { bubbles: true, composed: true, detail: { code: 'token_expired' } });

function setVisibility(state: DocumentVisibilityState) {
  Object.defineProperty(document, 'visibilityState', { configurable: true, get: () => state });
  later(() => delete (document as { visibilityState?: unknown }).visibilityState);
}

describe('transient failures retry with backoff; fatal ones wait', () => {
  it('retries a 503 on the announced schedule and recovers by itself', async () => {
    // Full jitter at its ceiling (random 1): 1 s, 2 s, 4 s…
    const { scope, time, widget, log } = await mounted({ respond: 'status', status: 503 }, { random: 1 });
    const first = await nextEvent(widget, 'secure-widget-error');
    expect(first.detail).to.include({ code: 'endpoint-http', status: 503, fatal: false });
    expect(first.detail.retryAt).to.equal(Date.now() + 1_000);
    expect(widget.status).to.equal('error');

    await time.advance(1_000);
    expect(scope.started()).to.equal(2);
    await until(() => log.of('secure-widget-error').length === 2, 'the second error');
    expect(log.of('secure-widget-error')[1]!.detail.retryAt).to.equal(Date.now() + 2_000);

    await time.configure({});
    await time.advance(1_999);
    expect(scope.started()).to.equal(2);
    await time.advance(1);
    expect(scope.started()).to.equal(3);
    await nextEvent(widget, 'secure-widget-ready');
    expect(widget.status).to.equal('ready');
  });

  it('honours Retry-After when it asks for longer', async () => {
    const { scope, time, widget } = await mounted({ respond: 'status', status: 429, retryAfter: '30' });
    const error = await nextEvent(widget, 'secure-widget-error');
    expect(error.detail.retryAt).to.equal(Date.now() + 30_000);
    await time.advance(29_000);
    expect(scope.started()).to.equal(1);
    await time.advance(1_000);
    expect(scope.started()).to.equal(2);
  });

  it('a 401 is fatal: no retry by itself, but a tab coming back or going online tries again', async () => {
    const { scope, time, widget } = await mounted({ respond: 'status', status: 401 });
    const error = await nextEvent(widget, 'secure-widget-error');
    expect(error.detail).to.include({ fatal: true, status: 401 });
    expect(error.detail.retryAt).to.equal(undefined);
    await time.advance(10 * 60_000);
    expect(scope.started()).to.equal(1);

    setVisibility('visible');
    const again = nextEvent(widget, 'secure-widget-error');
    document.dispatchEvent(new Event('visibilitychange'));
    await again;
    expect(scope.started()).to.equal(2);

    await time.configure({});
    // A wake within a second of the last attempt does nothing (the floor under every request): a second later it does.
    await time.advance(1_000);
    const ready = nextEvent(widget, 'secure-widget-ready');
    window.dispatchEvent(new Event('online'));
    await ready;
    expect(scope.started()).to.equal(3);
  });

  it('a hidden tab does not try again on visibilitychange', async () => {
    const { scope, time, widget } = await mounted({ respond: 'status', status: 401 });
    await nextEvent(widget, 'secure-widget-error');
    // Past the floor under every request, so that only the visibility keeps a wake from fetching.
    await time.advance(1_000);
    setVisibility('hidden');
    document.dispatchEvent(new Event('visibilitychange'));
    expect(scope.started()).to.equal(1);
    setVisibility('visible');
    document.dispatchEvent(new Event('visibilitychange'));
    expect(scope.started(), 'the same event with the tab visible').to.equal(2);
  });

  it('a failed prefetch does not disturb the widget until its token runs out', async () => {
    const { time, widget, log } = await mounted({ ttlSeconds: 60 });
    await nextEvent(widget, 'secure-widget-ready');
    await time.configure({ ttlSeconds: 60, respond: 'status', status: 401 });
    await time.advance(50_500);
    await until(() => log.of('secure-widget-error').length === 1, 'the failed prefetch');
    expect(widget.status).to.equal('ready');
    await time.advance(9_000);
    expect(widget.status).to.equal('ready');
    await time.advance(1_000);
    await until(() => widget.status === 'error', 'status error once the token ran out');
    expect(log.of('secure-widget-error')).to.have.length(1);
  });
});

describe('one schedule per endpoint', () => {
  it('50 widgets on a failing endpoint follow one backoff and recover from one response', async () => {
    const { scope, time, widgets, log } = await mounted({ respond: 'status', status: 503 }, { count: 50, random: 1 });
    await until(() => log.of('secure-widget-error').length === 50, 'every widget to hear the failure');
    expect(scope.started()).to.equal(1);
    for (const [step, delay] of [1_000, 2_000, 4_000].entries()) {
      await time.advance(delay);
      expect(scope.started()).to.equal(step + 2);
      await until(() => log.of('secure-widget-error').length === 50 * (step + 2), 'the failure of the retry');
    }
    // A widget that connects during the backoff waits for the same schedule.
    const late = mountWidgets(scope, 1);
    await nextEvent(late.widget, 'secure-widget-error');
    expect(scope.started()).to.equal(4);

    await time.configure({});
    await time.advance(8_000);
    await Promise.all([...widgets, late.widget].map((widget) => until(() => widget.status === 'ready', 'ready')));
    expect(scope.started()).to.equal(5);
  });
});

describe('skew-proof: a client clock hours off', () => {
  for (const skew of [2 * HOUR, -2 * HOUR]) {
    it(`refreshes on time, without a loop, with the endpoint's clock ${skew > 0 ? 'ahead' : 'behind'} by 2 h`, async () => {
      const { scope, time, widget, log } = await mounted({ ttlSeconds: 60 }, { skew });
      await nextEvent(widget, 'secure-widget-ready');
      expect(widget.expiresAt! - Date.now()).to.be.within(59_000, 61_000);
      expect(scope.started()).to.equal(1);
      await time.advance(48_000);
      expect(scope.started()).to.equal(1);
      await time.advance(3_000);
      expect(scope.started()).to.equal(2);
      await until(() => log.of('secure-widget-token').length === 2, 'the next token');
      await time.advance(30_000);
      expect(scope.started()).to.equal(2);
      expect(log.of('secure-widget-error')).to.have.length(0);
    });
  }

  it('a server-rendered token is used with a client clock 2 h slow, and dropped when 2 h fast', async () => {
    for (const [skew, expected] of [
      [2 * HOUR, 0],
      [-2 * HOUR, 1],
    ] as const) {
      const scope = await testScope({ ttlSeconds: 60, offsetMs: skew });
      const { embedToken } = (await fetch(scope.endpoint).then((response) => response.json())) as {
        embedToken: string;
      };
      const before = scope.started();
      const widget = mount(`<secure-widget token-endpoint="${scope.endpoint}" embed-token="${embedToken}">
        <template><policy-widget></policy-widget></template></secure-widget>`).querySelector('secure-widget')!;
      await nextEvent(widget, 'secure-widget-ready');
      expect(scope.started() - before, `endpoint clock ${skew / HOUR} h`).to.equal(expected);
      expect(widget.expiresAt! - Date.now()).to.be.within(55_000, 61_000);
      widget.remove();
    }
  });
});

describe('sleep and background tabs', () => {
  it('a tab that slept past expiry fetches at once when visible and reloads the vendor', async () => {
    const { scope, time, widget, log } = await mounted({ ttlSeconds: 60 });
    await nextEvent(widget, 'secure-widget-ready');
    // Asleep: the clocks move on, no timer runs.
    await time.configure({ ttlSeconds: 60 });
    time.clock.setSystemTime(Date.now() + 20 * 60_000);
    await time.configure({ ttlSeconds: 60, offsetMs: 20 * 60_000 });
    setVisibility('visible');
    document.dispatchEvent(new Event('visibilitychange'));
    expect(scope.started()).to.equal(2);
    await until(() => log.of('secure-widget-reload').length === 1, 'the vendor reloaded with the new token');
    expect(log.of('secure-widget-reload')[0]!.detail.reason).to.equal('expired');
    expect(vendorOf(widget).reloads).to.equal(1);
    expect(widget.expiresAt! - Date.now()).to.be.within(59_000, 61_000);
  });

  it('a long-lived token does not fire at once through timer overflow', async () => {
    const { scope, time, widget } = await mounted({ ttlSeconds: 30 * 24 * 3600 });
    await nextEvent(widget, 'secure-widget-ready');
    await time.advance(60_000);
    expect(scope.started()).to.equal(1);
  });
});

describe('bursts of expiry events', () => {
  it('5 events in 100 ms while the next token is fetched: one fetch, one reload', async () => {
    const { scope, time, widget, log } = await mounted({ ttlSeconds: 60 });
    await nextEvent(widget, 'secure-widget-ready');
    // Past the floor under every request (one a second), so that the first event fetches at once.
    await time.advance(1_000);
    // 25 ms apart on the fake clock, all in one task: the first starts the fetch, which cannot answer in between.
    for (let index = 0; index < 5; index += 1) {
      vendorOf(widget).dispatchEvent(rejected());
      time.clock.tick(25);
    }
    expect(scope.started()).to.equal(2);
    await until(() => log.of('secure-widget-reload').length === 1, 'the reload');
    // Past the burst window: a follow-up or a second recovery would have started its fetch by now.
    await time.advance(1_000);
    expect(scope.started()).to.equal(2);
    expect(vendorOf(widget).reloads).to.equal(1);
    expect(log.of('secure-widget-error')).to.have.length(0);
  });

  it('5 events at once with the next token in hand: no fetch, one reload', async () => {
    const { scope, time, widget, log } = await mounted({ ttlSeconds: 60 });
    await nextEvent(widget, 'secure-widget-ready');
    await time.advance(51_000);
    await until(() => log.of('secure-widget-token').length === 2, 'the prefetched token');
    for (let index = 0; index < 5; index += 1) vendorOf(widget).dispatchEvent(rejected());
    await until(() => log.of('secure-widget-reload').length === 1, 'the reload');
    expect(scope.started()).to.equal(2);
    // Past the burst window: a follow-up would have started its fetch by now.
    await time.advance(1_000);
    expect(scope.started()).to.equal(2);
    expect(vendorOf(widget).reloads).to.equal(1);
  });

  it('events that go on after the reload earn one follow-up, never a reload loop', async () => {
    const { scope, time, widget, log } = await mounted({ ttlSeconds: 60 });
    await nextEvent(widget, 'secure-widget-ready');
    await time.advance(51_000);
    await until(() => log.of('secure-widget-token').length === 2, 'the prefetched token');
    // The first event reloads with the prefetched token; the four after it, 20 ms apart, come after that reload.
    vendorOf(widget).dispatchEvent(rejected());
    await until(() => log.of('secure-widget-reload').length === 1, 'the reload');
    for (let index = 1; index < 5; index += 1) {
      await time.advance(20);
      vendorOf(widget).dispatchEvent(rejected());
    }
    expect(scope.started(), 'no request before the follow-up').to.equal(2);
    await time.advance(200);
    expect(scope.started(), 'the follow-up asks for a token').to.equal(3);
    await until(() => log.of('secure-widget-reload').length === 2, 'the follow-up');
    // Past another burst window: a second follow-up (a loop) would have started its fetch by now.
    await time.advance(1_000);
    expect(scope.started()).to.equal(3);
    expect(vendorOf(widget).reloads).to.equal(2);
    expect(log.of('secure-widget-error')).to.have.length(0);
  });
});

describe('opaque tokens', () => {
  it('are scheduled by expiresIn', async () => {
    const { scope, time, widget, log } = await mounted({ respond: 'opaque', ttlSeconds: 60 });
    await nextEvent(widget, 'secure-widget-ready');
    expect(vendorOf(widget).getAttribute('embed-token')).to.match(/^opaque-/);
    await time.advance(49_000);
    expect(scope.started()).to.equal(1);
    await time.advance(2_000);
    expect(scope.started()).to.equal(2);
    await until(() => log.of('secure-widget-token').length === 2, 'the next token');
  });

  it('without any expiry hint, are renewed only when the vendor rejects them', async () => {
    const { scope, time, widget } = await mounted({ respond: 'opaque-bare' });
    await nextEvent(widget, 'secure-widget-ready');
    expect(widget.expiresAt).to.equal(null);
    await time.advance(24 * HOUR);
    expect(scope.started()).to.equal(1);
    const first = vendorOf(widget).getAttribute('embed-token');
    vendorOf(widget).dispatchEvent(rejected());
    await nextEvent(widget, 'secure-widget-reload');
    expect(scope.started()).to.equal(2);
    expect(vendorOf(widget).getAttribute('embed-token')).to.not.equal(first);
  });
});

describe('no leaks, no double work', () => {
  it('a changed token-endpoint aborts the request in flight without an error', async () => {
    // Never answered: only the abort ends it.
    const slow = await testScope({ respond: 'hang' });
    const fast = await testScope();
    const { widget, log } = mountWidgets(slow);
    await until(async () => (await slow.calls()) === 1, 'the first request');
    widget.tokenEndpoint = fast.endpoint;
    await nextEvent(widget, 'secure-widget-ready');
    // The slow request's end, and whatever the page made of it.
    await slow.settled();
    expect(slow.requests().map((request) => request.outcome)).to.deep.equal(['aborted']);
    expect(log.of('secure-widget-error')).to.have.length(0);
    expect(log.of('secure-widget-token')).to.have.length(1);
  });

  it('the last widget to leave stops the schedule: no request after it is gone', async () => {
    const { scope, time, container, widgets } = await mounted({ ttlSeconds: 60 }, { count: 3 });
    await Promise.all(widgets.map((widget) => nextEvent(widget, 'secure-widget-ready')));
    container.remove();
    // Teardown waits a microtask (a move is not a removal): it has run in a later task.
    await nextTask();
    await time.advance(10 * 60_000);
    expect(scope.started()).to.equal(1);
    expect(time.clock.countTimers()).to.equal(0);
  });
});
