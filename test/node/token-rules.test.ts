/**
 * The token rules every side applies (src/protocol/token-rules.ts), DOM-free: what a token is, what its JWT claims
 * must say, and how expiry hints read.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MAX_TOKEN_LENGTH } from '../../src/protocol/limits.js';
import { readToken } from '../../src/protocol/token-read.js';
import { expiresAtHint, positiveNumber, tokenFault } from '../../src/protocol/token-rules.js';

/** A compact JWS with these claims (unsigned: the rules read claims, they never verify). */
const jwt = (claims: unknown) =>
  `${Buffer.from('{"alg":"none"}').toString('base64url')}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.sig`;
const faultOf = (value: unknown) => {
  const read = readToken(value);
  return 'fault' in read ? read.fault : null;
};

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

  it('reads claims only of a compact JWS, trimmed; an opaque token has none', () => {
    assert.deepEqual(readToken(` ${jwt({ exp: 2, iat: 1 })} `), {
      token: jwt({ exp: 2, iat: 1 }),
      jwtClaims: { exp: 2, iat: 1 },
    });
    for (const opaque of ['v1.abc.def', 'eyJa.b.c.d.e', 'abc']) {
      assert.deepEqual(readToken(opaque), { token: opaque, jwtClaims: {} });
    }
  });

  it('refuses a JWS that does not decode, keeping why as the cause', () => {
    const read = readToken(`${jwt({}).split('.')[0]}.bm90IGpzb24.sig`);
    assert.ok('fault' in read);
    assert.equal(read.fault, 'jwt-undecodable');
    assert.ok(read.cause instanceof Error);
  });
});

describe('token rules: the claims that give a JWT its life', () => {
  it('exp and iat absent, or finite numbers with exp after iat', () => {
    assert.equal(faultOf(jwt({})), null);
    assert.equal(faultOf(jwt({ exp: 2 })), null);
    assert.equal(faultOf(jwt({ exp: 2, iat: 1 })), null);
    assert.equal(faultOf(jwt({ exp: '2', iat: 1 })), 'claim-not-number');
    assert.equal(faultOf(jwt({ exp: 2, iat: 'NaN' })), 'claim-not-number');
    assert.equal(faultOf(jwt({ exp: null })), 'claim-not-number');
    assert.equal(faultOf(jwt({ exp: 1, iat: 1 })), 'exp-not-after-iat');
    assert.equal(faultOf(jwt({ exp: 1, iat: 2 })), 'exp-not-after-iat');
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
