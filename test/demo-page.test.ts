import { expect } from '@open-wc/testing';
import { until } from './support/browser.js';

/**
 * The demo page (index.html) as a visitor gets it: served with a server-rendered token by the test server (the same
 * injection as Vite's), loaded in a same-origin iframe so that its own scripts, fetch counter and log run untouched.
 */
const BUNDLE_WIDGETS = ['widget-a', 'widget-b', 'widget-c'];
/** The vendor's own page in a cross-origin iframe: only what the host sees of it can be checked (status, log, size). */
const IFRAME_WIDGET = 'widget-d';
/** The Qrvey-style widget: its token goes into the page's config object (config-key). */
const CONFIG_WIDGET = 'widget-e';
const WIDGETS = [...BUNDLE_WIDGETS, IFRAME_WIDGET, CONFIG_WIDGET];
const SERVER_RENDERED = 'widget-c';
/** The page's knob for the length of "Break the endpoint" (demo.ts): 2 s rather than 30, so the test stays short. */
const DEMO_PAGE = '/index.html?break-seconds=2';
const BREAK_ROUTE = '/api/demo/break-endpoint';

interface VendorWidget extends HTMLElement {
  readonly loadCount: number;
}

describe('the demo page', function () {
  // The page compiles the library and the demo on first load; a cold esbuild cache takes a few seconds.
  this.timeout(20_000);
  let frame: HTMLIFrameElement;
  let page: Document;

  const logEntries = (selector = '') => [...page.querySelectorAll<HTMLLIElement>(`#event-log li${selector}`)];
  const widget = (id: string) => page.getElementById(id)!;
  const timeline = (id: string) => page.querySelector<SVGSVGElement>(`svg[data-timeline="${id}"]`)!;
  const marks = (id: string, selector = '') => timeline(id).querySelectorAll(`.timeline__mark${selector}`);
  const button = (action: string) => page.querySelector<HTMLButtonElement>(`[data-action="${action}"]`)!;
  const statusLine = (field: string) => page.querySelector(`[data-field="${field}"]`)!.textContent ?? '';
  /** Every bundle widget's vendor element shows ready. */
  const vendorWidgetsReady = (what: string, timeout?: number) =>
    until(
      () =>
        BUNDLE_WIDGETS.every((id) => widget(id).querySelector<HTMLElement>('demo-widget')?.dataset.state === 'ready'),
      what,
      timeout,
    );

  before(async () => {
    frame = document.createElement('iframe');
    frame.style.cssText = 'width: 1024px; height: 900px; border: 0';
    frame.src = DEMO_PAGE;
    document.body.append(frame);
    // The frame holds an about:blank document, already complete, until the navigation commits.
    const loaded = () => {
      const doc = frame.contentDocument;
      return doc?.location.pathname === '/index.html' && doc.readyState === 'complete';
    };
    await until(loaded, 'the demo page to load', 15_000);
    page = frame.contentDocument!;
  });

  after(() => frame.remove());

  it('is served with a token in place of the placeholder', async () => {
    const html = await (await fetch('/index.html', { cache: 'no-store' })).text();
    expect(html).not.to.contain('%SERVER_RENDERED_TOKEN%');
    expect(html).to.match(/embed-token="eyJ[\w-]+\.[\w-]+\.[\w-]+"/);
  });

  it('brings every widget to ready, with the vendor widget rendered inside', async () => {
    expect(page.querySelectorAll('secure-widget')).to.have.length(WIDGETS.length);
    await until(
      () => WIDGETS.every((id) => widget(id).getAttribute('status') === 'ready'),
      'every <secure-widget> to be ready',
      10_000,
    );
    await vendorWidgetsReady('every vendor widget to show ready', 10_000);
    await until(
      () => widget(CONFIG_WIDGET).querySelector<HTMLElement>('demo-config-widget')?.dataset.state === 'ready',
      'the config-object widget to show ready',
      10_000,
    );
    for (const id of WIDGETS) {
      expect(page.querySelector(`[data-widget="${id}"] [data-field=status]`)?.textContent).to.equal('ready');
      expect(page.querySelector(`[data-widget="${id}"] [data-field=countdown]`)?.textContent).to.match(/^\d+:\d\d$/);
    }
  });

  it('renders the server-rendered widget with the token from the markup, not from a request', async () => {
    await until(() => logEntries(`[data-kind=token][data-widget=${SERVER_RENDERED}]`).length > 0, 'a token event');
    // Newest first: the last entry is the widget's first token.
    const first = logEntries(`[data-kind=token][data-widget=${SERVER_RENDERED}]`).at(-1)!;
    expect(first.textContent).to.contain('source: markup');
    // The element took the token out of the DOM once it had read it.
    expect(widget(SERVER_RENDERED).hasAttribute('embed-token')).to.equal(false);
    // Four widgets, one endpoint: A, B and D share one request (if any), C came with the page.
    expect(Number(page.getElementById('request-count')!.textContent)).to.be.at.most(1);
  });

  it('logs the events of every widget, and never a token', async () => {
    await until(
      () => WIDGETS.every((id) => logEntries(`[data-kind=ready][data-widget=${id}]`).length === 1),
      'a ready entry for every widget',
    );
    expect(logEntries().length).to.be.at.least(WIDGETS.length * 2);
    for (const entry of logEntries()) expect(entry.textContent).not.to.match(/eyJ|\w+\.\w+\.\w{20,}/);
  });

  it('shows the iframe widget: ready in iframe mode, its frame sized to the vendor page', async () => {
    await until(
      () => logEntries(`[data-kind=ready][data-widget=${IFRAME_WIDGET}]`).length > 0,
      'a ready entry for the iframe widget',
      10_000,
    );
    expect(logEntries(`[data-kind=ready][data-widget=${IFRAME_WIDGET}]`)[0].textContent).to.contain('mode: iframe');
    for (const id of BUNDLE_WIDGETS) {
      expect(logEntries(`[data-kind=ready][data-widget=${id}]`)[0].textContent).to.contain('mode: bundle');
    }
    expect(widget(IFRAME_WIDGET).getAttribute('status')).to.equal('ready');

    const frame = widget(IFRAME_WIDGET).shadowRoot!.querySelector('iframe')!;
    expect(frame.title).to.equal('Store (iframe)');
    // The vendor follows the page's port (the runner's), and nothing but display parameters is in the frame's URL.
    expect(new URL(frame.src).host).to.equal(`127.0.0.1:${location.port}`);
    expect(frame.src).not.to.match(/eyJ|token/i);
    // The height comes from the vendor page's resize messages (the element sets it inline), not the 150px default.
    // Chromium does not render a cross-origin frame out of view (no ResizeObserver, so no resize message): bring it
    // into view first, as a visitor scrolling down to it would.
    widget(IFRAME_WIDGET).scrollIntoView({ block: 'center' });
    await until(() => parseFloat(frame.style.height) > 0, "the frame's height from the vendor page");
    expect(frame.getBoundingClientRect().height).to.be.greaterThan(0);
    expect(frame.getBoundingClientRect().height).to.equal(parseFloat(frame.style.height));
  });

  it('"Refresh now" fetches a new token and reloads the widget', async () => {
    const counter = page.getElementById('request-count')!;
    const requestsBefore = Number(counter.textContent);
    const vendor = widget('widget-a').querySelector<VendorWidget>('demo-widget')!;
    const loads = vendor.loadCount;
    page.querySelector<HTMLButtonElement>('[data-widget="widget-a"] [data-action=refresh]')!.click();
    await until(
      () =>
        logEntries('[data-kind=reload][data-widget=widget-a]').some((entry) =>
          entry.textContent!.includes('reason: manual'),
        ),
      'a manual reload in the log',
    );
    expect(Number(counter.textContent)).to.equal(requestsBefore + 1);
    expect(widget('widget-a').querySelector<VendorWidget>('demo-widget')!.loadCount).to.be.greaterThan(loads);
    await until(
      () => widget('widget-a').querySelector<HTMLElement>('demo-widget')?.dataset.state === 'ready',
      'the vendor widget to show ready again',
    );
    expect(logEntries('[data-kind=refresh]')).to.have.length(0);
  });

  it('draws a timeline for every widget, with a mark for each of its events', async () => {
    await until(
      () =>
        WIDGETS.every((id) => marks(id, '[data-kind=token]').length > 0 && marks(id, '[data-kind=ready]').length > 0),
      'a token and a ready mark on every timeline',
    );
    for (const id of WIDGETS) {
      const svg = timeline(id);
      expect(svg.getAttribute('role')).to.equal('img');
      // Its name and its summary in words, for whoever cannot see the marks.
      const [titleId, descId] = svg.getAttribute('aria-labelledby')!.split(' ');
      expect(page.getElementById(titleId!)!.textContent).to.match(/^Widget [A-E]: the element's events/);
      expect(page.getElementById(descId!)!.textContent).to.match(/tokens .* ready/);
      // Each mark tells its event on hover, never a token.
      for (const mark of marks(id)) expect(mark.querySelector('title')!.textContent).not.to.match(/eyJ/);
    }
    // Widget A's manual reload (the test above) is on its timeline.
    expect(marks('widget-a', '[data-shape=reload]').length).to.be.at.least(1);
  });

  it('answers the break route with JSON, and refuses what it does not offer', async () => {
    const state = await fetch(BREAK_ROUTE);
    expect(state.status).to.equal(200);
    expect(await state.json()).to.deep.equal({
      broken: false,
      secondsLeft: 0,
      endpoints: ['/api/widget-token', '/api/qrvey-token'],
    });
    for (const seconds of ['0', '31', '2.5', 'x']) {
      const refused = await fetch(`${BREAK_ROUTE}?seconds=${seconds}`, { method: 'POST' });
      expect(refused.status, `seconds=${seconds}`).to.equal(400);
      expect(((await refused.json()) as { error: { code: string } }).error.code).to.equal('bad-request');
    }
    expect((await fetch(BREAK_ROUTE, { method: 'PUT' })).status).to.equal(405);
  });

  it('"Break the endpoint" and "Vendor fires expiry now": every widget waits, retries and is ready again', async () => {
    button('break-endpoint').click();
    await until(() => statusLine('break-endpoint').includes('503'), 'the break to begin');
    expect(button('break-endpoint').disabled).to.equal(true);
    // The page's real token endpoint is broken, in the token handler's error shape.
    const broken = await fetch('/api/widget-token', { headers: { Accept: 'application/json' } });
    expect(broken.status).to.equal(503);
    expect(((await broken.json()) as { error: { code: string } }).error.code).to.equal('demo-endpoint-broken');

    const reloadsBefore = new Map(WIDGETS.map((id) => [id, expiryReloads(id)]));
    button('fire-expiry').click();
    // Every vendor widget fired its expiry event (bundle and config widgets here, the iframe widget on the vendor's
    // origin through its relay) and had to wait: the endpoint answered 503, and the element retried.
    await until(
      () =>
        logEntries('[data-kind=error]').some((entry) => /endpoint-http.*HTTP 503.*transient/.test(entry.textContent!)),
      'a 503 in the log',
    );
    expect(WIDGETS.some((id) => widget(id).getAttribute('status') !== 'ready')).to.equal(true);
    await until(
      () =>
        WIDGETS.every(
          (id) => expiryReloads(id) > reloadsBefore.get(id)! && widget(id).getAttribute('status') === 'ready',
        ),
      'every widget reloaded after its expiry, and ready',
      15_000,
    );
    await vendorWidgetsReady('every vendor widget to show ready again');
    await until(() => statusLine('fire-expiry').includes('ready again'), 'the button to report the recovery');
    await until(() => statusLine('break-endpoint').includes('answer again'), 'the break to end by itself', 5_000);
    expect(button('break-endpoint').disabled).to.equal(false);
    // The timelines tell the same story.
    for (const id of WIDGETS) expect(marks(id, '[data-shape=expiry]').length, id).to.be.at.least(1);
    expect(WIDGETS.some((id) => marks(id, '[data-kind=error]').length > 0)).to.equal(true);
    expect(logEntries('[data-kind=refresh]')).to.have.length(0);
  });

  const expiryReloads = (id: string) =>
    logEntries(`[data-kind=reload][data-widget=${id}]`).filter((entry) =>
      entry.textContent!.includes('reason: expired'),
    ).length;
});
