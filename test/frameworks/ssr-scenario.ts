/**
 * The server-rendered React scenario (test/frameworks/react-ssr-app.tsx): server HTML first, with the element already
 * defined, then hydration. Each build runs in a test file of its own, so in a document of its own: the reference
 * vendor's script, once loaded by one run, would render into the next run's server HTML before hydration.
 */
import { expect } from '@open-wc/testing';
import { BUNDLE_URL, testScope, until } from '../support/browser.js';
import type { SsrPageOptions } from './react-ssr-app.js';

interface SsrPageModule {
  framework: string;
  serverRender(options: SsrPageOptions): string;
  hydrate(container: HTMLElement, options: SsrPageOptions, onError: (error: unknown) => void): { unmount(): void };
}

type Widget = HTMLElement & { status: string; updateComplete: Promise<boolean> };

/** What each widget's component rendered from its own listeners. */
function componentState(container: HTMLElement, name: string) {
  const output = container.querySelector<HTMLElement>(`[data-widget="${name}"]`)!;
  return { tokens: Number(output.dataset.tokens), ready: Number(output.dataset.ready), error: output.dataset.error };
}

/** Every console.error and console.warn while `run` goes, and what React reports as recoverable. */
async function recordingConsole<T>(run: (report: (error: unknown) => void) => Promise<T>) {
  const said: string[] = [];
  const { error, warn } = console;
  console.error = (...args: unknown[]) => said.push(`error: ${args.map(String).join(' ')}`);
  console.warn = (...args: unknown[]) => said.push(`warn: ${args.map(String).join(' ')}`);
  try {
    const result = await run((reported) => said.push(`recoverable: ${String(reported)}`));
    return { said, result };
  } finally {
    Object.assign(console, { error, warn });
  }
}

export function reactHydrationScenario(build: 'production' | 'development'): void {
  it(`hydrates with no warning, changes nothing before, and then runs both widgets (React ${build} build)`, async () => {
    const path = build === 'development' ? './dist/development/' : './dist/';
    const page = (await import(new URL(`${path}react-ssr-app.js`, import.meta.url).href)) as SsrPageModule;
    const scope = await testScope();
    const minted = (await (await fetch(scope.endpoint)).json()) as { embedToken: string };
    const options = { endpoint: scope.endpoint, bundleUrl: BUNDLE_URL, serverToken: minted.embedToken };
    const requestsBefore = await scope.calls();

    const html = page.serverRender(options);
    const container = document.createElement('div');
    document.body.append(container);
    const { said, result: root } = await recordingConsole(async (report) => {
      // The element is defined already (importing the page defined it): the "defined before hydration" order.
      container.innerHTML = html;
      const widgets = [...container.querySelectorAll<Widget>('secure-widget')];
      await Promise.all(widgets.map((widget) => widget.updateComplete));
      expect(container.innerHTML, 'the markup before hydration').to.equal(html);
      const root = page.hydrate(container, options, report);
      await until(
        () => ['markup', 'fetch'].every((name) => componentState(container, name).ready === 1),
        'both widgets ready, as their components heard it',
        8_000,
      );
      return root;
    });

    const widgets = [...container.querySelectorAll<Widget>('secure-widget')];
    expect({
      console: said,
      serverHtmlHasToken: html.includes(minted.embedToken),
      statuses: widgets.map((widget) => widget.status),
      deferred: widgets.map((widget) => widget.hasAttribute('defer-hydration')),
      markup: componentState(container, 'markup'),
      fetch: componentState(container, 'fetch'),
      // The server-rendered token is used as it is: only the fetchToken widget asks.
      requests: (await scope.calls()) - requestsBefore,
    }).to.deep.equal({
      console: [],
      serverHtmlHasToken: false,
      statuses: ['ready', 'ready'],
      deferred: [false, false],
      markup: { tokens: 1, ready: 1, error: '' },
      fetch: { tokens: 1, ready: 1, error: '' },
      requests: 1,
    });
    root.unmount();
    container.remove();
  });
}
