import { expect } from '@open-wc/testing';
import { DEFAULT_MARGIN_SECONDS, readConfig } from '../src/element/config.js';

describe('config: junk numbers from markup mean the default', () => {
  it('an empty, zero, negative or non-numeric refresh-margin is the default margin', () => {
    for (const refreshMargin of ['', ' ', '0', 0, '-5', 'soon', 'Infinity', null, undefined]) {
      const { margin } = readConfig({ tokenEndpoint: '/token', refreshMargin });
      expect(margin, String(refreshMargin)).to.equal(DEFAULT_MARGIN_SECONDS * 1000);
    }
    expect(readConfig({ tokenEndpoint: '/token', refreshMargin: '30' }).margin).to.equal(30_000);
    expect(readConfig({ tokenEndpoint: '/token', refreshMargin: 0.5 }).margin).to.equal(500);
  });
});
