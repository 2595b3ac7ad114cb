import { expect } from '@open-wc/testing';
import sinon from 'sinon';
import '../src/index.js';
import type { SecureWidget } from '../src/element/secure-widget.js';
import {
  BUNDLE_URL,
  fakeTime,
  mount,
  nextEvent,
  readyWidgetsOfOneVendor,
  recordEvents,
  testScope,
  tokenId,
  until,
  WIDGET_EVENTS,
  type TestScope,
} from './support/browser.js';

interface DemoWidget extends HTMLElement {
  readonly loadedTokenId: string | null;
  readonly loadCount: number;
}

/** A vendor element with its own reload(), remembering the token it was reloaded with. */
class ReloadableWidget extends HTMLElement {
  reloadedWith: (string | null)[] = [];
  async reload() {
    this.reloadedWith.push(this.getAttribute('embed-token'));
  }
}
customElements.define('reloadable-widget', ReloadableWidget);
const RELOADABLE = '<template><reloadable-widget></reloadable-widget></template>';
customElements.define('plain-vendor-widget', class extends HTMLElement {});

const rejected = () =>
  new CustomEvent('rai-error', { bubbles: true, composed: true, detail: { code: 'token_expired' } });

let time: ReturnType<typeof fakeTime> | undefined;
afterEach(() => {
  time?.clock.restore();
  time = undefined;
  document.body.replaceChildren();
  delete (window as { TestVendor?: unknown }).TestVendor;
});

async function readyWidget(scope: TestScope, inner: string, attributes = 'refresh-margin="10"') {
  const container = mount(`<secure-widget token-endpoint="${scope.endpoint}" ${attributes}>${inner}</secure-widget>`);
  const widget = container.querySelector<SecureWidget>('secure-widget')!;
  const log = recordEvents(widget, WIDGET_EVENTS);
  await nextEvent(widget, 'secure-widget-ready');
  return { widget, log };
}

/** A widget ready on the fake clock (restored after the test), its endpoint's tokens living `ttlSeconds`. */
async function readyOnFakeTime(ttlSeconds: number, inner: string, attributes?: string) {
  const scope = await testScope({ ttlSeconds });
  time = fakeTime(scope);
  await time.configure({ ttlSeconds });
  return { scope, ...(await readyWidget(scope, inner, attributes)) };
}

/** A ready widget stamping a plain vendor element (no reload() of its own); `reloadGlobal` names the vendor's global. */
function plainVendorReady(scope: TestScope, reloadGlobal: string, vendorAttributes = '') {
  const vendor = `<plain-vendor-widget${vendorAttributes && ` ${vendorAttributes}`}></plain-vendor-widget>`;
  return readyWidget(scope, `<template>${vendor}</template>`, `reload-global="${reloadGlobal}"`);
}

/** The vendor element reports its token expired; resolves with the token it held, once the widget has reloaded it. */
async function expiredAndReloaded(widget: SecureWidget, vendor: Element): Promise<string | null> {
  const first = vendor.getAttribute('embed-token');
  vendor.dispatchEvent(rejected());
  await nextEvent(widget, 'secure-widget-reload');
  return first;
}

describe('refreshes ahead of expiry', () => {
  it('fetches the next token refresh-margin before expiry and puts it on the vendor element', async () => {
    const { scope, widget, log } = await readyOnFakeTime(60, RELOADABLE);
    const vendor = widget.querySelector('reloadable-widget')!;
    const first = vendor.getAttribute('embed-token');

    await time!.advance(49_000);
    expect(scope.started()).to.equal(1);
    await time!.advance(1_500);
    await until(() => log.of('secure-widget-token').length === 2, 'the prefetched token');
    expect(scope.started()).to.equal(2);
    expect(vendor.getAttribute('embed-token')).to.not.equal(first);
    // Handing over a token is not a reload: the widget reloads only when the vendor asks.
    expect((vendor as ReloadableWidget).reloadedWith).to.deep.equal([]);
    expect(widget.status).to.equal('ready');
  });

  it('caps the margin at half the token lifetime', async () => {
    const { scope, log } = await readyOnFakeTime(20, RELOADABLE, '');
    await time!.advance(9_000);
    expect(scope.started()).to.equal(1);
    await time!.advance(1_500);
    await until(() => log.of('secure-widget-token').length === 2, 'the prefetched token');
  });
});

