import { expect } from '@open-wc/testing';
import sinon from 'sinon';
import '../src/index.js';
import type { SecureWidgetErrorDetail } from '../src/element/events.js';
import type { SecureWidget } from '../src/element/secure-widget.js';
import type { ScopeConfig } from './support/test-backend.js';
import { VENDOR, fakeClock, mount, nextEvent, testScope, until } from './support/browser.js';

let clock: sinon.SinonFakeTimers | undefined;
afterEach(() => {
  clock?.restore();
  clock = undefined;
  document.body.replaceChildren();
});

function widgetFor(attributes: string, inner = '<template><probe-widget></probe-widget></template>'): SecureWidget {
  return mount(`<secure-widget ${attributes}>${inner}</secure-widget>`).querySelector('secure-widget')!;
}

/** Mounts a widget whose endpoint answers as configured and returns its first error. */
async function firstError(config: ScopeConfig): Promise<{ widget: SecureWidget; detail: SecureWidgetErrorDetail }> {
  const scope = await testScope(config);
  const widget = widgetFor(`token-endpoint="${scope.endpoint}"`);
  const error = await nextEvent(widget, 'secure-widget-error');
  return { widget, detail: error.detail };
}

describe('reports every failure with a typed error', () => {
  const cases: [string, ScopeConfig, Partial<SecureWidgetErrorDetail>][] = [
    ['HTTP 401 (signed out)', { respond: 'status', status: 401 }, { code: 'endpoint-http', status: 401, fatal: true }],
    ['HTTP 403', { respond: 'status', status: 403 }, { code: 'endpoint-http', status: 403, fatal: true }],
    ['HTTP 404', { respond: 'status', status: 404 }, { code: 'endpoint-http', status: 404, fatal: true }],
    ['HTTP 500', { respond: 'status', status: 500 }, { code: 'endpoint-http', status: 500, fatal: false }],
    ['HTTP 503', { respond: 'status', status: 503 }, { code: 'endpoint-http', status: 503, fatal: false }],
    ['HTTP 429', { respond: 'status', status: 429 }, { code: 'endpoint-http', status: 429, fatal: false }],
    ['a dropped connection', { respond: 'network' }, { code: 'endpoint-network', fatal: false }],
    ['a body without a token', { respond: 'missing' }, { code: 'token-missing', fatal: true }],
    ['an HTML login page', { respond: 'html' }, { code: 'token-missing', fatal: true }],
    ['invalid JSON', { respond: 'bad-json' }, { code: 'token-missing', fatal: true }],
    ['a JWT that does not decode', { respond: 'malformed' }, { code: 'token-malformed', fatal: true }],
    ['a 40 KB "token"', { respond: 'oversize' }, { code: 'token-malformed', fatal: true }],
    ['a token expired by the server clock', { respond: 'expired' }, { code: 'token-expired', fatal: true }],
  ];
  for (const [name, config, expected] of cases) {
    it(`${expected.code} for ${name}`, async () => {
      const { widget, detail } = await firstError(config);
      expect(detail).to.include(expected);
      expect(detail.message).to.be.a('string').and.not.empty;
      await until(() => widget.status === 'error', 'status error');
      expect(widget.getAttribute('status')).to.equal('error');
      expect(widget.querySelector('probe-widget')).to.equal(null);
    });
  }

  it('a transient failure says when it retries', async () => {
    const { detail } = await firstError({ respond: 'status', status: 503, retryAfter: '30' });
    expect(detail.retryAt).to.be.a('number');
    expect(detail.retryAt! - Date.now()).to.be.within(25_000, 31_000);
  });

  it('endpoint-timeout after 10 s without an answer', async () => {
    clock = fakeClock();
    const scope = await testScope({ respond: 'hang' });
    const widget = widgetFor(`token-endpoint="${scope.endpoint}"`);
    const error = nextEvent(widget, 'secure-widget-error');
    await until(async () => (await scope.calls()) === 1, 'the request');
    clock.tick(9_999);
    expect(widget.status).to.equal('loading');
    clock.tick(1);
    expect((await error).detail).to.include({ code: 'endpoint-timeout', fatal: false });
  });

  it('bundle-load when the vendor script does not load', async () => {
    const scope = await testScope();
    const widget = widgetFor(`token-endpoint="${scope.endpoint}" bundle-url="${VENDOR}/no-such-script.js"`);
    const error = await nextEvent(widget, 'secure-widget-error');
    expect(error.detail).to.include({ code: 'bundle-load', fatal: true });
    expect(widget.status).to.equal('error');
  });

  it('stays usable: refresh() recovers once the endpoint answers again', async () => {
    const scope = await testScope({ respond: 'status', status: 401 });
    const widget = widgetFor(`token-endpoint="${scope.endpoint}"`);
    await nextEvent(widget, 'secure-widget-error');
    await scope.configure({});
    const ready = nextEvent(widget, 'secure-widget-ready');
    await widget.refresh();
    await ready;
    expect(widget.status).to.equal('ready');
    expect(widget.querySelector('probe-widget')!.getAttribute('embed-token')).to.match(/^eyJ/);
  });

  it('refresh() rejects with the typed error as well', async () => {
    const scope = await testScope({ respond: 'status', status: 403 });
    const widget = widgetFor(`token-endpoint="${scope.endpoint}"`);
    await nextEvent(widget, 'secure-widget-error');
    const error = await widget.refresh().then(
      () => null,
      (reason: unknown) => reason,
    );
    expect(error).to.be.instanceOf(Error);
    expect(error).to.include({ name: 'SecureWidgetError', code: 'endpoint-http', status: 403 });
  });
});

