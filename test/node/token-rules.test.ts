/**
 * The token rules every side applies (src/protocol/token-rules.ts), DOM-free: what a token is, what its JWT claims
 * must say, and how expiry hints read.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MAX_TOKEN_LENGTH } from '../../src/protocol/limits.js';
import { claimsFault, expiresAtHint, isCompactJws, positiveNumber, tokenFault } from '../../src/protocol/token-rules.js';

describe('token rules: what a token is', () => {
  it('a trimmed string of b64token characters and ":", at most the limit', () => {
    for (const token of ['abc', ' v2:abc ', 'a.b.c', 'dGVzdA==', 'a-b_c~d+e/f', 'x'.repeat(MAX_TOKEN_LENGTH)]) {
      assert.equal(tokenFault(token), null, token.slice(0, 20));
    }
  });

  it('names the rule that anything else breaks', () => {
    const cases: [unknown, string][] = [
      [undefined, 'missing'],
      [42, 'missing'],
      ['  ', 'missing'],
      ['x'.repeat(MAX_TOKEN_LENGTH + 1), 'too-long'],
      ['<html>', 'characters'],
      ['a b', 'characters'],
      ['"abc"', 'characters'],
      ['tökén', 'characters'],
    ];
    for (const [value, fault] of cases) assert.equal(tokenFault(value), fault, String(value).slice(0, 20));
  });

  it('reads claims only of a compact JWS', () => {
    assert.equal(isCompactJws('eyJhbGciOiJIUzI1NiJ9.eyJleHAiOjF9.sig'), true);
    assert.equal(isCompactJws('v1.abc.def'), false);
    assert.equal(isCompactJws('eyJa.b.c.d.e'), false);
  });
});

describe('token rules: the claims that give a JWT its life', () => {
  it('exp and iat absent, or finite numbers with exp after iat', () => {
    assert.equal(claimsFault({}), null);
    assert.equal(claimsFault({ exp: 2 }), null);
    assert.equal(claimsFault({ exp: 2, iat: 1 }), null);
    assert.equal(claimsFault({ exp: '2', iat: 1 }), 'claim-not-number');
    assert.equal(claimsFault({ exp: 2, iat: Number.NaN }), 'claim-not-number');
    assert.equal(claimsFault({ exp: null }), 'claim-not-number');
    assert.equal(claimsFault({ exp: 1, iat: 1 }), 'exp-not-after-iat');
    assert.equal(claimsFault({ exp: 1, iat: 2 }), 'exp-not-after-iat');
  });
});

describe('token rules: expiry hints', () => {
  it('expiresAt: epoch seconds or ms, as numbers or numeric strings, or an ISO date; junk is no hint', () => {
    assert.equal(expiresAtHint(1_700_000_000), 1_700_000_000_000);
    assert.equal(expiresAtHint('1700000000'), 1_700_000_000_000);
    assert.equal(expiresAtHint(' 1700000000.5 '), 1_700_000_000_500);
    assert.equal(expiresAtHint(1_700_000_000_000), 1_700_000_000_000);
    assert.equal(expiresAtHint('2023-11-14T22:13:20Z'), 1_700_000_000_000);
    for (const junk of ['', ' ', 'soon', -5, 0, Number.NaN, Number.POSITIVE_INFINITY, null, undefined, {}]) {
      assert.equal(expiresAtHint(junk), null, String(junk));
    }
  });

  it('expiresIn (and every duration): a positive finite number, or a string of one', () => {
    assert.equal(positiveNumber(60), 60);
    assert.equal(positiveNumber('60'), 60);
    for (const junk of ['', '0', 0, -1, '1e999', 'x', null]) assert.equal(positiveNumber(junk), null, String(junk));
  });
});
