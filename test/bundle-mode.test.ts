import { expect } from '@open-wc/testing';
import '../src/index.js';
import { BUNDLE_URL, HOST_ENDPOINT, mount, nextEvent, recordEvents, testScope, until } from './support/browser.js';

afterEach(() => {
  document.body.replaceChildren();
});

/** A vendor element that remembers what it saw when the page connected it. */
class ProbeWidget extends HTMLElement {
  static seen: { token: string | null }[] = [];
  connectedCallback() {
    ProbeWidget.seen.push({ token: this.getAttribute('embed-token') });
  }
}
customElements.define('probe-widget', ProbeWidget);

/** A widget on `endpoint` whose template stamps a probe-widget. */
function probeWidgetFor(endpoint: string) {
  return mount(`
    <secure-widget token-endpoint="${endpoint}">
      <template><probe-widget></probe-widget></template>
    </secure-widget>`).querySelector('secure-widget')!;
}

describe('bundle mode against the reference vendor', () => {
  it('renders the vendor widget with a token from the host endpoint', async () => {
    const container = mount(`
      <secure-widget token-endpoint="${HOST_ENDPOINT}" bundle-url="${BUNDLE_URL}">
        <p slot="loading">Loading…</p>
        <template><demo-widget community-id="42" data-user-id="u1"></demo-widget></template>
      </secure-widget>`);
    const widget = container.querySelector('secure-widget')!;
    expect(widget.status).to.equal('loading');
    const ready = await nextEvent(widget, 'secure-widget-ready');
    expect(ready.detail).to.deep.equal({ mode: 'bundle' });
    expect(widget.status).to.equal('ready');
    expect(widget.getAttribute('status')).to.equal('ready');
    expect(widget.expiresAt).to.be.greaterThan(Date.now());

    const vendor = widget.querySelector<HTMLElement>('demo-widget')!;
    expect(vendor.getAttribute('embed-token')).to.match(/^eyJ/);
    await until(() => vendor.dataset.state === 'ready', 'the vendor to verify its token');
    expect(vendor.textContent).to.contain('Community 42');
    expect(vendor.textContent).to.contain('u1');
  });

  it('stamps the template only once the token is on the vendor element', async () => {
    ProbeWidget.seen = [];
    const scope = await testScope();
    const widget = probeWidgetFor(scope.endpoint);
    expect(widget.querySelector('probe-widget')).to.equal(null);
    await nextEvent(widget, 'secure-widget-ready');
    expect(ProbeWidget.seen).to.have.length(1);
    expect(ProbeWidget.seen[0]!.token).to.match(/^eyJ/);
  });

  it('puts the token on a plain element child in place, and loads the bundle after it', async () => {
    const container = mount(`
      <secure-widget token-endpoint="${HOST_ENDPOINT}" bundle-url="${BUNDLE_URL}">
        <demo-widget community-id="7" data-user-id="plain"></demo-widget>
      </secure-widget>`);
    const widget = container.querySelector('secure-widget')!;
    const vendor = widget.querySelector<HTMLElement>('demo-widget')!;
    await nextEvent(widget, 'secure-widget-ready');
    expect(widget.querySelector('demo-widget')).to.equal(vendor);
    await until(() => vendor.dataset.state === 'ready', 'the vendor to verify its token');
  });

  it('loads the bundle once per URL, in parallel with a slow token request', async () => {
    const scope = await testScope({ delayMs: 400 });
    const url = `${BUNDLE_URL}?parallel`;
    const container = mount(
      [1, 2, 3]
        .map(
          (user) => `
        <secure-widget token-endpoint="${scope.endpoint}" bundle-url="${url}">
          <template><demo-widget community-id="1" data-user-id="p${user}"></demo-widget></template>
        </secure-widget>`,
        )
        .join(''),
    );
    const widgets = [...container.querySelectorAll('secure-widget')];
    // The first update asks for the token and the script together: no task has run since, so no answer is in.
    await Promise.all(widgets.map((widget) => widget.updateComplete));
    expect(scope.started()).to.equal(1);
    expect(
      [...document.scripts].some((script) => script.src === url),
      'the bundle requested',
    ).to.equal(true);
    expect(widgets.every((widget) => widget.status === 'loading')).to.equal(true);
    await Promise.all(widgets.map((widget) => nextEvent(widget, 'secure-widget-ready')));
    expect([...document.scripts].filter((script) => script.src === url)).to.have.length(1);
    expect(scope.started()).to.equal(1);
  });

  it('accepts every response shape of the contract', async () => {
    for (const respond of ['ok', 'token', 'data-envelope', 'text', 'opaque'] as const) {
      const scope = await testScope({ respond });
      const widget = probeWidgetFor(scope.endpoint);
      const token = await nextEvent(widget, 'secure-widget-token');
      expect(token.detail.source, respond).to.equal('endpoint');
      await nextEvent(widget, 'secure-widget-ready');
      const attribute = widget.querySelector('probe-widget')!.getAttribute('embed-token')!;
      expect(attribute, respond).to.match(respond === 'opaque' ? /^opaque-/ : /^eyJ[\w-]+\.[\w-]+\.[\w-]+$/);
      expect(widget.expiresAt, respond).to.be.a('number');
      widget.parentElement!.remove();
    }
  });

  it('orders its events like the platform: token, then ready', async () => {
    const scope = await testScope();
    const widget = probeWidgetFor(scope.endpoint);
    const log = recordEvents(widget, ['secure-widget-token', 'secure-widget-ready', 'secure-widget-error']);
    await nextEvent(widget, 'secure-widget-ready');
    expect(log.events.map((event) => event.type)).to.deep.equal(['secure-widget-token', 'secure-widget-ready']);
    expect(log.of('secure-widget-token')[0]!.bubbles).to.equal(true);
    expect(log.of('secure-widget-token')[0]!.composed).to.equal(true);
  });
});
