import { expect } from '@open-wc/testing';
import sinon from 'sinon';
import '../src/index.js';
import type { SecureWidget } from '../src/element/secure-widget.js';
import { resetPageState } from '../src/element/page-state.js';
import { MAX_IDLE_BROKERS, brokerCount } from '../src/element/token/registry.js';
import type { CustomTokenFetcher } from '../src/element/token/source.js';
import {
  cleanUpAfterEach,
  fakeTime,
  mount,
  nextEvent,
  nextTask,
  readyWidgetsOfOneVendor,
  recordEvents,
  testScope,
  until,
  type TestScope,
} from './support/browser.js';

// What a new user found (issue 9): a status stuck at `refreshing`, a reload-loop stop that did not hold, a wrong reload
// reason, a framework's <template> refused, and a new fetchToken closure per render storming the backend. Each test
// here failed on the code before the recovery became one phase machine (src/element/recovery.ts).

const rejected = () => new CustomEvent('rai-error', { bubbles: true, composed: true });

/** A vendor element with its own reload(), counting reloads. */
class CountingWidget extends HTMLElement {
  reloads = 0;
  async reload() {
    this.reloads += 1;
  }
}
customElements.define('counting-widget', CountingWidget);

/**
 * A vendor that rejects every token it is loaded with, as a vendor with the wrong key would. It has no reload() of its
 * own: the page-wide `RegressionVendor.reload()` reloads every vendor widget, and each rejecting one rejects again.
 */
class RejectingWidget extends HTMLElement {
  connectedCallback() {
    if (this.hasAttribute('embed-token')) queueMicrotask(() => this.dispatchEvent(rejected()));
  }
}
customElements.define('rejecting-widget', RejectingWidget);

function installVendorGlobal() {
  const reload = sinon.fake(async () => {
    for (const vendor of document.querySelectorAll('rejecting-widget')) {
      queueMicrotask(() => vendor.dispatchEvent(rejected()));
    }
  });
  (window as { RegressionVendor?: unknown }).RegressionVendor = { reload };
  later(() => delete (window as { RegressionVendor?: unknown }).RegressionVendor);
  return reload;
}

/** A vendor element without reload(): the page-wide `RegressionVendor.reload()` reloads all of them. */
class PlainWidget extends HTMLElement {}
customElements.define('plain-regression-widget', PlainWidget);

const later = cleanUpAfterEach();

function widgetOn(scope: TestScope, vendor = 'counting-widget', attributes = 'refresh-margin="10"'): SecureWidget {
  return mount(`<secure-widget token-endpoint="${scope.endpoint}" ${attributes}>
    <template><${vendor}></${vendor}></template></secure-widget>`).querySelector('secure-widget')!;
}

const statusLog = (widget: SecureWidget) => {
  const seen: string[] = [];
  const observer = new MutationObserver(() => seen.push(widget.getAttribute('status')!));
  observer.observe(widget, { attributes: true, attributeFilter: ['status'] });
  later(() => observer.disconnect());
  return seen;
};

describe('refresh() that fails while the token in hand is valid leaves status as it was', () => {
  for (const [name, config] of [
    ['a 503 once', { respond: 'status', status: 503 }],
    ['a 401 once', { respond: 'status', status: 401 }],
    ['the network down once', { respond: 'network' }],
  ] as const) {
    it(`${name}: status is ready again when refresh() rejects, and stays ready when a token comes`, async () => {
      const scope = await testScope();
      const time = fakeTime(scope);
      later(() => time.clock.restore());
      sinon.stub(Math, 'random').returns(1);
      await time.configure({ ttlSeconds: 600 });
      const widget = widgetOn(scope);
      await nextEvent(widget, 'secure-widget-ready');
      const log = recordEvents(widget, ['secure-widget-token', 'secure-widget-reload', 'secure-widget-error']);
      await time.configure({ ttlSeconds: 600, ...config });
      const failure = await widget.refresh().then(
        () => null,
        (error: unknown) => error as { code: string },
      );
      expect(failure?.code).to.match(/^endpoint-/);
      expect(widget.status).to.equal('ready');
      await time.configure({ ttlSeconds: 600 });
      await time.advance(1_000);
      // A transient failure is retried after 1 s by itself (a fatal one waits for refresh() or a wake once due).
      const fatal = config.respond === 'status' && config.status === 401;
      // The retry has started by now, or (fatal) never will by itself.
      expect(scope.started()).to.equal(fatal ? 2 : 3);
      if (!fatal) await until(() => log.of('secure-widget-token').length === 1, 'the retried token');
      expect(widget.status).to.equal('ready');
      expect(log.of('secure-widget-error')).to.have.length(1);
      expect(log.of('secure-widget-reload')).to.have.length(0);
    });
  }
});