describe('refuses unsafe configuration before loading anything', () => {
  const rejected: [string, string][] = [
    ['a javascript: bundle-url', 'token-endpoint="/t" bundle-url="javascript:alert(1)"'],
    ['a data: bundle-url', 'token-endpoint="/t" bundle-url="data:text/javascript,alert(1)"'],
    ['plain http bundle-url off loopback', 'token-endpoint="/t" bundle-url="http://vendor.example/widget.js"'],
    ['plain http token-endpoint off loopback', 'token-endpoint="http://api.example/token"'],
    ['a blob: token-endpoint', 'token-endpoint="blob:https://x.example/abc"'],
    ['credentials in a URL', 'token-endpoint="/t" bundle-url="https://user:pass@vendor.example/w.js"'],
  ];
  for (const [name, attributes] of rejected) {
    it(`url-rejected for ${name}`, async () => {
      const requests = sinon.spy(window, 'fetch');
      try {
        const widget = widgetFor(attributes);
        const error = await nextEvent(widget, 'secure-widget-error');
        expect(error.detail).to.include({ code: 'url-rejected', fatal: true });
        expect(requests.callCount).to.equal(0);
        expect([...document.scripts].some((script) => /alert|vendor\.example/.test(script.src))).to.equal(false);
        expect(widget.status).to.equal('error');
      } finally {
        requests.restore();
      }
    });
  }

  it('config-invalid without any token source', async () => {
    const widget = widgetFor('');
    const error = await nextEvent(widget, 'secure-widget-error');
    expect(error.detail).to.include({ code: 'config-invalid', fatal: true });
  });

  it('config-invalid for a token-attribute that is an event handler', async () => {
    const widget = widgetFor('token-endpoint="/t" token-attribute="onclick"');
    const error = await nextEvent(widget, 'secure-widget-error');
    expect(error.detail).to.include({ code: 'config-invalid', fatal: true });
  });

  it('config-invalid when bundle mode has no vendor element', async () => {
    const scope = await testScope();
    const widget = widgetFor(`token-endpoint="${scope.endpoint}"`, '');
    const error = await nextEvent(widget, 'secure-widget-error');
    expect(error.detail).to.include({ code: 'config-invalid', fatal: true });
  });

  it('a vendor element added after the error still gets its token', async () => {
    const scope = await testScope();
    const widget = widgetFor(`token-endpoint="${scope.endpoint}"`, '');
    await nextEvent(widget, 'secure-widget-error');
    const ready = nextEvent(widget, 'secure-widget-ready');
    widget.innerHTML = '<template><probe-widget></probe-widget></template>';
    await ready;
    expect(widget.status).to.equal('ready');
  });

  // What each junk value reads as is test/config.test.ts's: here, that junk starts the widget rather than failing it.
  it('junk values still bring the widget to ready', async () => {
    const scope = await testScope();
    const widget = widgetFor(
      `token-endpoint="${scope.endpoint}" token-credentials="bogus" bundle-type="weird" refresh-margin="soon" token-scope="?"`,
    );
    await nextEvent(widget, 'secure-widget-ready');
  });
});
