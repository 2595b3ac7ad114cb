import { expect } from '@open-wc/testing';
import sinon from 'sinon';
import '../src/index.js';
import type { SecureWidget } from '../src/element/secure-widget.js';
import type { SecureWidgetErrorDetail } from '../src/element/events.js';
import {
  cleanUpAfterEach,
  fakeTime,
  mount,
  nextEvent,
  nextTask,
  recordEvents,
  testScope,
  until,
  WIDGET_EVENTS,
} from './support/browser.js';

// A hostile page, endpoint and markup against the element (issue 10): each case asserts the typed code and that the
// token went nowhere it should not (attributes, storage, console, event details, URLs the browser requested).

const later = cleanUpAfterEach();

class HostileProbe extends HTMLElement {}
customElements.define('hostile-probe', HostileProbe);

const rejected = () => new CustomEvent('rai-error', { bubbles: true, composed: true });

function widget(attributes: string, inner = '<template><hostile-probe></hostile-probe></template>'): SecureWidget {
  return mount(`<secure-widget ${attributes}>${inner}</secure-widget>`).querySelector('secure-widget')!;
}

async function firstError(target: SecureWidget): Promise<SecureWidgetErrorDetail> {
  return (await nextEvent(target, 'secure-widget-error')).detail;
}

/** Every place a token could leak to in the page, as text. */
function pageText(): string {
  const attributes = [...document.querySelectorAll('secure-widget, secure-widget *')].flatMap((element) =>
    element.localName === 'hostile-probe' ? [] : [...element.attributes].map((attribute) => attribute.value),
  );
  const frames = [...document.querySelectorAll('secure-widget')].flatMap((element) =>
    [...(element.shadowRoot?.querySelectorAll('iframe') ?? [])].map((frame) => `${frame.src} ${frame.name}`),
  );
  const entries = performance.getEntries().map((entry) => entry.name);
  const storage = [localStorage, sessionStorage].flatMap((area) => Object.keys(area).map((key) => area.getItem(key)));
  return [...attributes, ...frames, ...entries, ...storage, document.cookie, location.href].join('\n');
}

async function requestedUrlsWithJwt(): Promise<number> {
  const response = await fetch('/test-api/requested-urls-with-jwt', { cache: 'no-store' });
  return ((await response.json()) as { count: number }).count;
}

describe('a token endpoint that redirects', () => {
  it('to another origin is refused with url-rejected: nothing it serves is injected', async () => {
    const scope = await testScope({ respond: 'redirect', redirect: 'other-origin' });
    const target = widget(`token-endpoint="${scope.endpoint}"`);
    const error = await firstError(target);
    expect(error).to.include({ code: 'url-rejected', fatal: true });
    expect(error.message).to.match(/redirected to another origin/);
    expect(await scope.calls(), 'the far end was reached: the answer, not the request, is refused').to.equal(2);
    expect(target.querySelector(':scope > hostile-probe'), 'nothing stamped').to.equal(null);
    expect(target.status).to.equal('error');
  });

  it('within its own origin is followed', async () => {
    const scope = await testScope({ respond: 'redirect', redirect: 'same-origin' });
    const target = widget(`token-endpoint="${scope.endpoint}"`);
    await nextEvent(target, 'secure-widget-ready');
    expect(target.querySelector(':scope > hostile-probe')!.getAttribute('embed-token')).to.match(/^eyJ/);
  });
});

describe('token-attribute is an allow-list', () => {
  // Every one of these is a URL, an event handler or style on some HTML element; the old deny-list missed most.
  for (const name of [
    'srcset',
    'poster',
    'data',
    'background',
    'ping',
    'imagesrcset',
    'href',
    'src',
    'action',
    'formaction',
    'onclick',
    'onerror',
    'style',
    'xlink:href',
    'itemid',
    'cite',
    'manifest',
    'codebase',
    'token-',
  ]) {
    it(`refuses "${name}" with config-invalid, before any request`, async () => {
      const scope = await testScope();
      const target = widget(`token-endpoint="${scope.endpoint}" token-attribute="${name}"`);
      const error = await firstError(target);
      expect(error.code).to.equal('config-invalid');
      // Raised by the start that would have made the request: that start is over, microtasks included.
      await nextTask();
      expect(scope.started()).to.equal(0);
    });
  }

  for (const name of ['token', 'embed-token', 'access-token', 'qv-token', 'data-token', 'data-embed-token']) {
    it(`accepts "${name}"`, async () => {
      const scope = await testScope();
      const target = widget(`token-endpoint="${scope.endpoint}" token-attribute="${name}"`);
      await nextEvent(target, 'secure-widget-ready');
      expect(target.querySelector(':scope > hostile-probe')!.getAttribute(name)).to.match(/^eyJ/);
    });
  }
});

