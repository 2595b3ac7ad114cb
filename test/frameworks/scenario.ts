import { expect } from '@open-wc/testing';
import { BUNDLE_URL, recordEvents, testScope, tokenId, until } from '../support/browser.js';
import type { FrameworkPageModule, MountedPage } from './page.js';

const RENDERS = 100;
const COMMUNITY = '42';
const USER = 'fw-user';

/** Imports a page built by `npm run build:test-pages`: the framework and the library's source in one bundle. */
async function loadPage(name: string): Promise<FrameworkPageModule> {
  const url = new URL(`./dist/${name}.js`, import.meta.url).href;
  try {
    return (await import(url)) as FrameworkPageModule;
  } catch (error) {
    throw new Error(`cannot load ${url} (${String(error)}): run \`npm run build:test-pages\` first`);
  }
}

/** Waits until `predicate` holds, or gives up (the final comparison then says what was seen); says which. */
async function settle(predicate: () => boolean, timeout: number): Promise<boolean> {
  return until(predicate, 'the scenario to settle', timeout).then(
    () => true,
    () => false,
  );
}

/** A long list reads better cut short in a failure message. */
function cut(values: string[], keep = 8): string[] {
  return values.length <= keep ? values : [...values.slice(0, keep), `… ${values.length - keep} more`];
}

type DemoWidgetElement = HTMLElement & { loadCount: number; loadedTokenId: string | null };

/** The vendor elements the widget rendered: inside `<secure-widget>`, not inside its `<template>`. */
function renderedVendors(widget: Element): DemoWidgetElement[] {
  return [...widget.querySelectorAll<DemoWidgetElement>('demo-widget')].filter(
    (element) => !element.closest('template'),
  );
}

function describeVendor(element: DemoWidgetElement) {
  const token = element.getAttribute('embed-token');
  const text = element.textContent ?? '';
  return {
    state: element.dataset.state ?? '(none)',
    // The vendor verified and loaded exactly the token that is on its element.
    tokenLoaded: token !== null && /^eyJ/.test(token) && element.loadedTokenId === tokenId(token),
    loads: element.loadCount,
    showsCommunityAndUser: text.includes(`Community ${COMMUNITY}`) && text.includes(`Signed in as ${USER}`),
  };
}

/**
 * The scenario every framework page must pass: a component renders `<secure-widget>` with an inline `fetchToken`, a
 * `<template>` holding the reference vendor's `<demo-widget>`, and listeners that set state; then it re-renders 100
 * times. The widget must settle at `ready` on one token request and stay there, with the vendor rendered once.
 */
export function frameworkScenario(name: 'react-app' | 'vue-app', expectedFramework: RegExp): void {
  let page: MountedPage | undefined;

  afterEach(() => {
    page?.unmount();
    page = undefined;
    document.body.replaceChildren();
  });

  it(`settles at ready on one token request through ${RENDERS} re-renders with an inline fetchToken`, async function () {
    // A busy machine may take seconds for the token and the vendor; only the final comparison decides.
    this.timeout(40_000);
    const { framework, mount } = await loadPage(name);
    expect(framework).to.match(expectedFramework);
    const scope = await testScope();
    const container = document.createElement('div');
    document.body.append(container);
    const log = recordEvents(container, [
      'secure-widget-token',
      'secure-widget-ready',
      'secure-widget-reload',
      'secure-widget-error',
    ]);

    page = await mount(container, {
      endpoint: scope.endpoint,
      bundleUrl: BUNDLE_URL,
      communityId: COMMUNITY,
      userId: USER,
    });
    const widget = container.querySelector('secure-widget');
    expect(widget, 'the component rendered <secure-widget>').to.be.instanceOf(HTMLElement);

    const statuses: string[] = [widget!.getAttribute('status') ?? '(none)'];
    const observer = new MutationObserver(() => statuses.push(widget!.getAttribute('status') ?? '(none)'));
    observer.observe(widget!, { attributes: true, attributeFilter: ['status'] });
    const fetchTokens = new Set<unknown>([widget!.fetchToken]);
    const rerender = async () => {
      await page!.rerender();
      fetchTokens.add(widget!.fetchToken);
    };

    // Half the re-renders while the token is on its way, half once the widget has settled (or given up).
    for (let index = 0; index < RENDERS / 2; index += 1) await rerender();
    await settle(() => widget!.status === 'ready' || log.of('secure-widget-error').length > 0, 15_000);
    for (let index = RENDERS / 2; index < RENDERS; index += 1) await rerender();
    await settle(() => renderedVendors(widget!).some((vendor) => vendor.dataset.state === 'ready'), 15_000);
    const vendorAfterRenders = renderedVendors(widget!)[0];
    // A re-render hands the element its new function in the element's next update: a restart or a request it set off
    // has begun by the end of that update (requests are counted as they start).
    await widget!.updateComplete;
    observer.disconnect();

    const firstReady = statuses.indexOf('ready');
    const errors = new Map<string, number>();
    for (const { detail } of log.of('secure-widget-error')) {
      const key = `${detail.code}: ${detail.message}`;
      errors.set(key, (errors.get(key) ?? 0) + 1);
    }
    const vendors = renderedVendors(widget!);
    const observed = {
      status: widget!.status,
      statusChangesAfterReady: firstReady < 0 ? ['(never ready)'] : cut(statuses.slice(firstReady + 1)),
      tokenRequests: scope.started(),
      errors: [...errors].map(([key, count]) => `${key} (×${count})`),
      events: {
        token: log.of('secure-widget-token').length,
        ready: log.of('secure-widget-ready').length,
        reload: log.of('secure-widget-reload').length,
      },
      component: page.state(),
      // The framework handed the element a new function on every render: the case under test.
      newFetchTokenEachRender: fetchTokens.size >= RENDERS + 1 && typeof widget!.fetchToken === 'function',
      vendors: vendors.map(describeVendor),
      sameVendorAfterUpdate: vendors[0] !== undefined && vendors[0] === vendorAfterRenders,
    };
    expect(observed, JSON.stringify(observed, null, 2)).to.deep.equal({
      status: 'ready',
      statusChangesAfterReady: [],
      tokenRequests: 1,
      errors: [],
      events: { token: 1, ready: 1, reload: 0 },
      component: { count: RENDERS, tokenEvents: 1, readyEvents: 1, lastError: '' },
      newFetchTokenEachRender: true,
      vendors: [{ state: 'ready', tokenLoaded: true, loads: 1, showsCommunityAndUser: true }],
      sameVendorAfterUpdate: true,
    });
  });
}
