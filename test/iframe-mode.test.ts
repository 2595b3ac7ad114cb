import { expect } from '@open-wc/testing';
import sinon from 'sinon';
import '../src/index.js';
import type { SecureWidget } from '../src/element/secure-widget.js';
import { HELLO } from '../src/protocol/messages.js';
import {
  fakeClock,
  fakeTime,
  mount,
  nextEvent,
  nextTask,
  overhearPorts,
  probeCaughtUp,
  probeReports,
  recordEvents,
  testScope,
  until,
  type ProbeReport,
  type TestScope,
} from './support/browser.js';

interface Report extends ProbeReport {
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

const reports = (scope: TestScope) => probeReports<Report>(scope);

function iframeWidget(scope: TestScope, src: string, attributes = ''): SecureWidget {
  return mount(
    `<secure-widget token-endpoint="${scope.endpoint}" src="${src}" ${attributes}></secure-widget>`,
  ).querySelector('secure-widget')!;
}

const frameOf = (widget: SecureWidget) => widget.shadowRoot!.querySelector('iframe')!;

/**
 * Resolves once this page has heard `count` hellos from `source()`, a task later: every listener of the page (the
 * element's) has had each of them, and posted whatever it answers.
 */
function heardHellos(source: () => MessageEventSource | null, count = 1): Promise<void> {
  return new Promise((resolve) => {
    let heard = 0;
    const listener = (event: MessageEvent) => {
      if (event.source === null || event.source !== source() || (event.data as { type?: unknown })?.type !== HELLO)
        return;
      heard += 1;
      if (heard < count) return;
      window.removeEventListener('message', listener);
      void nextTask().then(resolve);
    };
    window.addEventListener('message', listener);
  });
}

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
    const widget = iframeWidget(
      scope,
      probeUrl(scope, 'navigate', VENDOR_ORIGIN, `&to=${encodeURIComponent(elsewhere)}`),
    );
    const log = recordEvents(widget, ['secure-widget-ready', 'secure-widget-token']);
    await widget.updateComplete;
    const frame = frameOf(widget);
    await heardHellos(() => frame.contentWindow);
    await probeCaughtUp(scope, frame.contentWindow!);
    const seen = await reports(scope);
    expect(
      seen.some((report) => report.origin === OTHER_ORIGIN),
      'the other page',
    ).to.equal(true);
    expect(seen.filter((report) => report.window)).to.deep.equal([]);
    expect(log.of('secure-widget-ready')).to.have.length(0);
  });

  it('ignores a hello from the right origin but another window (a second frame of the vendor)', async () => {
    const scope = await testScope();
    const widget = iframeWidget(scope, probeUrl(scope, 'silent'));
    // The widget's own frame is loaded first: a connect posted to it would be heard.
    await until(async () => (await reports(scope)).some((report) => report.loaded), "the widget's frame");
    const sibling = document.createElement('iframe');
    sibling.src = probeUrl(scope, 'hello');
    const hello = heardHellos(() => sibling.contentWindow);
    document.body.append(sibling);
    await hello;
    // Whichever window a connect would have gone to, it would be in the reports before the marker.
    await probeCaughtUp(scope, sibling.contentWindow!);
    await probeCaughtUp(scope, frameOf(widget).contentWindow!);
    expect((await reports(scope)).filter((report) => report.window)).to.deep.equal([]);
    expect(widget.status).to.equal('loading');
  });

  it('a sibling frame of the vendor listening on its window hears nothing, and no token', async () => {
    const scope = await testScope();
    const sibling = document.createElement('iframe');
    sibling.src = probeUrl(scope, 'listen');
    document.body.append(sibling);
    // Listening before the widget's frame says hello.
    await until(async () => (await reports(scope)).some((report) => report.loaded), 'the sibling');
    const widget = iframeWidget(scope, probeUrl(scope, 'hello'));
    await nextEvent(widget, 'secure-widget-ready');
    await widget.refresh();
    await until(
      async () => (await reports(scope)).filter((report) => report.port === 'token').length === 2,
      'both tokens reported',
    );
    await probeCaughtUp(scope, sibling.contentWindow!);
    const seen = await reports(scope);
    const siblingSaw = seen.filter((report) => report.mode === 'listen' && report.window);
    expect(siblingSaw).to.deep.equal([]);
    expect(seen.filter((report) => report.port === 'token')).to.have.length(2);
  });

  it('ignores a replayed hello from the same page: one port', async () => {
    const scope = await testScope();
    const widget = iframeWidget(scope, probeUrl(scope, 'replay'));
    await widget.updateComplete;
    const frame = frameOf(widget);
    const replayed = heardHellos(() => frame.contentWindow, 2);
    await nextEvent(widget, 'secure-widget-ready');
    await until(async () => (await reports(scope)).some((report) => report.port === 'token'), 'the token report');
    await replayed;
    await probeCaughtUp(scope, frame.contentWindow!);
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
    await probeCaughtUp(scope, frameOf(widget).contentWindow!);
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
      // No second request, so no second token for the frame.
      expect(scope.started()).to.equal(1);
      await probeCaughtUp(scope, frameOf(widget).contentWindow!);
      expect((await reports(scope)).filter((report) => report.port === 'token')).to.have.length(1);
      await time.advance(2_000);
      expect(scope.started()).to.equal(2);
      await until(
        async () => (await reports(scope)).filter((report) => report.port === 'token').length === 2,
        'the prefetched token at the frame',
      );
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
    expect(scope.started()).to.equal(2);
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
    // The loop is told by its rate (more than 20 changes within a second, iframe-embed.ts): on a fake clock every
    // change falls within the same second, however slow the machine.
    const clock = fakeClock();
    const heights: string[] = [];
    let refused = false;
    let frame: HTMLIFrameElement | undefined;
    // Once the host has kept its height against a frame asking for more, the frame sees no resize: the loop is over.
    const stopOverhearing = overhearPorts((data) => {
      const { type, height } = data as { type?: unknown; height?: unknown };
      if (frame && type === 'resize' && typeof height === 'number' && height > (parseFloat(frame.style.height) || 0)) {
        refused = true;
      }
    });
    try {
      const scope = await testScope();
      const widget = iframeWidget(scope, probeUrl(scope, 'grow'));
      await widget.updateComplete;
      frame = frameOf(widget);
      const observer = new MutationObserver(() => heights.push(frame!.style.height));
      observer.observe(frame, { attributes: true, attributeFilter: ['style'] });
      await nextEvent(widget, 'secure-widget-ready');
      await until(() => refused, 'a height the host refused');
      observer.disconnect();
      // Stopped by the rate, not by the ceiling of 10,000 px.
      expect(heights.length, `heights ${heights.join(' ')}`).to.be.within(1, 21);
      expect(parseFloat(frame.style.height)).to.be.at.most(10_000);
      expect(widget.status).to.equal('ready');
    } finally {
      stopOverhearing();
      clock.restore();
    }
  });

  it('a fixed height attribute is never changed by resize messages', async () => {
    const scope = await testScope();
    const widget = iframeWidget(scope, probeUrl(scope, 'sized'), 'height="200"');
    // The probe asks for its height just before it says ready, over the same port: the host has handled it by then.
    await nextEvent(widget, 'secure-widget-ready');
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
      // Teardown waits a microtask (a move is not a removal): it has run in a later task.
      await nextTask();
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
    await nextTask();
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