describe('a reload-loop stop holds until refresh()', () => {
  it("no wake, online, prefetched token or other widget's page-wide reload moves it", async () => {
    const scope = await testScope();
    const time = fakeTime(scope);
    later(() => time.clock.restore());
    await time.configure({ ttlSeconds: 60 });
    const reload = installVendorGlobal();
    const looping = widgetOn(scope, 'rejecting-widget', 'refresh-margin="10" reload-global="RegressionVendor"');
    const log = recordEvents(looping, ['secure-widget-reload', 'secure-widget-error', 'secure-widget-ready']);
    // Each rejection after a reload waits for the burst's follow-up: move the fake clock along until the stop.
    const stopped = () => log.of('secure-widget-error').some((event) => event.detail.code === 'reload-loop');
    for (let step = 0; step < 100 && !stopped(); step += 1) {
      await time.advance(50);
      // Whatever the clock set off, a request included, is over before the clock moves again.
      await scope.settled();
    }
    expect(stopped(), 'reload-loop').to.equal(true);
    expect(scope.started()).to.equal(3);
    expect(looping.status).to.equal('error');
    const vendor = looping.querySelector('rejecting-widget')!;
    const token = vendor.getAttribute('embed-token');
    const counts = () => [log.of('secure-widget-reload').length, log.of('secure-widget-ready').length];
    const before = counts();

    // A healthy widget of the same vendor on another endpoint, whose refresh() reloads every vendor widget page-wide.
    const other = await testScope({ ttlSeconds: 600 });
    const healthy = widgetOn(other, 'plain-regression-widget', 'reload-global="RegressionVendor"');
    await nextEvent(healthy, 'secure-widget-ready');
    const reloadsBefore = reload.callCount;
    await healthy.refresh();
    expect(reload.callCount).to.equal(reloadsBefore + 1);

    window.dispatchEvent(new Event('online'));
    document.dispatchEvent(new Event('visibilitychange'));
    const inHand = looping.expiresAt;
    await time.advance(55_000); // past the prefetch of the next token
    expect(scope.started(), 'the prefetch').to.equal(4);
    // The stopped widget keeps the token it is given, and only that.
    await until(() => looping.expiresAt !== inHand, 'the prefetched token in hand');
    expect(looping.status).to.equal('error');
    expect(vendor.getAttribute('embed-token'), 'no token reaches the stopped vendor').to.equal(token);
    expect(counts()).to.deep.equal(before);
    expect(log.of('secure-widget-error').filter((event) => event.detail.code === 'reload-loop')).to.have.length(1);
  });
});

describe('reload reasons: a page-wide reload carries the reason of the widget that started it', () => {
  it('refresh() on one widget: every widget the vendor reloaded reports manual', async () => {
    const reload = sinon.fake(async () => {});
    (window as { RegressionVendor?: unknown }).RegressionVendor = { reload };
    later(() => delete (window as { RegressionVendor?: unknown }).RegressionVendor);
    const scope = await testScope();
    const { container, widgets } = await readyWidgetsOfOneVendor(
      scope.endpoint,
      'RegressionVendor',
      'plain-regression-widget',
    );
    const log = recordEvents(container, ['secure-widget-reload']);
    await widgets[0]!.refresh();
    await until(() => log.events.length === 3, 'three reload events');
    expect(reload.callCount).to.equal(1);
    expect(log.of('secure-widget-reload').map((event) => event.detail.reason)).to.deep.equal([
      'manual',
      'manual',
      'manual',
    ]);
  });
});

