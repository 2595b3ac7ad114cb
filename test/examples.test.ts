import { expect } from '@open-wc/testing';
import { until } from './support/browser.js';

/**
 * The examples of demo/examples/, each loaded in a frame as its user would serve it (test/support/test-backend.ts):
 * the pages as written, the library from dist/ (`npm run build`), the React and Vue apps as Vite built them
 * (`npm run build:test-pages`). Each must bring its widget to ready, with the reference vendor's widget verifying its
 * token, on one token request.
 */
describe('the examples a newcomer copies', () => {
  const examples = [
    {
      name: 'plain HTML: the ES module and the tag',
      page: '/test-pages/examples/plain-html/',
      endpoint: '/api/widget-token',
    },
    {
      name: "WordPress: the Custom HTML block's classic script and tag",
      page: '/test-pages/examples/wordpress/',
      // The plugin's admin-ajax action; the test backend answers it with the host endpoint in place of the PHP.
      endpoint: '/wp-admin/admin-ajax.php?action=secure_widget_token',
    },
    {
      name: 'React 19: JSX with a <template> child',
      page: '/test-pages/examples/react/',
      endpoint: '/api/widget-token',
      shows: true,
    },
    {
      name: 'Vue 3: a template string with isCustomElement',
      page: '/test-pages/examples/vue/',
      endpoint: '/api/widget-token',
      shows: true,
    },
  ];

  for (const { name, page, endpoint, shows } of examples) {
    it(`${name} reaches ready with a token the vendor verifies`, async () => {
      const frame = document.createElement('iframe');
      frame.src = page;
      document.body.append(frame);
      try {
        const doc = () => frame.contentDocument;
        const widget = () => doc()?.querySelector('secure-widget');
        await until(() => widget()?.getAttribute('status') === 'ready', `${page} to reach ready`, 8_000);
        // The rendered vendor element, not the one inside the <template>.
        const vendor = [...widget()!.querySelectorAll<HTMLElement>('demo-widget')].find(
          (element) => !element.closest('template'),
        );
        expect(vendor, 'the vendor element was stamped').to.not.equal(undefined);
        await until(() => vendor!.dataset.state === 'ready', 'the vendor widget to verify its token');
        expect(vendor!.getAttribute('embed-token')).to.match(/^eyJ/);
        expect(vendor!.textContent).to.include('Community 42');
        if (shows) {
          // The app's own onsecure-widget-ready / @secure-widget-ready listener set its state.
          await until(
            () => doc()!.querySelector('[data-example-status]')?.textContent === 'ready',
            'the app to show ready',
          );
        }
        const requests = frame
          .contentWindow!.performance.getEntriesByType('resource')
          .filter((entry) => new URL(entry.name).pathname + new URL(entry.name).search === endpoint);
        expect(requests, `one request to ${endpoint}`).to.have.length(1);
      } finally {
        frame.remove();
      }
    });
  }
});
