import { expect } from '@open-wc/testing';
import sinon from 'sinon';
import '../src/index.js';
import { resetPageState } from '../src/element/page-state.js';
import type { SecureWidget } from '../src/element/secure-widget.js';
import { cleanUpAfterEach, mount, nextEvent, nextTask, recordEvents, testScope, until } from './support/browser.js';

// The dev-mode api-key: handed to the vendor instead of a token only where it cannot hurt. This page runs
// on localhost (loopback); the off-loopback cases load a page at http://shop.example:PORT, which the test browser
// resolves to this machine (web-test-runner.config.mjs).

const later = cleanUpAfterEach();

class DevVendor extends HTMLElement {}
customElements.define('dev-vendor', DevVendor);

const SECRETS = [
  'sk_live_51HxYz',
  'sk_test_4eC39HqLyjWDarjtT1zdp7dc',
  'rk_live_abc123',
  'my-secret-key',
  '-----BEGIN PRIVATE KEY-----\nMIGH\n-----END PRIVATE KEY-----',
  // The shape of the demo host's access keys: 32 random bytes, base64url.
  'q2s0Zf9Ww1r8JtVb4yX6cN3mK7hL5pQaEoRdUiTsG_A',
];

function widget(attributes: string, vendor = '<dev-vendor></dev-vendor>'): SecureWidget {
  return mount(`<secure-widget ${attributes}><template>${vendor}</template></secure-widget>`).querySelector(
    'secure-widget',
  )!;
}

function spyOnConsole() {
  const messages: string[] = [];
  for (const level of ['log', 'info', 'warn', 'error', 'debug'] as const) {
    sinon.stub(console, level).callsFake((...args: unknown[]) => void messages.push(args.map(String).join(' ')));
  }
  return messages;
}

describe('api-key on a loopback page', () => {
  it('goes to the vendor as its api-key attribute, with one warning naming token-endpoint, no request', async () => {
    // A page where no widget has warned yet.
    resetPageState();
    const messages = spyOnConsole();
    const key = 'dev-key-7f3a9';
    const target = widget(`api-key="${key}"`);
    const log = recordEvents(target, ['secure-widget-token', 'secure-widget-error']);
    await nextEvent(target, 'secure-widget-ready');
    const vendor = target.querySelector(':scope > dev-vendor')!;
    expect(vendor.getAttribute('api-key')).to.equal(key);
    expect(vendor.hasAttribute('embed-token')).to.equal(false);
    expect(target.hasAttribute('api-key'), 'removed from <secure-widget> once read').to.equal(false);
    expect(target.apiKey).to.equal(null);
    expect(log.of('secure-widget-token').map((event) => event.detail)).to.deep.equal([
      { expiresAt: null, source: 'api-key' },
    ]);
    expect(log.of('secure-widget-error')).to.have.length(0);
    expect(
      messages.filter((message) => message.includes(key)),
      'the key is never printed',
    ).to.deep.equal([]);
    expect(messages).to.have.length(1);
    expect(messages[0]).to.match(/token-endpoint/);

    // One warning for the page, however many widgets.
    await nextEvent(widget('api-key="dev-key-second"'), 'secure-widget-ready');
    expect(messages).to.have.length(1);
  });

  it('goes into the config object as apiKey for a config-object vendor', async () => {
    const config: Record<string, unknown> = { domain: 'https://vendor.example' };
    Object.assign(globalThis, { devKeyConfig: config });
    later(() => delete (globalThis as Record<string, unknown>).devKeyConfig);
    const vendor = '<dev-vendor settings="devKeyConfig"></dev-vendor>';
    const target = widget('api-key="pk_test_abc" config-key="qvToken"', vendor);
    await nextEvent(target, 'secure-widget-ready');
    expect(config).to.deep.equal({ domain: 'https://vendor.example', apiKey: 'pk_test_abc' });
  });

  for (const key of SECRETS) {
    it(`a secret-looking key (${key.slice(0, 8)}…) is secret-key even here: nothing rendered or echoed`, async () => {
      const messages = spyOnConsole();
      const target = widget('');
      target.setAttribute('api-key', key);
      const error = (await nextEvent(target, 'secure-widget-error')).detail;
      expect(error).to.include({ code: 'secret-key', fatal: true });
      expect(error.message.includes(key)).to.equal(false);
      // The start that raised it is over, microtasks included: a stamp or a message would have come in it.
      await nextTask();
      expect(target.querySelector(':scope > dev-vendor')).to.equal(null);
      expect(target.status).to.equal('error');
      expect(messages.some((message) => message.includes(key))).to.equal(false);
    });
  }

  it('with a token-endpoint, the token wins: the key is ignored with a warning, never handed over', async () => {
    const messages = spyOnConsole();
    const scope = await testScope();
    const target = widget(`token-endpoint="${scope.endpoint}" api-key="dev-key-1"`);
    await nextEvent(target, 'secure-widget-ready');
    const vendor = target.querySelector(':scope > dev-vendor')!;
    expect(vendor.getAttribute('embed-token')).to.match(/^eyJ/);
    expect(vendor.hasAttribute('api-key')).to.equal(false);
    expect(scope.started()).to.equal(1);
    expect(messages.some((message) => message.includes('dev-key-1'))).to.equal(false);
  });

  it('with a token-endpoint, a secret-looking key is still secret-key: the page must lose it', async () => {
    const scope = await testScope();
    const target = widget(`token-endpoint="${scope.endpoint}" api-key="sk_live_zzz"`);
    expect((await nextEvent(target, 'secure-widget-error')).detail.code).to.equal('secret-key');
    // Raised by the start that would have made the request: that start is over, microtasks included.
    await nextTask();
    expect(scope.started()).to.equal(0);
  });
});

