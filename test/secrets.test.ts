import { expect } from '@open-wc/testing';
import '../src/index.js';
import { HOST_ENDPOINT, mount, nextEvent, recordEvents, testScope, WIDGET_EVENTS } from './support/browser.js';

afterEach(() => {
  document.body.replaceChildren();
});

describe('never lets the token leak', () => {
  it('no event detail, attribute of <secure-widget>, storage or cookie carries it', async () => {
    const scope = await testScope();
    const markup = await fetch(HOST_ENDPOINT).then((response) => response.json() as Promise<{ embedToken: string }>);
    const consoleCalls: unknown[][] = [];
    const methods = ['log', 'info', 'warn', 'error', 'debug'] as const;
    const originals = methods.map((method) => console[method]);
    methods.forEach((method) => {
      console[method] = (...args: unknown[]) => consoleCalls.push(args);
    });
    try {
      const container = mount(`
        <secure-widget token-endpoint="${scope.endpoint}" embed-token="${markup.embedToken}">
          <template><probe-widget></probe-widget></template>
        </secure-widget>
        <secure-widget token-endpoint="${scope.endpoint}" token-scope="element">
          <template><probe-widget></probe-widget></template>
        </secure-widget>`);
      const widgets = [...container.querySelectorAll('secure-widget')];
      const log = recordEvents(container, WIDGET_EVENTS);
      await Promise.all(widgets.map((widget) => nextEvent(widget, 'secure-widget-ready')));
      await widgets[1]!.refresh();

      const tokens = [markup.embedToken, ...container.querySelectorAll('probe-widget')].map((value) =>
        typeof value === 'string' ? value : value.getAttribute('embed-token')!,
      );
      expect(tokens.every((token) => token.startsWith('eyJ'))).to.equal(true);
      const exposed = [
        JSON.stringify(log.events.map((event) => event.detail)),
        ...widgets.map((widget) => widget.outerHTML.replace(widget.innerHTML, '')),
        ...widgets.map((widget) => widget.shadowRoot!.innerHTML),
        JSON.stringify({ ...localStorage }),
        JSON.stringify({ ...sessionStorage }),
        document.cookie,
        location.href,
        JSON.stringify(consoleCalls),
        JSON.stringify(performance.getEntriesByType('resource').map((entry) => entry.name)),
      ].join('\n');
      for (const token of tokens) {
        // The signature alone identifies a token; check for it, and for the whole.
        expect(exposed).to.not.contain(token.split('.')[2]);
      }
      expect(log.events.length).to.be.greaterThan(4);
    } finally {
      methods.forEach((method, index) => {
        console[method] = originals[index]!;
      });
    }
  });

  it('error messages do not echo what the endpoint answered', async () => {
    const scope = await testScope({ respond: 'oversize' });
    const widget = mount(`
      <secure-widget token-endpoint="${scope.endpoint}"><template><probe-widget></probe-widget></template></secure-widget>`).querySelector(
      'secure-widget',
    )!;
    const error = await nextEvent(widget, 'secure-widget-error');
    expect(error.detail.message.length).to.be.lessThan(200);
    expect(error.detail.message).to.not.contain('aaaa');
  });
});