describe("reload-global reaches only objects the page's script made", () => {
  for (const name of [
    'navigation',
    'location',
    'history',
    'document',
    'window',
    'self',
    'top',
    'customElements',
    'localStorage',
    'caches',
    'navigator',
  ]) {
    it(`"${name}" is never reloaded: the vendor element is stamped afresh instead`, async () => {
      const host = (globalThis as Record<string, unknown>)[name] as Record<string, unknown> | undefined;
      const reload = sinon.fake();
      // An own reload() on the host object, so that a call could be seen (and would not reload the test page).
      if (host && typeof host === 'object') {
        try {
          Object.defineProperty(host, 'reload', { configurable: true, value: reload });
          later(() => delete host.reload);
        } catch {
          // Some host objects refuse new properties; they are refused by the element all the same.
        }
      }
      const scope = await testScope();
      const target = widget(`token-endpoint="${scope.endpoint}" reload-global="${name}"`);
      await nextEvent(target, 'secure-widget-ready');
      const first = target.querySelector(':scope > hostile-probe')!;
      first.dispatchEvent(rejected());
      await nextEvent(target, 'secure-widget-reload');
      expect(reload.callCount).to.equal(0);
      expect(target.querySelector(':scope > hostile-probe'), 're-stamped').to.not.equal(first);
    });
  }

  it('a plain object and an instance of a class the page defined are reloaded', async () => {
    class VendorSdk {
      reloads = 0;
      reload() {
        this.reloads += 1;
      }
    }
    const instance = new VendorSdk();
    const plain = { reload: sinon.fake() };
    Object.assign(globalThis, { HostileTestSdk: instance, HostileTestPlain: plain });
    later(() => {
      delete (globalThis as Record<string, unknown>).HostileTestSdk;
      delete (globalThis as Record<string, unknown>).HostileTestPlain;
    });
    for (const name of ['HostileTestSdk', 'HostileTestPlain']) {
      const scope = await testScope();
      const target = widget(`token-endpoint="${scope.endpoint}" reload-global="${name}"`);
      await nextEvent(target, 'secure-widget-ready');
      target.querySelector('hostile-probe')!.dispatchEvent(rejected());
      await nextEvent(target, 'secure-widget-reload');
    }
    expect(instance.reloads).to.equal(1);
    expect(plain.reload.callCount).to.equal(1);
  });
});

describe('numbers that are junk, and tokens that never lived', () => {
  it('refresh-margin="" is the default margin, not zero', async () => {
    const scope = await testScope({ ttlSeconds: 600 });
    const target = widget(`token-endpoint="${scope.endpoint}" refresh-margin=""`);
    await nextEvent(target, 'secure-widget-ready');
    expect(target.status).to.equal('ready');
  });

  it('a token that says it lives a millisecond is token-expired, and no request follows', async () => {
    const scope = await testScope();
    const time = fakeTime(scope);
    later(() => time.clock.restore());
    await time.configure({ respond: 'opaque', ttlSeconds: 0.001 });
    const target = widget(`token-endpoint="${scope.endpoint}"`);
    const error = await firstError(target);
    expect(error.code).to.equal('token-expired');
    // A minute on: a retry, a refresh ahead of expiry or a loop would each have started its request by now.
    await time.advance(60_000);
    expect(scope.started()).to.equal(1);
  });
});

describe('Trusted Types required, and the policy not allowed', () => {
  it('is config-invalid, and the message names the CSP entry to add', async () => {
    const frame = document.createElement('iframe');
    frame.src = "/test-pages/strict-csp.html?policies='none'";
    document.body.append(frame);
    await until(
      () => frame.contentDocument?.querySelector('secure-widget')?.getAttribute('status') === 'error',
      'error',
      8_000,
    );
    const errors: SecureWidgetErrorDetail[] = [];
    const element = frame.contentDocument!.querySelector('secure-widget')!;
    element.addEventListener('secure-widget-error', (event) => errors.push((event as CustomEvent).detail));
    // The error came before the listener: refresh() tries again and reports it once more.
    await (element as SecureWidget).refresh().catch(() => {});
    await until(() => errors.length > 0, 'the error');
    expect(errors[0]).to.include({ code: 'config-invalid', fatal: true });
    expect(errors[0]!.message).to.match(/trusted-types secure-widget/);
  });
});

describe('the token goes nowhere but the vendor element', () => {
  it('after load, refresh and an expiry: not in attributes, storage, the console, events, entries or URLs', async () => {
    const logged: unknown[] = [];
    for (const level of ['log', 'info', 'warn', 'error', 'debug'] as const) {
      sinon.stub(console, level).callsFake((...args: unknown[]) => void logged.push(...args));
    }
    const scope = await testScope();
    const container = mount(
      `<secure-widget token-endpoint="${scope.endpoint}"><template><hostile-probe></hostile-probe></template>
      </secure-widget><secure-widget token-endpoint="${scope.endpoint}" src="http://127.0.0.1:${location.port}/vendor/frame.html"></secure-widget>`,
    );
    const log = recordEvents(container, WIDGET_EVENTS);
    const [bundle] = [...container.querySelectorAll('secure-widget')] as SecureWidget[];
    await nextEvent(bundle!, 'secure-widget-ready');
    await bundle!.refresh();
    bundle!.querySelector('hostile-probe')!.dispatchEvent(rejected());
    await until(() => log.of('secure-widget-reload').length >= 2, 'the reloads');
    const token = bundle!.querySelector(':scope > hostile-probe')!.getAttribute('embed-token')!;
    expect(token).to.match(/^eyJ/);
    const signature = token.split('.')[2]!;
    const everywhere = [
      pageText(),
      JSON.stringify(log.events.map((event) => event.detail)),
      logged.map(String).join('\n'),
    ];
    for (const text of everywhere) expect(text.includes(signature)).to.equal(false);
    expect(await requestedUrlsWithJwt(), 'no URL the browser requested carried a JWT').to.equal(0);
  });
});