describe('recovers when the vendor fires its expiry event', () => {
  it('hands over the token already in hand: no request at that moment, then reload()', async () => {
    const { scope, widget, log } = await readyOnFakeTime(60, RELOADABLE);
    await time!.advance(51_000);
    await until(() => log.of('secure-widget-token').length === 2, 'the prefetched token');
    const vendor = widget.querySelector<ReloadableWidget>('reloadable-widget')!;
    const next = vendor.getAttribute('embed-token');

    vendor.dispatchEvent(rejected());
    const reload = await nextEvent(widget, 'secure-widget-reload');
    expect(reload.detail).to.deep.equal({ reason: 'expired' });
    expect(vendor.reloadedWith).to.deep.equal([next]);
    expect(scope.started()).to.equal(2);
    expect(widget.status).to.equal('ready');
  });

  it('fetches a new token when the rejected one is the one in hand', async () => {
    const scope = await testScope({ ttlSeconds: 60 });
    const { widget } = await readyWidget(scope, RELOADABLE);
    const vendor = widget.querySelector<ReloadableWidget>('reloadable-widget')!;
    const first = await expiredAndReloaded(widget, vendor);
    expect(scope.started()).to.equal(2);
    expect(vendor.reloadedWith).to.have.length(1);
    expect(vendor.reloadedWith[0]).to.not.equal(first);
  });

  it("calls the vendor global's reload() when the element has none", async () => {
    const reload = sinon.fake.resolves(undefined);
    (window as { TestVendor?: unknown }).TestVendor = { reload };
    const scope = await testScope();
    const { widget } = await plainVendorReady(scope, 'TestVendor');
    const vendor = widget.querySelector('plain-vendor-widget')!;
    const first = await expiredAndReloaded(widget, vendor);
    expect(reload.callCount).to.equal(1);
    expect(widget.querySelector('plain-vendor-widget')).to.equal(vendor);
    expect(vendor.getAttribute('embed-token')).to.not.equal(first);
  });

  it('one page-wide reload serves every widget whose vendor expired at the same moment', async () => {
    const reload = sinon.fake(async () => {});
    (window as { TestVendor?: unknown }).TestVendor = { reload };
    const scope = await testScope();
    const { container, widgets } = await readyWidgetsOfOneVendor(scope.endpoint, 'TestVendor', 'plain-vendor-widget');
    const log = recordEvents(container, ['secure-widget-reload']);
    const reloads = Promise.all(widgets.map((widget) => nextEvent(widget, 'secure-widget-reload')));
    // Two vendors report expiry in the same task; the third is reloaded by the same page-wide call.
    widgets[0]!.querySelector('plain-vendor-widget')!.dispatchEvent(rejected());
    widgets[1]!.querySelector('plain-vendor-widget')!.dispatchEvent(rejected());
    await reloads;
    expect(reload.callCount).to.equal(1);
    expect(scope.started()).to.equal(2);
    expect(log.events).to.have.length(3);
    const tokens = widgets.map((widget) => widget.querySelector('plain-vendor-widget')!.getAttribute('embed-token'));
    expect(new Set(tokens).size).to.equal(1);
  });

  it('a rejection of the new token during the reload is not lost', async () => {
    const scope = await testScope();
    let rejectNext = 1;
    (window as { TestVendor?: unknown }).TestVendor = {
      async reload() {
        // Like the reference vendor: reload() settles after the widget checked its new token.
        await Promise.resolve();
        if (rejectNext-- > 0) document.querySelector('plain-vendor-widget')!.dispatchEvent(rejected());
      },
    };
    const { widget, log } = await plainVendorReady(scope, 'TestVendor');
    widget.querySelector('plain-vendor-widget')!.dispatchEvent(rejected());
    await until(() => log.of('secure-widget-reload').length === 2, 'a second recovery');
    expect(scope.started()).to.equal(3);
    expect(widget.status).to.equal('ready');
  });

  it('re-stamps the template when there is no reload() at all', async () => {
    const scope = await testScope();
    const { widget } = await plainVendorReady(scope, 'NoSuchVendor', 'data-x="1"');
    const vendor = widget.querySelector('plain-vendor-widget')!;
    const first = await expiredAndReloaded(widget, vendor);
    const fresh = widget.querySelectorAll('plain-vendor-widget');
    expect(fresh).to.have.length(1);
    expect(fresh[0]).to.not.equal(vendor);
    expect(vendor.isConnected).to.equal(false);
    expect(fresh[0]!.getAttribute('data-x')).to.equal('1');
    expect(fresh[0]!.getAttribute('embed-token')).to.not.equal(first);
  });

  it('never calls a platform object named by reload-global (location.reload would loop the page)', async () => {
    const scope = await testScope();
    const { widget } = await plainVendorReady(scope, 'location');
    const vendor = widget.querySelector('plain-vendor-widget')!;
    vendor.dispatchEvent(rejected());
    await nextEvent(widget, 'secure-widget-reload');
    expect(widget.querySelector('plain-vendor-widget')).to.not.equal(vendor);
  });

  it('ignores expiry events from outside its vendor widget', async () => {
    const scope = await testScope();
    const { widget, log } = await readyWidget(scope, RELOADABLE);
    widget.dispatchEvent(rejected());
    document.body.dispatchEvent(rejected());
    expect(log.of('secure-widget-reload')).to.have.length(0);
    expect(scope.started()).to.equal(1);
  });

  it('listens for a custom expiry-event', async () => {
    const scope = await testScope();
    const { widget } = await readyWidget(scope, RELOADABLE, 'expiry-event="vendor-token-expired"');
    const vendor = widget.querySelector<ReloadableWidget>('reloadable-widget')!;
    vendor.dispatchEvent(new CustomEvent('rai-error', { bubbles: true }));
    vendor.dispatchEvent(new CustomEvent('vendor-token-expired', { bubbles: true }));
    await nextEvent(widget, 'secure-widget-reload');
    expect(vendor.reloadedWith).to.have.length(1);
  });

  it('stops with reload-loop when the vendor rejects three fresh tokens in a row', async () => {
    const scope = await testScope();
    const { widget, log } = await readyWidget(scope, RELOADABLE);
    const vendor = widget.querySelector<ReloadableWidget>('reloadable-widget')!;
    for (let round = 0; round < 2; round += 1) {
      vendor.dispatchEvent(rejected());
      await nextEvent(widget, 'secure-widget-reload');
    }
    const errorEvent = nextEvent(widget, 'secure-widget-error');
    vendor.dispatchEvent(rejected());
    const error = await errorEvent;
    expect(error.detail.code).to.equal('reload-loop');
    expect(error.detail.fatal).to.equal(true);
    expect(widget.status).to.equal('error');
    const calls = scope.started();
    vendor.dispatchEvent(rejected());
    expect(scope.started()).to.equal(calls);
    expect(log.of('secure-widget-reload')).to.have.length(2);
  });
});

