import { expect } from '@open-wc/testing';
import { until } from './support/browser.js';

describe('the classic script (dist/secure-widget.classic.js)', () => {
  for (const [name, query] of [
    ['in one piece', ''],
    // The parser pauses before the vendor element: the element, defined above the tag, runs (it asks for its token)
    // without its child, and must wait for the rest of the markup rather than give up on it.
    ['in two pieces cut before the vendor element', '?split=1'],
  ]) {
    // The WordPress example's block (demo/examples/wordpress/block.html) inside a post.
    it(`works from a CMS block: a <script src> without type="module", then the tag, to ready (page ${name})`, async () => {
      await reachesReady(`/test-pages/examples/wordpress/${query}`);
    });
  }

  async function reachesReady(page: string): Promise<void> {
    const frame = document.createElement('iframe');
    frame.src = page;
    document.body.append(frame);
    try {
      const widget = () => frame.contentDocument?.querySelector('secure-widget');
      await until(() => widget()?.getAttribute('status') === 'ready', 'ready', 8_000);
      const vendor = frame.contentDocument!.querySelector<HTMLElement>('demo-widget')!;
      await until(() => vendor.dataset.state === 'ready', 'the vendor widget to verify its token');
      // The script defines the element and leaves one global for scripts that want the class.
      expect(
        (frame.contentWindow as unknown as { SecureWidget: { SecureWidget: unknown } }).SecureWidget.SecureWidget,
      ).to.equal(frame.contentWindow!.customElements.get('secure-widget'));
    } finally {
      frame.remove();
    }
  }
});
