import { expect } from '@open-wc/testing';
import { until } from './support/browser.js';

/**
 * The demo page (index.html) as a visitor gets it: served with a server-rendered token by the test server (the same
 * injection as Vite's), loaded in a same-origin iframe so that its own scripts, fetch counter and log run untouched.
 */
const WIDGETS = ['widget-a', 'widget-b', 'widget-c'];
const SERVER_RENDERED = 'widget-c';

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

  before(async () => {
    frame = document.createElement('iframe');
    frame.style.cssText = 'width: 1024px; height: 900px; border: 0';
    frame.src = '/index.html';
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
    await until(
      () => WIDGETS.every((id) => widget(id).querySelector<HTMLElement>('demo-widget')?.dataset.state === 'ready'),
      'every vendor widget to show ready',
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
    // Three widgets, one endpoint: A and B share one request, C came with the page.
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
});
