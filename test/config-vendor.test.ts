import { expect } from '@open-wc/testing';
import sinon from 'sinon';
import '../src/index.js';
import type { SecureWidget } from '../src/element/secure-widget.js';
import {
  VENDOR,
  cleanUpAfterEach,
  fakeClock,
  mount,
  nextEvent,
  recordEvents,
  testScope,
  tokenId,
  until,
  WIDGET_EVENTS,
} from './support/browser.js';

/**
 * A config-object vendor (Qrvey style, docs/vendors.md) against the element, end to end: the reference vendor's
 * `<demo-config-widget settings="qvConfig">` reads `window.qvConfig.qvToken` (or, in dev mode, `apiKey`) and fires
 * `qv-token-expired`; the host's real `/api/qrvey-token` exchanges its private API key at the vendor's Qrvey-style
 * token API.
 */
const CONFIG_BUNDLE_URL = `${VENDOR}/config-widget.js`;
const QRVEY_ENDPOINT = '/api/qrvey-token';
const DATA_API = `${VENDOR}/api/widget-data`;
const EXPIRY_EVENT = 'qv-token-expired';

/** What `<demo-config-widget>` shows of itself: never its token or key. */
interface DemoConfigWidget extends HTMLElement {
  readonly loadCount: number;
  readonly credential: 'token' | 'dev-key' | null;
  readonly tokenExpiresAt: number | null;
  readonly loadedTokenId: string | null;
  readonly subject: string | null;
  readonly appId: string | null;
}

interface QvConfig {
  domain: string;
  qvToken?: string;
  apiKey?: string;
  userId?: string;
  appId?: string;
}

const page = window as unknown as { qvConfig?: QvConfig };
const qvConfig = () => page.qvConfig!;

const later = cleanUpAfterEach();

beforeEach(() => {
  // The page's own config object, as `<script>var qvConfig = { domain: '…' }</script>` makes it.
  page.qvConfig = { domain: VENDOR };
  later(() => delete page.qvConfig);
});

function mountConfigWidget(source: string) {
  const container = mount(`
    <secure-widget ${source} bundle-url="${CONFIG_BUNDLE_URL}" config-key="qvToken" expiry-event="${EXPIRY_EVENT}">
      <template><demo-config-widget settings="qvConfig"></demo-config-widget></template>
    </secure-widget>`);
  const widget = container.querySelector<SecureWidget>('secure-widget')!;
  const log = recordEvents(widget, [...WIDGET_EVENTS, EXPIRY_EVENT]);
  const vendor = () => widget.querySelector<DemoConfigWidget>('demo-config-widget');
  const expiryEvents = () => log.events.filter((event) => event.type === EXPIRY_EVENT);
  return { container, widget, log, vendor, expiryEvents };
}

function urlOf(input: RequestInfo | URL | undefined): string {
  return new URL(input instanceof Request ? input.url : String(input), location.href).href;
}

/** The vendor widget rendered, and with the token that is in the config object now. */
function renderedWithCurrentToken(vendor: DemoConfigWidget | null): boolean {
  const current = tokenId(qvConfig().qvToken ?? null);
  return vendor?.dataset.state === 'ready' && current !== null && vendor.loadedTokenId === current;
}

