import { expect } from '@open-wc/testing';
import { HOST_ENDPOINT, mount, nextEvent } from './support/browser.js';

// The built file, as a page would load it: one ES module, lit and jose inside, defining the element on import.
const DIST = '/dist/secure-widget.js';

describe('the built library (dist/secure-widget.js)', () => {
  it('defines <secure-widget> on import and works against the host endpoint', async () => {
    const module = (await import(/* @vite-ignore */ DIST)) as { SecureWidget: CustomElementConstructor };
    expect(customElements.get('secure-widget')).to.equal(module.SecureWidget);
    const widget = mount(`
      <secure-widget token-endpoint="${HOST_ENDPOINT}"><template><span></span></template></secure-widget>`).querySelector(
      'secure-widget',
    )!;
    await nextEvent(widget, 'secure-widget-ready');
    expect(widget.querySelector('span')!.getAttribute('embed-token')).to.match(/^eyJ/);
  });
});