describe('a <template> whose children a framework put in its light DOM works like one from markup', () => {
  it('stamps the vendor element with its token; the live child never runs without one', async () => {
    const connectedWithout: Element[] = [];
    class LiveVendor extends HTMLElement {
      connectedCallback() {
        if (this.isConnected && !this.hasAttribute('embed-token')) connectedWithout.push(this);
      }
    }
    customElements.define('live-template-vendor', LiveVendor);
    const scope = await testScope();
    // What React 19 and Vue 3 do: createElement, append the child to the template element itself, insert the tree.
    const widget = document.createElement('secure-widget');
    widget.setAttribute('token-endpoint', scope.endpoint);
    const template = document.createElement('template');
    const child = document.createElement('live-template-vendor');
    child.setAttribute('community-id', '42');
    template.append(child);
    widget.append(template);
    document.body.append(widget);
    await nextEvent(widget, 'secure-widget-ready');
    const stamped = widget.querySelector(':scope > live-template-vendor')!;
    expect(stamped.getAttribute('embed-token')).to.match(/^eyJ/);
    expect(stamped.getAttribute('community-id')).to.equal('42');
    expect(template.childNodes).to.have.length(0);
    expect(connectedWithout).to.deep.equal([]);
  });
});

describe('a new fetchToken function is used for the next fetch, and starts nothing over', () => {
  const fetcherFor =
    (scope: TestScope, calls: { count: number }): CustomTokenFetcher =>
    async (signal) => {
      calls.count += 1;
      const response = await fetch(scope.endpoint, { signal, cache: 'no-store' });
      return ((await response.json()) as { embedToken: string }).embedToken;
    };

  it('100 new closures, one per render, with a listener that renders again: one request, ready throughout', async () => {
    const scope = await testScope({ ttlSeconds: 600 });
    const calls = { count: 0 };
    const widget = document.createElement('secure-widget');
    widget.innerHTML = '<template><counting-widget></counting-widget></template>';
    widget.fetchToken = fetcherFor(scope, calls);
    // "An event listener that sets state": every event renders again, with a new closure.
    const render = () => (widget.fetchToken = fetcherFor(scope, calls));
    for (const type of ['secure-widget-token', 'secure-widget-ready', 'secure-widget-error'] as const) {
      widget.addEventListener(type, render);
    }
    const log = recordEvents(widget, ['secure-widget-token', 'secure-widget-error', 'secure-widget-reload']);
    document.body.append(widget);
    const statuses = statusLog(widget);
    await nextEvent(widget, 'secure-widget-ready');
    const brokers = brokerCount();
    for (let index = 0; index < 100; index += 1) {
      render();
      await widget.updateComplete;
    }
    // A restart or a request would have begun in the update that saw the new function.
    expect(scope.started()).to.equal(1);
    expect(calls.count).to.equal(1);
    expect(widget.status).to.equal('ready');
    expect(statuses, 'never refreshing, never error').to.deep.equal(['loading', 'ready']);
    expect(log.of('secure-widget-token')).to.have.length(1);
    expect(log.of('secure-widget-error')).to.have.length(0);
    expect(brokerCount()).to.equal(brokers);
    expect(widget.querySelectorAll('counting-widget')).to.have.length(1);
  });

  it('the new function makes the next fetch', async () => {
    const scope = await testScope({ ttlSeconds: 600 });
    const first = { count: 0 };
    const second = { count: 0 };
    const widget = document.createElement('secure-widget');
    widget.innerHTML = '<template><counting-widget></counting-widget></template>';
    widget.fetchToken = fetcherFor(scope, first);
    document.body.append(widget);
    await nextEvent(widget, 'secure-widget-ready');
    widget.fetchToken = fetcherFor(scope, second);
    await widget.refresh();
    expect([first.count, second.count]).to.deep.equal([1, 1]);
  });

  it('after 1,000 renders with a new closure each, and 100 remounts, the page holds no more brokers', async () => {
    const scope = await testScope({ ttlSeconds: 600 });
    const calls = { count: 0 };
    // A page with no broker yet, so that every one counted here is this test's.
    resetPageState();
    expect(brokerCount()).to.equal(0);
    const widget = document.createElement('secure-widget');
    widget.innerHTML = '<template><counting-widget></counting-widget></template>';
    widget.fetchToken = fetcherFor(scope, calls);
    document.body.append(widget);
    await nextEvent(widget, 'secure-widget-ready');
    for (let index = 0; index < 1_000; index += 1) widget.fetchToken = fetcherFor(scope, calls);
    await widget.updateComplete;
    expect(brokerCount()).to.equal(1);
    // A single-page app remounting the widget with a new closure each time: idle brokers are bounded.
    for (let index = 0; index < 100; index += 1) {
      widget.remove();
      // A removal, not a move: the teardown (a microtask later) runs before the widget comes back.
      await nextTask();
      widget.fetchToken = fetcherFor(scope, calls);
      document.body.append(widget);
      await widget.updateComplete;
    }
    // The connected widget's broker, and at most the idle ones kept for a comeback.
    expect(brokerCount()).to.be.at.most(MAX_IDLE_BROKERS + 1);
  });

  it('two functions never share a token; the same token-key shares one request among closures', async () => {
    const scope = await testScope({ ttlSeconds: 600 });
    const calls = { count: 0 };
    const make = (attributes = '') => {
      const widget = mount(`<secure-widget ${attributes}><template><counting-widget></counting-widget></template>
        </secure-widget>`).querySelector('secure-widget')!;
      widget.fetchToken = fetcherFor(scope, calls);
      return widget;
    };
    const apart = [make(), make()];
    await Promise.all(apart.map((widget) => nextEvent(widget, 'secure-widget-ready')));
    expect(await scope.calls(), 'one request per function').to.equal(2);
    const keyed = [make('token-key="user-7"'), make('token-key="user-7"'), make('token-key="user-7"')];
    await Promise.all(keyed.map((widget) => nextEvent(widget, 'secure-widget-ready')));
    expect(await scope.calls(), 'one request for the key').to.equal(3);
  });

  it('a widget given a new function leaves the others that share the old one, bringing its token along', async () => {
    const scope = await testScope({ ttlSeconds: 600 });
    const calls = { count: 0 };
    const shared = fetcherFor(scope, calls);
    const container = mount(
      [1, 2]
        .map(() => '<secure-widget><template><counting-widget></counting-widget></template></secure-widget>')
        .join(''),
    );
    const [a, b] = [...container.querySelectorAll('secure-widget')];
    a!.fetchToken = shared;
    b!.fetchToken = shared;
    await Promise.all([a, b].map((widget) => nextEvent(widget!, 'secure-widget-ready')));
    expect(calls.count).to.equal(1);
    const own = { count: 0 };
    a!.fetchToken = fetcherFor(scope, own);
    await a!.updateComplete;
    // The move happened in that update: a request for it would have started there.
    expect(scope.started()).to.equal(1);
    expect([calls.count, own.count], 'the move costs no request').to.deep.equal([1, 0]);
    await a!.refresh();
    expect([calls.count, own.count], 'a refreshes through its own function').to.deep.equal([1, 1]);
    await b!.refresh();
    expect([calls.count, own.count], 'b keeps the old one').to.deep.equal([2, 1]);
  });
});
