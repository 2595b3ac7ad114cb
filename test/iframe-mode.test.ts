import { expect } from '@open-wc/testing';
import sinon from 'sinon';
import '../src/index.js';
import type { SecureWidget } from '../src/element/secure-widget.js';
import { fakeClock, fakeTime, mount, nextEvent, pause, recordEvents, testScope, until, type TestScope } from './support/browser.js';

interface Report {
  origin: string;
  mode: string;
  loaded?: boolean;
  window?: 'connect' | 'message';
  from?: string;
  ports?: number;
  leaked?: boolean;
  port?: string;
  tokenLength?: number;
}

const PORT = location.port;
/** The vendor's origin (the frame's src), another origin than this page's, and a third one. */
const VENDOR_ORIGIN = `http://127.0.0.1:${PORT}`;
const OTHER_ORIGIN = `http://127.0.0.2:${PORT}`;

function probeUrl(scope: TestScope, mode: string, origin = VENDOR_ORIGIN, extra = ''): string {
  const name = scope.endpoint.split('/')[2];
  return `${origin}/test-pages/frame-probe.html?scope=${name}&host=${encodeURIComponent(location.origin)}&mode=${mode}${extra}`;
}

async function reports(scope: TestScope): Promise<Report[]> {
  const base = scope.endpoint.replace(/\/token$/, '');
  return (await fetch(`${base}/reports`, { cache: 'no-store' }).then((response) => response.json())) as Report[];
}

function iframeWidget(scope: TestScope, src: string, attributes = ''): SecureWidget {
  return mount(`<secure-widget token-endpoint="${scope.endpoint}" src="${src}" ${attributes}></secure-widget>`).querySelector(
    'secure-widget',
  )!;
}

const frameOf = (widget: SecureWidget) => widget.shadowRoot!.querySelector('iframe')!;

afterEach(() => {
  sinon.restore();
  document.body.replaceChildren();
});

describe('iframe mode: the frame and its attributes', () => {
  it('renders a sandboxed iframe in the shadow root, with the documented defaults and no token anywhere in it', async () => {
    const scope = await testScope();
    const widget = iframeWidget(scope, probeUrl(scope, 'hello'));
    await nextEvent(widget, 'secure-widget-ready');
    const frame = frameOf(widget);
    expect(frame.getAttribute('sandbox')).to.equal('allow-scripts allow-same-origin allow-forms allow-popups');
    expect(frame.referrerPolicy).to.equal('strict-origin-when-cross-origin');
    expect(frame.title).to.equal('Embedded widget');
    expect(frame.src).to.equal(probeUrl(scope, 'hello'));
    expect(frame.name).to.equal('');
    expect(widget.querySelector('iframe') === null, 'not in the light DOM').to.equal(true);
    const entries = performance.getEntriesByType('resource').map((entry) => entry.name);
    expect(entries.some((name) => name.includes('eyJ'))).to.equal(false);
    expect(frame.src.includes('eyJ') || frame.outerHTML.includes('eyJ')).to.equal(false);
  });

  it('takes sandbox, allow, title, referrerpolicy, height and width from the element', async () => {
    const scope = await testScope();
    const widget = iframeWidget(
      scope,
      probeUrl(scope, 'silent'),
      'sandbox="allow-scripts" allow="clipboard-write" title="Store" referrerpolicy="no-referrer" height="320" width="50%"',
    );
    await widget.updateComplete;
    const frame = frameOf(widget);
    expect(frame.getAttribute('sandbox')).to.equal('allow-scripts');
    expect(frame.getAttribute('allow')).to.equal('clipboard-write');
    expect(frame.title).to.equal('Store');
    expect(frame.referrerPolicy).to.equal('no-referrer');
    expect(frame.style.height).to.equal('320px');
    expect(frame.style.width).to.equal('50%');
  });

  it('refuses a same-origin src whose sandbox allows scripts and same-origin (it could unsandbox itself)', async () => {
    const scope = await testScope();
    const widget = iframeWidget(scope, `/test-pages/frame-probe.html?scope=x`);
    const error = await nextEvent(widget, 'secure-widget-error');
    expect(error.detail).to.include({ code: 'config-invalid', fatal: true });
    expect(frameOf(widget) === null, 'no iframe').to.equal(true);
  });

  it('url-rejected for a src that fails the URL policy, and no iframe', async () => {
    const scope = await testScope();
    for (const src of ['javascript:alert(1)', 'http://vendor.example/widget', 'data:text/html,hi']) {
      const widget = iframeWidget(scope, src);
      const error = await nextEvent(widget, 'secure-widget-error');
      expect(error.detail.code, src).to.equal('url-rejected');
      expect(frameOf(widget) === null, `no iframe for ${src}`).to.equal(true);
    }
  });
});

