import { expect } from '@open-wc/testing';
import '../src/index.js';
import type { SecureWidget } from '../src/index.js';
import { mount, nextEvent, until } from './support/browser.js';

declare global {
  // What test/support/probe-vendor.js records each time it runs: the token on its element then.
  var probeVendorRuns: (string | null)[] | undefined;
}

const PROBE = new URL('./support/probe-vendor.js', import.meta.url).pathname;
let run = 0;

/** A token the test hands over when it says so: time is an explicit signal here, not a delay. */
function gatedToken() {
  let release!: (token: string) => void;
  const token = new Promise<string>((resolve) => (release = resolve));
  return { fetchToken: () => token.then((value) => ({ token: value, expiresIn: 600 })), release };
}

/** The downloads of `url` the browser made, as Resource Timing lists them. */
const downloads = (url: string) => performance.getEntriesByName(url, 'resource').length;

async function sha384(url: string): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-384', await (await fetch(url)).arrayBuffer());
  return `sha384-${btoa(String.fromCharCode(...new Uint8Array(digest)))}`;
}

afterEach(() => {
  document.body.replaceChildren();
  globalThis.probeVendorRuns = undefined;
});

describe('a plain vendor child', () => {
  for (const variant of ['classic', 'module', 'classic with integrity'] as const) {
    it(`downloads the bundle while the token loads, and runs it once the token is on the child (${variant})`, async () => {
      const url = new URL(`${PROBE}?run=${(run += 1)}`, location.href).href;
      const type = variant === 'module' ? 'module' : 'classic';
      // The hash is taken from another URL of the same file: the test's own fetch must not count as a download.
      const integrity = variant === 'classic with integrity' ? ` integrity="${await sha384(`${PROBE}?hash`)}"` : '';
      const container = mount(`
        <secure-widget bundle-url="${url}" bundle-type="${type}"${integrity}><probe-vendor></probe-vendor></secure-widget>`);
      const widget = container.querySelector<SecureWidget>('secure-widget')!;
      const gate = gatedToken();
      widget.fetchToken = gate.fetchToken;

      // The signal that the download happened: its Resource Timing entry, written when the response is complete.
      await until(() => downloads(url) === 1, 'the bundle downloaded before the token came');
      const before = {
        runs: globalThis.probeVendorRuns ?? [],
        scripts: [...document.scripts].filter((script) => script.src === url).length,
        status: widget.status,
      };

      const ready = nextEvent(widget, 'secure-widget-ready');
      gate.release('opaque-token-of-this-test');
      await ready;
      expect({ before, after: { runs: globalThis.probeVendorRuns, downloads: downloads(url) } }).to.deep.equal({
        before: { runs: [], scripts: 0, status: 'loading' },
        // One download in all: the script ran from the preload, and saw its element's token.
        after: { runs: ['opaque-token-of-this-test'], downloads: 1 },
      });
    });
  }
});
