import { expect } from '@open-wc/testing';
import { until } from './support/browser.js';

interface StrictWindow extends Window {
  violations: string[];
}

describe('works under a strict Content-Security-Policy', () => {
  it("loads the vendor script with the page's nonce and a Trusted Types policy, with no violation", async () => {
    const frame = document.createElement('iframe');
    frame.src = '/test-pages/strict-csp.html';
    frame.style.width = '600px';
    frame.style.height = '400px';
    document.body.append(frame);
    try {
      await until(
        () => frame.contentDocument?.querySelector('secure-widget')?.getAttribute('status') === 'ready',
        'ready',
        8_000,
      );
      const doc = frame.contentDocument!;
      const vendor = doc.querySelector<HTMLElement>('demo-widget')!;
      await until(() => vendor.dataset.state === 'ready', 'the vendor widget to verify its token');
      const script = [...doc.scripts].find((element) => element.src.endsWith('/vendor/widget.js'))!;
      expect(script.nonce).to.equal('n0nce-for-test');
      expect((frame.contentWindow as StrictWindow).violations).to.deep.equal([]);
    } finally {
      frame.remove();
    }
  });
});
