import { expect } from '@open-wc/testing';
import '../src/index.js';
import type { SecureWidget } from '../src/secure-widget.js';
import { BUNDLE_URL, HOST_ENDPOINT, mount, nextEvent, testScope, until } from './support/browser.js';

interface DemoWidget extends HTMLElement {
  readonly loadCount: number;
  readonly loadedTokenId: string | null;
}

afterEach(() => {
  document.body.replaceChildren();
});

describe('bundle mode against the reference vendor', () => {
  it('renders the vendor widget with a token from the host endpoint', async () => {
    const container = mount(`
      <secure-widget token-endpoint="${HOST_ENDPOINT}" bundle-url="${BUNDLE_URL}">
        <template><demo-widget community-id="42" data-user-id="u1"></demo-widget></template>
      </secure-widget>`);
    const widget = container.querySelector('secure-widget')!;
    const ready = await nextEvent(widget, 'secure-widget-ready');
    expect(ready.detail).to.deep.equal({ mode: 'bundle' });
    expect(widget.status).to.equal('ready');
    expect(widget.getAttribute('status')).to.equal('ready');

    const vendor = widget.querySelector<DemoWidget>('demo-widget')!;
    expect(vendor.getAttribute('embed-token')).to.match(/^eyJ/);
    await until(() => vendor.dataset.state === 'ready', 'the vendor to verify its token');
    expect(vendor.textContent).to.contain('Community 42');
    expect(vendor.textContent).to.contain('u1');
  });
});
