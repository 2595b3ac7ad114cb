import { expect } from '@open-wc/testing';
import sinon from 'sinon';
import '../src/index.js';
import type { SecureWidget } from '../src/element/secure-widget.js';
import { mount, nextEvent, nextTask, recordEvents, testScope, until } from './support/browser.js';

afterEach(() => {
  sinon.restore();
  document.body.replaceChildren();
});

function widgetFor(endpoint: string, attributes = ''): SecureWidget {
  return mount(`
    <secure-widget token-endpoint="${endpoint}" ${attributes}>
      <template><probe-widget></probe-widget></template>
    </secure-widget>`).querySelector('secure-widget')!;
}

/** A widget that got ready, then was removed from the page and torn down (its vendor element gone). */
async function readyThenRemoved() {
  const scope = await testScope();
  const widget = widgetFor(scope.endpoint);
  await nextEvent(widget, 'secure-widget-ready');
  const parent = widget.parentElement!;
  widget.remove();
  await nextTask();
  expect(widget.querySelector('probe-widget'), 'torn down').to.equal(null);
  return { scope, widget, parent };
}

describe('cleans up after itself', () => {
  it('a moved element keeps its token and makes no request', async () => {
    const scope = await testScope();
    const widget = widgetFor(scope.endpoint);
    await nextEvent(widget, 'secure-widget-ready');
    const vendor = widget.querySelector('probe-widget')!;
    const log = recordEvents(widget, ['secure-widget-token', 'secure-widget-ready', 'secure-widget-error']);
    const elsewhere = mount('');
    elsewhere.append(widget);
    // A teardown would have run by now (it waits a microtask), and a restart asked for its token in the same update.
    await nextTask();
    await widget.updateComplete;
    expect(widget.querySelector('probe-widget')).to.equal(vendor);
    expect(log.events).to.have.length(0);
    expect(widget.status).to.equal('ready');
    expect(scope.started()).to.equal(1);
  });

  it('a removed element stops its timer and aborts its request', async () => {
    // Never answered: only the abort ends it.
    const scope = await testScope({ respond: 'hang' });
    const widget = widgetFor(scope.endpoint, 'token-scope="element"');
    const log = recordEvents(widget, ['secure-widget-token', 'secure-widget-error']);
    await until(async () => (await scope.calls()) === 1, 'the request');
    widget.remove();
    await scope.settled();
    expect(scope.requests().map((request) => request.outcome)).to.deep.equal(['aborted']);
    expect(log.events, 'an aborted fetch is not an error').to.have.length(0);
    expect(widget.querySelector('probe-widget')).to.equal(null);
  });

  it('the stamped vendor element is removed on disconnect and stamped again on reconnect', async () => {
    const { widget, parent } = await readyThenRemoved();
    const ready = nextEvent(widget, 'secure-widget-ready');
    parent.append(widget);
    await ready;
    expect(widget.querySelectorAll('probe-widget')).to.have.length(1);
  });

  it('a widget that comes back later (a single-page app navigating) reuses the valid token: no request', async () => {
    const { scope, widget, parent } = await readyThenRemoved();
    const token = nextEvent(widget, 'secure-widget-token');
    parent.append(widget);
    expect((await token).detail.source).to.equal('shared');
    await nextEvent(widget, 'secure-widget-ready');
    expect(scope.started()).to.equal(1);
  });

  it('a changed token-endpoint switches to the new endpoint', async () => {
    const first = await testScope();
    const second = await testScope();
    const widget = widgetFor(first.endpoint);
    await nextEvent(widget, 'secure-widget-ready');
    const ready = nextEvent(widget, 'secure-widget-ready');
    widget.tokenEndpoint = second.endpoint;
    await ready;
    expect(await first.calls()).to.equal(1);
    expect(await second.calls()).to.equal(1);
    expect(widget.querySelectorAll('probe-widget')).to.have.length(1);
  });

  it('a property set right after insertion is seen (el.fetchToken = …)', async () => {
    const scope = await testScope();
    const token = (await fetch(scope.endpoint).then((response) => response.json())) as { embedToken: string };
    const widget = document.createElement('secure-widget');
    widget.innerHTML = '<template><probe-widget></probe-widget></template>';
    document.body.append(widget);
    widget.fetchToken = async () => token.embedToken;
    const log = recordEvents(widget, ['secure-widget-error']);
    await nextEvent(widget, 'secure-widget-ready');
    expect(log.events).to.have.length(0);
  });
});