describe('iframe mode: the handshake', () => {
  it('answers the hello of its own frame with a port, and sends the token over it', async () => {
    const scope = await testScope();
    const widget = iframeWidget(scope, probeUrl(scope, 'hello'));
    const ready = await nextEvent(widget, 'secure-widget-ready');
    expect(ready.detail).to.deep.equal({ mode: 'iframe' });
    await until(async () => (await reports(scope)).some((report) => report.port === 'token'), 'the token report');
    const seen = await reports(scope);
    const connects = seen.filter((report) => report.window === 'connect');
    expect(connects).to.have.length(1);
    expect(connects[0]).to.include({ from: location.origin, ports: 1, leaked: false });
    const tokens = seen.filter((report) => report.port === 'token');
    expect(tokens).to.have.length(1);
    expect(tokens[0]!.tokenLength).to.be.greaterThan(100);
    expect(widget.status).to.equal('ready');
  });

  it('ignores a hello from the right window but another origin (a frame navigated elsewhere)', async () => {
    const scope = await testScope();
    const elsewhere = probeUrl(scope, 'hello', OTHER_ORIGIN);
    const widget = iframeWidget(scope, probeUrl(scope, 'navigate', VENDOR_ORIGIN, `&to=${encodeURIComponent(elsewhere)}`));
    const log = recordEvents(widget, ['secure-widget-ready', 'secure-widget-token']);
    await until(async () => (await reports(scope)).some((report) => report.origin === OTHER_ORIGIN), 'the other page');
    await pause(200);
    const seen = await reports(scope);
    expect(seen.filter((report) => report.window)).to.deep.equal([]);
    expect(log.of('secure-widget-ready')).to.have.length(0);
  });

  it('ignores a hello from the right origin but another window (a second frame of the vendor)', async () => {
    const scope = await testScope();
    const widget = iframeWidget(scope, probeUrl(scope, 'silent'));
    const sibling = document.createElement('iframe');
    sibling.src = probeUrl(scope, 'hello');
    document.body.append(sibling);
    await until(async () => (await reports(scope)).filter((report) => report.loaded).length === 2, 'both frames');
    await pause(200);
    expect((await reports(scope)).filter((report) => report.window)).to.deep.equal([]);
    expect(widget.status).to.equal('loading');
  });

  it('a sibling frame of the vendor listening on its window hears nothing, and no token', async () => {
    const scope = await testScope();
    const sibling = document.createElement('iframe');
    sibling.src = probeUrl(scope, 'listen');
    document.body.append(sibling);
    const widget = iframeWidget(scope, probeUrl(scope, 'hello'));
    await nextEvent(widget, 'secure-widget-ready');
    await widget.refresh();
    await until(
      async () => (await reports(scope)).filter((report) => report.port === 'token').length === 2,
      'both tokens reported',
    );
    await pause(100);
    const seen = await reports(scope);
    const siblingSaw = seen.filter((report) => report.mode === 'listen' && report.window);
    expect(siblingSaw).to.deep.equal([]);
    expect(seen.filter((report) => report.port === 'token')).to.have.length(2);
  });

  it('ignores a replayed hello from the same page: one port', async () => {
    const scope = await testScope();
    const widget = iframeWidget(scope, probeUrl(scope, 'replay'));
    await nextEvent(widget, 'secure-widget-ready');
    await until(async () => (await reports(scope)).some((report) => report.port === 'token'), 'the token report');
    await pause(200);
    const seen = await reports(scope);
    expect(seen.filter((report) => report.window === 'connect')).to.have.length(1);
    expect(seen.filter((report) => report.port === 'token')).to.have.length(1);
  });

  it('a reloaded frame says hello again and gets a new port with the token', async () => {
    const scope = await testScope();
    const widget = iframeWidget(scope, probeUrl(scope, 'hello'));
    await nextEvent(widget, 'secure-widget-ready');
    const frame = frameOf(widget);
    frame.src = `${frame.src}&again`;
    await until(
      async () => (await reports(scope)).filter((report) => report.port === 'token').length === 2,
      'the token on the new port',
    );
    expect((await reports(scope)).filter((report) => report.window === 'connect')).to.have.length(2);
    expect(widget.status).to.equal('ready');
  });

  it('ignores malformed and oversized messages, before and after the handshake, and keeps working', async () => {
    const scope = await testScope();
    const widget = iframeWidget(scope, probeUrl(scope, 'malformed'));
    const log = recordEvents(widget, ['secure-widget-error', 'secure-widget-reload']);
    await nextEvent(widget, 'secure-widget-ready');
    await until(() => frameOf(widget).style.height === '333px', 'the one valid resize');
    const seen = await reports(scope);
    expect(seen.filter((report) => report.window === 'connect')).to.have.length(1);
    expect(log.events).to.have.length(0);
    expect(widget.status).to.equal('ready');
  });

  it('frame-timeout when no hello comes within 10 s; a late hello still connects', async () => {
    const clock = fakeClock();
    try {
      const scope = await testScope();
      const widget = iframeWidget(scope, probeUrl(scope, 'silent'));
      const error = nextEvent(widget, 'secure-widget-error');
      await until(async () => (await reports(scope)).some((report) => report.loaded), 'the silent page');
      clock.tick(9_999);
      expect(widget.status).to.equal('loading');
      clock.tick(1);
      expect((await error).detail).to.include({ code: 'frame-timeout', fatal: false });
      expect(widget.status).to.equal('error');
      const ready = nextEvent(widget, 'secure-widget-ready');
      frameOf(widget).src = probeUrl(scope, 'hello');
      await ready;
      expect(widget.status).to.equal('ready');
    } finally {
      clock.restore();
    }
  });
});

