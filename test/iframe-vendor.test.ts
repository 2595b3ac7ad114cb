import { expect } from '@open-wc/testing';
import '../src/index.js';
import type { SecureWidget } from '../src/element/secure-widget.js';
import { HOST_ENDPOINT, VENDOR, mount, nextEvent, recordEvents, testScope, until } from './support/browser.js';

const FRAME_PAGE = `${VENDOR}/frame.html?community-id=42&user-id=iframe-user`;

afterEach(() => {
  document.body.replaceChildren();
});

const frameOf = (widget: SecureWidget) => widget.shadowRoot!.querySelector('iframe')!;

describe('iframe mode against the reference vendor page', () => {
  it('hands the first token over the port; the vendor page verifies it, renders and sizes itself', async () => {
    const widget = mount(
      `<secure-widget token-endpoint="${HOST_ENDPOINT}" src="${FRAME_PAGE}"></secure-widget>`,
    ).querySelector('secure-widget')!;
    const log = recordEvents(widget, ['secure-widget-token', 'secure-widget-error']);
    const ready = await nextEvent(widget, 'secure-widget-ready');
    expect(ready.detail).to.deep.equal({ mode: 'iframe' });
    expect(log.of('secure-widget-error')).to.have.length(0);
    await until(() => parseFloat(frameOf(widget).style.height) > 50, 'the auto-height');
    expect(frameOf(widget).src.includes('eyJ')).to.equal(false);
  });

  it('a vendor page that rejects the token gets a new one and reloads', async () => {
    // The vendor rejects the foreign token; the host asks again and this time gets a real one.
    const scope = await testScope({ respond: 'foreign', next: {} });
    const widget = mount(
      `<secure-widget token-endpoint="${scope.endpoint}" src="${FRAME_PAGE}"></secure-widget>`,
    ).querySelector('secure-widget')!;
    const log = recordEvents(widget, ['secure-widget-reload', 'secure-widget-error', 'secure-widget-ready']);
    await until(() => log.of('secure-widget-reload').length === 1, 'the reload with a token the vendor accepts');
    await until(() => widget.status === 'ready', 'ready');
    expect(log.of('secure-widget-reload')[0]!.detail.reason).to.equal('expired');
    expect(scope.started()).to.equal(2);
  });

  it('a vendor page that rejects every token ends in reload-loop, not a storm', async () => {
    const scope = await testScope({ respond: 'foreign' });
    const widget = mount(
      `<secure-widget token-endpoint="${scope.endpoint}" src="${FRAME_PAGE}"></secure-widget>`,
    ).querySelector('secure-widget')!;
    const error = await nextEvent(widget, 'secure-widget-error', 8_000);
    expect(error.detail).to.include({ code: 'reload-loop', fatal: true });
    expect(scope.started()).to.equal(3);
    expect(widget.status).to.equal('error');
  });
});
