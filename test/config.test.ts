import { expect } from '@open-wc/testing';
import { DEFAULT_MARGIN_SECONDS, readConfig } from '../src/element/config.js';

describe('config: junk numbers from markup mean the default', () => {
  it('an empty, zero, negative or non-numeric refresh-margin is the default margin', () => {
    for (const refreshMargin of ['', ' ', '0', 0, '-5', 'soon', 'Infinity', null, undefined]) {
      const { marginMs: margin } = readConfig({ tokenEndpoint: '/token', refreshMargin });
      expect(margin, String(refreshMargin)).to.equal(DEFAULT_MARGIN_SECONDS * 1000);
    }
    expect(readConfig({ tokenEndpoint: '/token', refreshMargin: '30' }).marginMs).to.equal(30_000);
    expect(readConfig({ tokenEndpoint: '/token', refreshMargin: 0.5 }).marginMs).to.equal(500);
  });
});

describe("config: the token endpoint on the page's own origin", () => {
  const page = (origin: string) => ({ origin }) as Location;

  it('needs only to parse there, and passes the URL rule anywhere else', () => {
    expect(readConfig({ tokenEndpoint: '/token' }).endpointUrl?.origin).to.equal(location.origin);
    expect(() => readConfig({ tokenEndpoint: 'http://api.example/token' }))
      .to.throw()
      .with.property('code', 'url-rejected');
  });

  it('is never an opaque origin: a sandboxed or file: page does not make data: its own', () => {
    const attributes = { tokenEndpoint: 'data:text/plain,eyJhbGciOiJub25lIn0.e30.' };
    expect(() => readConfig(attributes, page('null')))
      .to.throw()
      .with.property('code', 'url-rejected');
  });
});