describe('iframe mode: the protocol over the port', () => {
  it('delivers the token fetched ahead of expiry to the frame before the current one expires', async () => {
    const scope = await testScope({ ttlSeconds: 60 });
    const time = fakeTime(scope);
    try {
      await time.configure({ ttlSeconds: 60 });
      const widget = iframeWidget(scope, probeUrl(scope, 'hello'), 'refresh-margin="10"');
      await nextEvent(widget, 'secure-widget-ready');
      await time.advance(49_000);
      await pause(50);
      expect((await reports(scope)).filter((report) => report.port === 'token')).to.have.length(1);
      await time.advance(2_000);
      await until(
        async () => (await reports(scope)).filter((report) => report.port === 'token').length === 2,
        'the prefetched token at the frame',
      );
      expect(await scope.calls()).to.equal(2);
      expect((await reports(scope)).some((report) => report.port === 'reload')).to.equal(false);
    } finally {
      time.clock.restore();
    }
  });

  it('the frame saying expired gets the next token and a reload', async () => {
    const scope = await testScope();
    const widget = iframeWidget(scope, probeUrl(scope, 'expire'));
    const log = recordEvents(widget, ['secure-widget-reload', 'secure-widget-token']);
    await nextEvent(widget, 'secure-widget-ready');
    const reload = await nextEvent(widget, 'secure-widget-reload');
    expect(reload.detail.reason).to.equal('expired');
    expect(await scope.calls()).to.equal(2);
    await until(async () => (await reports(scope)).some((report) => report.port === 'reload'), 'the reload report');
    const seen = await reports(scope);
    expect(seen.filter((report) => report.port).map((report) => report.port)).to.deep.equal([
      'token',
      'token',
      'reload',
    ]);
    expect(log.of('secure-widget-token')).to.have.length(2);
  });

  it("follows the frame's height", async () => {
    const scope = await testScope();
    const widget = iframeWidget(scope, probeUrl(scope, 'sized'));
    await nextEvent(widget, 'secure-widget-ready');
    await until(() => frameOf(widget).style.height === '420px', 'the frame height');
  });

  it('auto-height settles when the content grows with the frame (no feedback loop)', async () => {
    const scope = await testScope();
    const widget = iframeWidget(scope, probeUrl(scope, 'grow'));
    await nextEvent(widget, 'secure-widget-ready');
    await pause(1_500);
    const settled = frameOf(widget).style.height;
    await pause(500);
    expect(frameOf(widget).style.height).to.equal(settled);
    expect(parseFloat(settled)).to.be.at.most(10_000);
    expect(widget.status).to.equal('ready');
  });

  it('a fixed height attribute is never changed by resize messages', async () => {
    const scope = await testScope();
    const widget = iframeWidget(scope, probeUrl(scope, 'sized'), 'height="200"');
    await nextEvent(widget, 'secure-widget-ready');
    await pause(200);
    expect(frameOf(widget).style.height).to.equal('200px');
  });
});

describe('iframe mode: cleanup', () => {
  // (Assertions here compare booleans: a failing chai message that inspects an iframe holding a cross-origin window
  // takes the test page down.)
  it('a removed widget stops waiting for the hello: no frame-timeout after it is gone', async () => {
    const clock = fakeClock();
    try {
      const scope = await testScope();
      const widget = iframeWidget(scope, probeUrl(scope, 'silent'));
      const log = recordEvents(widget, ['secure-widget-error']);
      await widget.updateComplete;
      widget.remove();
      await pause(0);
      clock.tick(20_000);
      expect(log.events.length).to.equal(0);
      expect(clock.countTimers()).to.equal(0);
    } finally {
      clock.restore();
    }
  });

  it('a widget put back gets a new frame and connects again', async () => {
    const scope = await testScope();
    const widget = iframeWidget(scope, probeUrl(scope, 'hello'));
    await nextEvent(widget, 'secure-widget-ready');
    const parent = widget.parentElement!;
    widget.remove();
    await pause(0);
    const ready = nextEvent(widget, 'secure-widget-ready');
    parent.append(widget);
    await ready;
    await until(
      async () => (await reports(scope)).filter((report) => report.window === 'connect').length === 2,
      'a second connect',
    );
    expect(widget.shadowRoot!.querySelectorAll('iframe').length).to.equal(1);
  });
});