interface DevKeyReport {
  host: string;
  status: string;
  errors: { code: string; leaks: boolean }[];
  stamped: boolean;
  vendorHasKey: boolean;
  vendorHasToken: boolean;
  hostAttribute: boolean;
  warnings: number;
  warningsLeak: boolean;
}

/** Loads the dev-key page at http://shop.example:PORT (off loopback) and returns what it reported. */
async function offLoopback(key: string, withEndpoint = false): Promise<DevKeyReport> {
  const scope = await testScope();
  const name = scope.endpoint.split('/')[2]!;
  const query = new URLSearchParams({ scope: name, key, ...(withEndpoint && { endpoint: scope.endpoint }) });
  const frame = document.createElement('iframe');
  frame.src = `http://shop.example:${location.port}/test-pages/dev-key.html?${query}`;
  document.body.append(frame);
  let reports: DevKeyReport[] = [];
  await until(
    async () => {
      reports = await (await fetch(`/test-api/${name}/reports`, { cache: 'no-store' })).json();
      return reports.length > 0;
    },
    'the page to report',
    8_000,
  );
  frame.remove();
  return reports[0]!;
}

describe('api-key off loopback (a page at shop.example)', () => {
  it('a developer key is dev-key-remote: nothing rendered, nothing requested, nothing echoed', async () => {
    const report = await offLoopback('dev-key-7f3a9');
    expect(report.host).to.equal('shop.example');
    expect(report.errors).to.deep.equal([{ code: 'dev-key-remote', leaks: false }]);
    expect(report).to.include({ status: 'error', stamped: false, hostAttribute: false, warningsLeak: false });
  });

  it('a publishable pk_ key is used, without a warning', async () => {
    const report = await offLoopback('pk_live_51HxYzPublishable');
    expect(report.errors).to.deep.equal([]);
    expect(report).to.include({ status: 'ready', stamped: true, vendorHasKey: true, warnings: 0 });
  });

  it('a secret key is secret-key here too', async () => {
    const report = await offLoopback('sk_live_51HxYz');
    expect(report.errors).to.deep.equal([{ code: 'secret-key', leaks: false }]);
    expect(report.stamped).to.equal(false);
  });

  it('with a token-endpoint, the token wins', async () => {
    const report = await offLoopback('dev-key-7f3a9', true);
    expect(report.errors).to.deep.equal([]);
    expect(report).to.include({ status: 'ready', vendorHasToken: true, vendorHasKey: false, warningsLeak: false });
  });
});