describe('end to end with the reference vendor', () => {
  it('the vendor expires its token, the widget reloads with the prefetched one, no request at that moment', async () => {
    const { scope, widget, log } = await readyOnFakeTime(
      60,
      `<template><demo-widget community-id="42" data-user-id="e2e"></demo-widget></template>`,
      `refresh-margin="10" bundle-url="${BUNDLE_URL}"`,
    );
    const vendor = widget.querySelector<DemoWidget>('demo-widget')!;
    await until(() => vendor.dataset.state === 'ready', 'the vendor to verify its first token');
    const firstId = vendor.loadedTokenId;

    await time!.advance(51_000);
    await until(() => log.of('secure-widget-token').length === 2, 'the prefetched token');
    const nextId = tokenId(vendor.getAttribute('embed-token'));
    expect(nextId).to.not.equal(firstId);
    expect(vendor.loadedTokenId).to.equal(firstId);

    await time!.advance(9_500);
    await until(() => log.of('secure-widget-reload').length === 1, 'the reload');
    expect(log.of('secure-widget-reload')[0]!.detail.reason).to.equal('expired');
    await until(() => vendor.dataset.state === 'ready' && vendor.loadedTokenId === nextId, 'the vendor to reload');
    expect(scope.started()).to.equal(2);
    expect(widget.status).to.equal('ready');
  });
});

describe('refresh() and reload()', () => {
  it('refresh() gets a new token now and reloads', async () => {
    const scope = await testScope();
    const { widget } = await readyWidget(scope, RELOADABLE);
    const vendor = widget.querySelector<ReloadableWidget>('reloadable-widget')!;
    const first = vendor.getAttribute('embed-token');
    const reload = nextEvent(widget, 'secure-widget-reload');
    await widget.refresh();
    expect((await reload).detail.reason).to.equal('manual');
    expect(scope.started()).to.equal(2);
    expect(vendor.reloadedWith).to.have.length(1);
    expect(vendor.reloadedWith[0]).to.not.equal(first);
  });

  it('reload() reloads with the token in hand, without a request', async () => {
    const scope = await testScope();
    const { widget } = await readyWidget(scope, RELOADABLE);
    const vendor = widget.querySelector<ReloadableWidget>('reloadable-widget')!;
    await widget.reload();
    expect(vendor.reloadedWith).to.deep.equal([vendor.getAttribute('embed-token')]);
    expect(scope.started()).to.equal(1);
  });
});