describe('a config-object vendor (Qrvey style), end to end', () => {
  it("renders with a token from the host's /api/qrvey-token, put in qvConfig.qvToken and never in the DOM", async () => {
    const { container, widget, log, vendor } = mountConfigWidget(`token-endpoint="${QRVEY_ENDPOINT}"`);
    const ready = await nextEvent(widget, 'secure-widget-ready');
    expect(ready.detail).to.deep.equal({ mode: 'bundle' });
    await until(() => renderedWithCurrentToken(vendor()), 'the vendor widget to render with the token');

    const token = qvConfig().qvToken!;
    expect(token).to.match(/^eyJ[\w-]+\.[\w-]+\.[\w-]+$/);
    // What the vendor's data API vouched for: the user the host's authorize() returned, the app the host's body named.
    expect(vendor()!.credential).to.equal('token');
    expect(vendor()!.subject).to.equal('demo-user');
    expect(vendor()!.appId).to.equal('demo-app');
    expect(vendor()!.loadCount).to.equal(1);
    expect(vendor()!.tokenExpiresAt).to.be.greaterThan(Date.now());
    expect(widget.status).to.equal('ready');
    expect(log.of('secure-widget-error')).to.have.length(0);

    // Neither an attribute nor text: the config object is the token's one place in the page.
    expect(vendor()!.getAttributeNames().sort()).to.deep.equal(['data-state', 'settings']);
    expect(container.outerHTML).not.to.include(token);
    expect(container.outerHTML).not.to.match(/eyJ/);
  });

  it('on a 401 for an expired token: qv-token-expired, the next token in qvConfig, reload(), rendered again', async () => {
    // The scope's clock is two minutes behind: its tokens have expired by the vendor's clock, yet by the scope's own
    // Date header each has a minute left, so the element takes them and only the vendor's data API can refuse them.
    // Its first answer only: the element's next request gets a token the vendor accepts.
    const scope = await testScope({ offsetMs: -120_000, next: {} });
    const { widget, log, vendor, expiryEvents } = mountConfigWidget(`token-endpoint="${scope.endpoint}"`);
    const rejectedBy: EventTarget[] = [];
    widget.addEventListener(EXPIRY_EVENT, (event) => rejectedBy.push(event.target!));

    await until(() => log.of('secure-widget-reload').length === 1, 'the reload after the expiry event');
    await until(() => renderedWithCurrentToken(vendor()), 'the vendor widget to render with the next token');

    // The vendor may say it twice (the data API's 401, and its own timer for the same dead token): one burst, one
    // reload.
    const [expired] = expiryEvents();
    expect(expiryEvents().length).to.be.within(1, 2);
    expect((expired as CustomEvent).detail).to.deep.equal({ code: 'token_expired' });
    expect(expired!.bubbles && expired!.composed).to.equal(true);
    expect(log.of('secure-widget-reload')[0]!.detail).to.deep.equal({ reason: 'expired' });
    // Reloaded through the vendor element's own reload(), which read the config object again: the same element.
    expect([...new Set(rejectedBy)]).to.deep.equal([vendor()]);
    expect(vendor()!.loadCount).to.equal(2);
    expect(scope.started()).to.equal(2);
    expect(widget.status).to.equal('ready');
    expect(log.of('secure-widget-error')).to.have.length(0);
  });

  it('refreshes ahead of expiry: the next token waits in qvConfig.qvToken, loaded when the first runs out', async () => {
    const clock = fakeClock();
    later(() => clock.restore());
    const fetches = sinon.spy(window, 'fetch');
    const tokenRequests = () =>
      fetches.getCalls().filter(({ args: [input] }) => urlOf(input).endsWith(QRVEY_ENDPOINT)).length;
    // A token of its own (not the one an earlier test left in hand): its first token is a request made now.
    const { widget, log, vendor, expiryEvents } = mountConfigWidget(
      `token-endpoint="${QRVEY_ENDPOINT}" refresh-margin="10" token-scope="element"`,
    );
    await nextEvent(widget, 'secure-widget-ready');
    await until(() => renderedWithCurrentToken(vendor()), 'the vendor widget to render with the first token');
    const first = qvConfig().qvToken;
    const firstId = vendor()!.loadedTokenId;

    // Ten seconds before the 60-second token expires, the next one is fetched and written into the config object.
    clock.tick(51_000);
    await until(() => log.of('secure-widget-token').length === 2, 'the token fetched ahead of expiry');
    expect(tokenRequests()).to.equal(2);
    await until(() => qvConfig().qvToken !== first, 'the next token in qvConfig.qvToken');
    expect(tokenId(qvConfig().qvToken!)).to.not.equal(firstId);
    // Handing over a token is not a reload: the widget carries on with the first until it runs out.
    expect(vendor()!.loadedTokenId).to.equal(firstId);
    expect(vendor()!.loadCount).to.equal(1);
    expect(log.of('secure-widget-reload')).to.have.length(0);
    expect(widget.status).to.equal('ready');

    // The first token runs out for the widget: it fires its expiry event, and the element reloads it with the token
    // already in the config object, making no request at that moment.
    clock.tick(10_000);
    await until(() => log.of('secure-widget-reload').length === 1, 'the reload with the prefetched token');
    await until(() => renderedWithCurrentToken(vendor()), 'the vendor widget to render with the next token');
    expect((expiryEvents()[0] as CustomEvent).detail).to.deep.equal({ code: 'token_expired' });
    expect(vendor()!.loadCount).to.equal(2);
    expect(tokenRequests()).to.equal(2);
    expect(widget.status).to.equal('ready');
  });
});

describe('dev mode: a publishable api-key instead of a token endpoint', () => {
  it('on this loopback page, hands the key over as qvConfig.apiKey: rendered, no token request', async () => {
    // The vendor's publishable dev key, as the demo host serves it (it is made for pages; the private key never is).
    const { apiKey } = (await (await fetch('/api/dev-key')).json()) as { apiKey: string };
    expect(apiKey).to.match(/^pk_test_/);
    Object.assign(qvConfig(), { userId: 'dev-user', appId: 'dev-app' });
    const warn = sinon.spy(console, 'warn');
    const fetches = sinon.spy(window, 'fetch');

    const { container, widget, log, vendor } = mountConfigWidget(`api-key="${apiKey}"`);
    await nextEvent(widget, 'secure-widget-ready');
    await until(() => vendor()?.dataset.state === 'ready', 'the vendor widget to render with the dev key');

    expect(qvConfig().apiKey).to.equal(apiKey);
    expect(qvConfig().qvToken).to.equal(undefined);
    expect(vendor()!.credential).to.equal('dev-key');
    expect(vendor()!.subject).to.equal('dev-user');
    expect(vendor()!.appId).to.equal('dev-app');
    expect(vendor()!.tokenExpiresAt).to.equal(null);
    expect(log.of('secure-widget-error')).to.have.length(0);
    expect(widget.status).to.equal('ready');

    // The one request is the vendor widget's own, to its data API: the element asked nobody for a token.
    const urls = fetches.getCalls().map(({ args: [input] }) => urlOf(input));
    expect(urls).to.deep.equal([DATA_API]);
    // The attribute was read and removed: the key is in the config object only.
    expect(widget.hasAttribute('api-key')).to.equal(false);
    expect(container.outerHTML).not.to.include(apiKey);
    // A publishable key is made for browsers: it needs no warning (docs/decisions.md, 26).
    expect(warn.callCount).to.equal(0);
  });
});
