import { expect } from '@open-wc/testing';
import '../src/index.js';
import type { SecureWidget } from '../src/element/secure-widget.js';
import { cleanUpAfterEach, mount, nextEvent, nextTask, recordEvents, testScope } from './support/browser.js';

// Config-object vendors (Qrvey style) and the applyToken hook (issue 11), against local vendor elements; the
// reference vendor's Qrvey-style widget runs end to end in test/config-vendor.test.ts.

const later = cleanUpAfterEach();

/** A Qrvey-style vendor: reads `window[settings].qvToken` when connected and on reload(). */
class ConfigVendor extends HTMLElement {
  seen: unknown[] = [];
  connectedCallback() {
    this.seen.push(this.#config()?.qvToken);
  }
  reload() {
    this.seen.push(this.#config()?.qvToken);
  }
  #config() {
    const name = this.getAttribute('settings') ?? '';
    return (globalThis as unknown as Record<string, Record<string, unknown> | undefined>)[name];
  }
}
customElements.define('config-vendor', ConfigVendor);

function globalConfig(name: string, value: unknown): void {
  Object.assign(globalThis, { [name]: value });
  later(() => delete (globalThis as Record<string, unknown>)[name]);
}

function widget(attributes: string, settings: string): SecureWidget {
  return mount(`<secure-widget ${attributes}>
    <template><config-vendor settings="${settings}"></config-vendor></template></secure-widget>`).querySelector(
    'secure-widget',
  )!;
}

const rejected = () => new CustomEvent('qv-token-expired', { bubbles: true, composed: true });

describe('config-key: the token goes into the config object the vendor element names', () => {
  it('goes in before the vendor is stamped and again on each new token; reload works as for attribute vendors', async () => {
    const config: Record<string, unknown> = { domain: 'https://vendor.example' };
    globalConfig('qvTestConfig', config);
    const scope = await testScope();
    const attributes = `token-endpoint="${scope.endpoint}" config-key="qvToken" expiry-event="qv-token-expired"`;
    const target = widget(attributes, 'qvTestConfig');
    const log = recordEvents(target, ['secure-widget-reload']);
    await nextEvent(target, 'secure-widget-ready');
    const vendor = target.querySelector<ConfigVendor>(':scope > config-vendor')!;
    const first = config.qvToken as string;
    expect(first).to.match(/^eyJ/);
    expect(vendor.seen, 'the vendor never saw its config without a token').to.deep.equal([first]);
    expect(vendor.hasAttribute('embed-token')).to.equal(false);
    expect(config.domain).to.equal('https://vendor.example');

    await target.refresh();
    const second = config.qvToken as string;
    expect(second).to.not.equal(first);
    expect(vendor.seen).to.deep.equal([first, second]);
    vendor.dispatchEvent(rejected());
    await nextEvent(target, 'secure-widget-reload');
    expect(vendor.seen.at(-1)).to.equal(config.qvToken);
    expect(vendor.seen.at(-1)).to.not.equal(second);
    expect(log.events).to.have.length(2);
  });

  it('makes a plain object for the page when the named global does not exist yet', async () => {
    later(() => delete (globalThis as Record<string, unknown>).qvMadeForThePage);
    const scope = await testScope();
    const target = widget(`token-endpoint="${scope.endpoint}" config-key="qvToken"`, 'qvMadeForThePage');
    await nextEvent(target, 'secure-widget-ready');
    const made = (globalThis as Record<string, unknown>).qvMadeForThePage as Record<string, unknown>;
    expect(Object.getPrototypeOf(made)).to.equal(Object.prototype);
    expect(made.qvToken).to.match(/^eyJ/);
  });

  const badTargets: [string, string, () => void][] = [
    ...['location', 'CSS', 'JSON', 'Math', 'Reflect', 'Intl', 'console', 'WebAssembly'].map(
      (name): [string, string, () => void] => [
        `settings names a host object: ${name}`,
        'config-key="qvToken"',
        () => undefined,
      ],
    ),
    ['the key is __proto__', 'config-key="__proto__"', () => globalConfig('qvBad', {})],
    ['the key is constructor', 'config-key="constructor"', () => globalConfig('qvBad', {})],
    ['the key is toString', 'config-key="toString"', () => globalConfig('qvBad', {})],
    ['the key is not an identifier', 'config-key="qv-token"', () => globalConfig('qvBad', {})],
    [
      'the key is an accessor',
      'config-key="qvToken"',
      () => globalConfig('qvBad', Object.defineProperty({}, 'qvToken', { get: () => '', set: () => {} })),
    ],
    [
      'the global is not script-made',
      'config-key="qvToken"',
      () => globalConfig('qvBad', new URL('https://a.example')),
    ],
    [
      'the config attribute is junk',
      'config-key="qvToken" config-attribute="on click"',
      () => globalConfig('qvBad', {}),
    ],
  ];
  for (const [what, attributes, setUp] of badTargets) {
    it(`${what}: config-invalid before any request`, async () => {
      setUp();
      const scope = await testScope();
      const settings = what.startsWith('settings names') ? what.split(': ')[1]! : 'qvBad';
      const target = widget(`token-endpoint="${scope.endpoint}" ${attributes}`, settings);
      const error = (await nextEvent(target, 'secure-widget-error')).detail;
      expect(error).to.include({ code: 'config-invalid', fatal: true });
      // Raised by the start that would have made the request: that start is over, microtasks included.
      await nextTask();
      expect(scope.started()).to.equal(0);
      expect(({} as Record<string, unknown>).qvToken).to.equal(undefined);
      const written = Object.getOwnPropertyDescriptor(
        (globalThis as unknown as Record<string, object>)[settings] ?? {},
        'qvToken',
      );
      expect(
        typeof written?.value === 'string' && /^eyJ/.test(written.value),
        `a token in ${settings}.qvToken`,
      ).to.equal(false);
    });
  }

  it('a wrong config object added while the page still loads is reported once, not again at DOMContentLoaded', async () => {
    globalConfig('qvBad', new URL('https://a.example'));
    const scope = await testScope();
    // The page as its parser leaves it mid-load: the element first, its vendor child later.
    Object.defineProperty(document, 'readyState', { configurable: true, get: () => 'loading' });
    later(() => delete (document as { readyState?: unknown }).readyState);
    const target = mount(
      `<secure-widget token-endpoint="${scope.endpoint}" config-key="qvToken"></secure-widget>`,
    ).querySelector<SecureWidget>('secure-widget')!;
    const log = recordEvents(target, ['secure-widget-error']);
    await target.updateComplete;
    target.insertAdjacentHTML('beforeend', '<config-vendor settings="qvBad"></config-vendor>');
    expect((await nextEvent(target, 'secure-widget-error')).detail).to.include({ code: 'config-invalid' });
    // The parser is done: the element's last look at its children happens in this dispatch.
    delete (document as { readyState?: unknown }).readyState;
    document.dispatchEvent(new Event('DOMContentLoaded'));
    await nextTask();
    expect(log.of('secure-widget-error')).to.have.length(1);
  });
});

describe('applyToken: the hook for vendors of any other style', () => {
  it('is called with the vendor element and each token, before stamping; a new function per render is fine', async () => {
    const calls: [string, boolean, string][] = [];
    const scope = await testScope();
    const target = document.createElement('secure-widget');
    target.setAttribute('token-endpoint', scope.endpoint);
    target.innerHTML = '<template><config-vendor settings="unused"></config-vendor></template>';
    const hook = () => (vendor: Element, token: string) =>
      void calls.push([vendor.localName, vendor.isConnected, token]);
    target.applyToken = hook();
    document.body.append(target);
    await nextEvent(target, 'secure-widget-ready');
    target.applyToken = hook();
    await target.refresh();
    expect(calls.map(([name, connected]) => [name, connected])).to.deep.equal([
      ['config-vendor', false],
      ['config-vendor', true],
    ]);
    expect(calls[0]![2]).to.match(/^eyJ/);
    expect(calls[1]![2]).to.not.equal(calls[0]![2]);
    expect(target.querySelector('config-vendor')!.hasAttribute('embed-token')).to.equal(false);
  });
});
