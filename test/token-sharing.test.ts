import { expect } from '@open-wc/testing';
import '../src/index.js';
import type { SecureWidget } from '../src/element/secure-widget.js';
import { HOST_ENDPOINT, mount, nextEvent, recordEvents, testScope, until } from './support/browser.js';

afterEach(() => {
  document.body.replaceChildren();
});

function widgets(count: number, endpoint: string, extra = ''): string {
  return Array.from(
    { length: count },
    (_, index) => `
      <secure-widget token-endpoint="${endpoint}" ${extra}>
        <template><probe-widget data-index="${index}"></probe-widget></template>
      </secure-widget>`,
  ).join('');
}

/** A widget on `endpoint` with a server-rendered token, whose template stamps a probe-widget. */
function markupWidget(endpoint: string, token: string): string {
  return `
      <secure-widget token-endpoint="${endpoint}" embed-token="${token}">
        <template><probe-widget></probe-widget></template>
      </secure-widget>`;
}

async function hostToken(): Promise<string> {
  const response = await fetch(HOST_ENDPOINT, { cache: 'no-store' });
  return ((await response.json()) as { embedToken: string }).embedToken;
}

describe('shares one fetch among widgets', () => {
  it('ten widgets on one endpoint make one request and get the same token', async () => {
    const scope = await testScope();
    const container = mount(widgets(10, scope.endpoint));
    const all = [...container.querySelectorAll('secure-widget')];
    const log = recordEvents(container, ['secure-widget-token']);
    await Promise.all(all.map((widget) => nextEvent(widget, 'secure-widget-ready')));
    expect(scope.started()).to.equal(1);
    const tokens = new Set(all.map((widget) => widget.querySelector('probe-widget')!.getAttribute('embed-token')));
    expect(tokens.size).to.equal(1);
    const sources = log.of('secure-widget-token').map((event) => event.detail.source);
    expect(sources.filter((source) => source === 'endpoint')).to.have.length(1);
    expect(sources.filter((source) => source === 'shared')).to.have.length(9);
  });

  it('a widget added later reuses the token in hand', async () => {
    const scope = await testScope();
    const first = mount(widgets(1, scope.endpoint)).querySelector('secure-widget')!;
    await nextEvent(first, 'secure-widget-ready');
    const later = mount(widgets(1, scope.endpoint)).querySelector('secure-widget')!;
    const token = await nextEvent(later, 'secure-widget-token');
    expect(token.detail.source).to.equal('shared');
    await nextEvent(later, 'secure-widget-ready');
    expect(scope.started()).to.equal(1);
  });

  it('token-scope="element" opts out: one request per widget', async () => {
    const scope = await testScope();
    const container = mount(widgets(3, scope.endpoint, 'token-scope="element"'));
    await Promise.all([...container.querySelectorAll('secure-widget')].map((w) => nextEvent(w, 'secure-widget-ready')));
    expect(scope.started()).to.equal(3);
  });

  it('different credentials modes do not share', async () => {
    const scope = await testScope();
    const container = mount(widgets(1, scope.endpoint) + widgets(1, scope.endpoint, 'token-credentials="include"'));
    await Promise.all([...container.querySelectorAll('secure-widget')].map((w) => nextEvent(w, 'secure-widget-ready')));
    expect(scope.started()).to.equal(2);
  });

  it('widgets given the same fetchToken function share it', async () => {
    const token = await hostToken();
    let calls = 0;
    const fetchToken = async () => {
      calls += 1;
      return { token };
    };
    const container = document.createElement('div');
    for (let index = 0; index < 3; index += 1) {
      const widget = document.createElement('secure-widget');
      widget.fetchToken = fetchToken;
      widget.innerHTML = '<template><probe-widget></probe-widget></template>';
      container.append(widget);
    }
    document.body.append(container);
    await Promise.all([...container.querySelectorAll('secure-widget')].map((w) => nextEvent(w, 'secure-widget-ready')));
    expect(calls).to.equal(1);
  });
});

describe('server-rendered token', () => {
  it('is used first: no request at load, and the attribute leaves the DOM', async () => {
    const token = await hostToken();
    const scope = await testScope();
    const container = mount(`
      ${markupWidget(scope.endpoint, token)}`);
    const widget = container.querySelector<SecureWidget>('secure-widget')!;
    expect(widget.hasAttribute('embed-token')).to.equal(false);
    expect(widget.embedToken).to.equal(null);
    const event = await nextEvent(widget, 'secure-widget-token');
    expect(event.detail.source).to.equal('markup');
    await nextEvent(widget, 'secure-widget-ready');
    expect(widget.querySelector('probe-widget')!.getAttribute('embed-token')).to.equal(token);
    expect(scope.started()).to.equal(0);
  });

  it('is shared with the other widgets of the page', async () => {
    const token = await hostToken();
    const scope = await testScope();
    const container = mount(`
      ${markupWidget(scope.endpoint, token)}${widgets(2, scope.endpoint)}`);
    await Promise.all([...container.querySelectorAll('secure-widget')].map((w) => nextEvent(w, 'secure-widget-ready')));
    expect(scope.started()).to.equal(0);
  });

  it('saves the request even when it comes after other widgets on the page', async () => {
    const token = await hostToken();
    const scope = await testScope({ delayMs: 200 });
    const container = mount(`${widgets(2, scope.endpoint)}
      ${markupWidget(scope.endpoint, token)}`);
    const all = [...container.querySelectorAll('secure-widget')];
    const log = recordEvents(container, ['secure-widget-error']);
    await Promise.all(all.map((w) => nextEvent(w, 'secure-widget-ready')));
    // The first widgets' request (answered after 200 ms) was aborted once the server-rendered token arrived: no
    // other token replaces it, and the abort is no error.
    await scope.settled();
    expect(
      scope.requests().filter((request) => request.outcome !== 'aborted'),
      'requests not aborted',
    ).to.deep.equal([]);
    expect(log.events).to.have.length(0);
    expect(all.map((w) => w.querySelector('probe-widget')!.getAttribute('embed-token'))).to.deep.equal([
      token,
      token,
      token,
    ]);
    expect(scope.started()).to.be.at.most(1);
  });

  it('an expired one is dropped for a fetch, without an error', async () => {
    const scope = await testScope({ respond: 'expired' });
    // A real vendor token that expired a minute ago, as a page served stale from a cache would carry.
    const stale = await fetch(scope.endpoint).then((response) => response.json() as Promise<{ embedToken: string }>);
    await scope.configure({});
    const container = mount(`
      <secure-widget token-endpoint="${scope.endpoint}" embed-token="${stale.embedToken}">
        <template><probe-widget></probe-widget></template>
      </secure-widget>`);
    const widget = container.querySelector('secure-widget')!;
    const log = recordEvents(widget, ['secure-widget-error', 'secure-widget-token']);
    await nextEvent(widget, 'secure-widget-ready');
    expect(log.of('secure-widget-error')).to.have.length(0);
    expect(log.of('secure-widget-token')[0]!.detail.source).to.equal('endpoint');
    expect(widget.querySelector('probe-widget')!.getAttribute('embed-token')).to.not.equal(stale.embedToken);
    // One request made by the test to get the stale token, one by the widget.
    expect(scope.started()).to.equal(2);
  });

  it('works without any endpoint while it lasts', async () => {
    const token = await hostToken();
    const container = mount(`
      <secure-widget embed-token="${token}"><template><probe-widget></probe-widget></template></secure-widget>`);
    const widget = container.querySelector('secure-widget')!;
    await nextEvent(widget, 'secure-widget-ready');
    await until(() => widget.status === 'ready', 'ready');
  });
});
