import { expect } from '@open-wc/testing';
import { SecureWidgetError, type SecureWidgetErrorCode } from '../../src/element/errors.js';
import { MAX_TOKEN_LENGTH } from '../../src/protocol/limits.js';
import {
  grantFromMarkup,
  grantFromResponse,
  isFresh,
  refreshTime,
  type Arrival,
} from '../../src/element/token/grant.js';

// The server's true time at the moment of the test, in ms and in JWT seconds.
const SERVER_NOW = Date.UTC(2026, 10, 22, 12, 0, 0);
const S = SERVER_NOW / 1000;
const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

const base64url = (text: string) => btoa(text).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');

/** A JWS in compact form. The signature is junk on purpose: the browser only decodes (docs/design.md, "Token
 * lifecycle"). */
function jwt(claims: Record<string, unknown>): string {
  return `${base64url(JSON.stringify({ alg: 'ES256', typ: 'JWT' }))}.${base64url(JSON.stringify(claims))}.c2lnbmF0dXJl`;
}

/** A 15-minute token issued `age` ms before SERVER_NOW. */
function fifteenMinuteToken(age = 0): string {
  const iat = (SERVER_NOW - age) / 1000;
  return jwt({ sub: 'u1', iat, exp: iat + 900 });
}

/** The response arrived when the server's clock read SERVER_NOW and the client's clock read SERVER_NOW + skew. */
const arrival = (skew = 0, serverTime: number | null = SERVER_NOW): Arrival => ({
  receivedAt: SERVER_NOW + skew,
  serverTime,
});

function failure(action: () => unknown): SecureWidgetError {
  try {
    action();
  } catch (error) {
    expect(error).to.be.instanceOf(SecureWidgetError);
    return error as SecureWidgetError;
  }
  throw new Error('expected a SecureWidgetError, nothing was thrown');
}

function expectCode(action: () => unknown, code: SecureWidgetErrorCode): SecureWidgetError {
  const error = failure(action);
  expect(error.code).to.equal(code);
  expect(error.fatal, 'a bad token is fatal').to.equal(true);
  return error;
}

describe('grant: expiry of an endpoint token is measured by the server clock', () => {
  it('uses the Date header as server time: expiresAt = arrival + (exp − Date)', () => {
    // Issued 5 minutes ago (the backend caches tokens), so 10 minutes remain by the server's clock.
    const grant = grantFromResponse(fifteenMinuteToken(5 * MINUTE), {}, arrival());
    expect(grant.expiresAt).to.equal(SERVER_NOW + 10 * MINUTE);
    expect(grant.lifetime).to.equal(15 * MINUTE);
  });

  it('falls back to iat when there is no readable Date header', () => {
    // Without the server's clock, the token is taken as issued on arrival: its whole life remains.
    const grant = grantFromResponse(fifteenMinuteToken(5 * MINUTE), {}, arrival(0, null));
    expect(grant.expiresAt).to.equal(SERVER_NOW + 15 * MINUTE);
    expect(grant.lifetime).to.equal(15 * MINUTE);
  });

  it('falls back to the local arrival time when there is neither Date nor iat', () => {
    const grant = grantFromResponse(jwt({ exp: S + 600 }), {}, arrival(0, null));
    expect(grant.expiresAt).to.equal(SERVER_NOW + 10 * MINUTE);
    expect(grant.lifetime, 'no iat: the remaining life stands in for the lifetime').to.equal(10 * MINUTE);
  });

  for (const [label, skew] of [
    ['2 h fast', 2 * HOUR],
    ['2 h slow', -2 * HOUR],
  ] as const) {
    it(`gives the same remaining life when the client clock is ${label}`, () => {
      const token = fifteenMinuteToken(5 * MINUTE);
      const withDate = grantFromResponse(token, {}, arrival(skew));
      expect(withDate.expiresAt).to.equal(SERVER_NOW + skew + 10 * MINUTE);
      const withIat = grantFromResponse(token, {}, arrival(skew, null));
      expect(withIat.expiresAt).to.equal(SERVER_NOW + skew + 15 * MINUTE);
      const withExpiresAt = grantFromResponse('opaque-token', { expiresAt: S + 300 }, arrival(skew));
      expect(withExpiresAt.expiresAt).to.equal(SERVER_NOW + skew + 5 * MINUTE);
    });
  }

  it('rejects a token already expired by the server clock, whatever the client clock says', () => {
    const stale = fifteenMinuteToken(16 * MINUTE);
    // The client's clock is 2 h slow: by its own clock the token still has 1 h 59 min to live.
    expectCode(() => grantFromResponse(stale, {}, arrival(-2 * HOUR)), 'token-expired');
    expectCode(() => grantFromResponse(jwt({ iat: S - 900, exp: S }), {}, arrival()), 'token-expired');
  });

  it('rejects a token whose exp is not after its iat when there is no Date header', () => {
    expectCode(() => grantFromResponse(jwt({ iat: S, exp: S }), {}, arrival(0, null)), 'token-malformed');
  });

  it('accepts a JWT without exp as unscheduled', () => {
    const grant = grantFromResponse(jwt({ sub: 'u1', iat: S }), {}, arrival());
    expect(grant).to.deep.equal({ token: grant.token, expiresAt: null, lifetime: null });
  });
});

describe('grant: expiry hints beside the token', () => {
  const opaque = 'a1b2c3d4e5f6';

  it('reads expiresAt in epoch seconds, epoch ms and ISO form, by the server clock', () => {
    const skew = 2 * HOUR;
    for (const expiresAt of [S + 300, SERVER_NOW + 5 * MINUTE, new Date(SERVER_NOW + 5 * MINUTE).toISOString()]) {
      const grant = grantFromResponse(opaque, { expiresAt }, arrival(skew));
      expect(grant.expiresAt, String(expiresAt)).to.equal(SERVER_NOW + skew + 5 * MINUTE);
      expect(grant.lifetime, String(expiresAt)).to.equal(5 * MINUTE);
    }
  });

  it('reads expiresIn as seconds from arrival', () => {
    const grant = grantFromResponse(opaque, { expiresIn: 900 }, arrival(-2 * HOUR));
    expect(grant.expiresAt).to.equal(SERVER_NOW - 2 * HOUR + 15 * MINUTE);
    expect(grant.lifetime).to.equal(15 * MINUTE);
  });

  it('takes the earliest of exp, expiresAt and expiresIn', () => {
    const token = fifteenMinuteToken(); // exp: 15 min
    expect(grantFromResponse(token, { expiresIn: 600, expiresAt: S + 1200 }, arrival()).expiresAt).to.equal(
      SERVER_NOW + 10 * MINUTE,
    );
    expect(grantFromResponse(token, { expiresIn: 1200, expiresAt: S + 300 }, arrival()).expiresAt).to.equal(
      SERVER_NOW + 5 * MINUTE,
    );
    expect(grantFromResponse(token, { expiresIn: 1200, expiresAt: S + 1200 }, arrival()).expiresAt).to.equal(
      SERVER_NOW + 15 * MINUTE,
    );
  });

  it('keeps the token lifetime (exp − iat) when a hint shortens the remaining life', () => {
    const grant = grantFromResponse(fifteenMinuteToken(), { expiresIn: 120 }, arrival());
    expect(grant.expiresAt).to.equal(SERVER_NOW + 2 * MINUTE);
    expect(grant.lifetime).to.equal(15 * MINUTE);
  });

  it('ignores null and unparsable hints', () => {
    const grant = grantFromResponse(opaque, { expiresAt: 'tomorrow-ish', expiresIn: null }, arrival());
    expect(grant.expiresAt).to.equal(null);
    expect(grantFromResponse(opaque, { expiresAt: null, expiresIn: Number.NaN }, arrival()).expiresAt).to.equal(null);
  });

  it('rejects a token whose hints say it has expired, or expires within a second', () => {
    expectCode(() => grantFromResponse(opaque, { expiresIn: 0.5 }, arrival()), 'token-expired');
    expectCode(() => grantFromResponse(opaque, { expiresAt: S - 1 }, arrival(2 * HOUR)), 'token-expired');
    expectCode(() => grantFromResponse(fifteenMinuteToken(), { expiresAt: S }, arrival()), 'token-expired');
  });
});

describe('grant: refuses what is not a token', () => {
  it('token-missing for an empty, blank or non-string value', () => {
    for (const value of ['', '   ', '\n\t', undefined, null, 42, {}, ['tok']]) {
      expectCode(() => grantFromResponse(value, {}, arrival()), 'token-missing');
    }
  });

  it(`token-malformed above ${MAX_TOKEN_LENGTH} characters, accepted at exactly that length`, () => {
    expectCode(() => grantFromResponse('a'.repeat(MAX_TOKEN_LENGTH + 1), {}, arrival()), 'token-malformed');
    expect(grantFromResponse('a'.repeat(MAX_TOKEN_LENGTH), {}, arrival()).token).to.have.length(MAX_TOKEN_LENGTH);
  });

  it('token-malformed for characters no bearer token is made of', () => {
    for (const value of ['abc def', 'abc"def', "abc'def", 'abc<def', '<!doctype html><html>', 'tok\nen']) {
      expectCode(() => grantFromResponse(value, {}, arrival()), 'token-malformed');
    }
  });

  it('token-malformed for a JWT-shaped string that does not decode', () => {
    const header = base64url('{"alg":"none"}');
    for (const value of [
      `${header}.def.ghi`, // payload is not base64url JSON
      `${header}.${base64url('not json')}.`,
      `${header}.${base64url('[1,2]')}.sig`, // JSON, but not a claims object
      `${header}.${base64url('"exp"')}.sig`,
    ]) {
      const error = expectCode(() => grantFromResponse(value, {}, arrival()), 'token-malformed');
      expect(error.cause, 'keeps the decoding error as cause').to.exist;
    }
  });

  it('token-malformed for a non-numeric exp or iat', () => {
    for (const claims of [{ exp: String(S + 900) }, { exp: null }, { exp: S + 900, iat: 'now' }, { exp: [S] }]) {
      expectCode(() => grantFromResponse(jwt(claims), {}, arrival()), 'token-malformed');
    }
  });

  it('never puts the token into the error message', () => {
    const secretish = 'abc def-SECRET-PART';
    expect(failure(() => grantFromResponse(secretish, {}, arrival())).message).not.to.contain('SECRET');
  });
});

describe('grant: opaque tokens', () => {
  it('accepts non-JWT bearer tokens with expiresAt null', () => {
    for (const value of [
      'a1b2c3d4e5f6',
      '3f2504e0-4f89-41d3-9a0c-0305e82c3301',
      'v2:QmFzZTY0K/Rva2VuPQ==',
      'pk_live.abc', // one dot: not a JWS
      'a.b.c.d.e', // five parts (a JWE): opaque to the browser
      'v1.abc.def', // three parts, but the first is no JSON header: a dotted opaque format
    ]) {
      const grant = grantFromResponse(value, {}, arrival());
      expect(grant, value).to.deep.equal({ token: value, expiresAt: null, lifetime: null });
    }
  });

  it('trims surrounding whitespace (a text/plain body ending in a newline)', () => {
    expect(grantFromResponse('  a1b2c3\r\n', {}, arrival()).token).to.equal('a1b2c3');
  });
});

describe('grant: server-rendered tokens (grantFromMarkup)', () => {
  it('expires at exp when the page is fresh and the clock is right', () => {
    const grant = grantFromMarkup(fifteenMinuteToken(), SERVER_NOW);
    expect(grant.expiresAt).to.equal(SERVER_NOW + 15 * MINUTE);
    expect(grant.lifetime).to.equal(15 * MINUTE);
  });

  it('takes exp by the local clock when the page was served stale from a cache', () => {
    // Rendered 10 minutes ago: now + (exp − iat) would promise 15 more minutes, exp itself only 5.
    const grant = grantFromMarkup(fifteenMinuteToken(10 * MINUTE), SERVER_NOW);
    expect(grant.expiresAt).to.equal(SERVER_NOW + 5 * MINUTE);
  });

  it('takes now + (exp − iat) when the client clock is far behind', () => {
    const now = SERVER_NOW - 2 * HOUR;
    const grant = grantFromMarkup(fifteenMinuteToken(), now);
    expect(grant.expiresAt).to.equal(now + 15 * MINUTE);
  });

  it('is token-expired when exp has passed by the local clock', () => {
    expectCode(() => grantFromMarkup(fifteenMinuteToken(20 * MINUTE), SERVER_NOW), 'token-expired');
    expectCode(() => grantFromMarkup(fifteenMinuteToken(15 * MINUTE), SERVER_NOW), 'token-expired');
  });

  it('is refused when exp − iat leaves no life, even if the local clock is behind', () => {
    expectCode(() => grantFromMarkup(jwt({ iat: S, exp: S }), SERVER_NOW - 2 * HOUR), 'token-malformed');
    expectCode(() => grantFromMarkup(jwt({ iat: S, exp: S + 0.5 }), SERVER_NOW - 2 * HOUR), 'token-expired');
  });

  it('uses exp by the local clock alone when there is no iat', () => {
    const grant = grantFromMarkup(jwt({ exp: S + 600 }), SERVER_NOW);
    expect(grant).to.include({ expiresAt: SERVER_NOW + 10 * MINUTE, lifetime: null });
  });

  it('accepts an opaque markup token unscheduled, and refuses a malformed one', () => {
    expect(grantFromMarkup('a1b2c3', SERVER_NOW)).to.deep.equal({ token: 'a1b2c3', expiresAt: null, lifetime: null });
    expectCode(() => grantFromMarkup('<script>', SERVER_NOW), 'token-malformed');
    expectCode(() => grantFromMarkup('  ', SERVER_NOW), 'token-missing');
  });
});

describe('grant: refreshTime', () => {
  const grant = { token: 't', expiresAt: SERVER_NOW + 15 * MINUTE, lifetime: 15 * MINUTE };

  it('is the margin before expiry', () => {
    expect(refreshTime(grant, MINUTE)).to.equal(SERVER_NOW + 14 * MINUTE);
    expect(refreshTime(grant, 0)).to.equal(grant.expiresAt);
  });

  it('caps the margin at half the lifetime', () => {
    expect(refreshTime(grant, 10 * MINUTE)).to.equal(grant.expiresAt - 7.5 * MINUTE);
    expect(refreshTime({ ...grant, lifetime: 2 * MINUTE }, MINUTE)).to.equal(grant.expiresAt - MINUTE);
    expect(refreshTime({ ...grant, lifetime: 60_000 }, 45_000)).to.equal(grant.expiresAt - 30_000);
  });

  it('uses the whole margin when the lifetime is unknown', () => {
    expect(refreshTime({ ...grant, lifetime: null }, 10 * MINUTE)).to.equal(grant.expiresAt - 10 * MINUTE);
  });

  it('is null for a token without expiry', () => {
    expect(refreshTime({ token: 't', expiresAt: null, lifetime: null }, MINUTE)).to.equal(null);
  });
});

describe('grant: isFresh', () => {
  it('is true before expiresAt, false from expiresAt on', () => {
    const grant = { token: 't', expiresAt: SERVER_NOW, lifetime: null };
    expect(isFresh(grant, SERVER_NOW - 1)).to.equal(true);
    expect(isFresh(grant, SERVER_NOW)).to.equal(false);
    expect(isFresh(grant, SERVER_NOW + 1)).to.equal(false);
  });

  it('is true for a token without expiry and false for no token', () => {
    expect(isFresh({ token: 't', expiresAt: null, lifetime: null }, SERVER_NOW)).to.equal(true);
    expect(isFresh(null, SERVER_NOW)).to.equal(false);
  });
});

describe('grant: junk numbers and tokens that never lived (issue 10)', () => {
  it('an empty, zero or negative expiresIn is no hint, not an expired token', () => {
    for (const expiresIn of ['', ' ', 0, -5, Number.NaN, Number.POSITIVE_INFINITY, 'soon']) {
      const grant = grantFromResponse(fifteenMinuteToken(), { expiresIn: expiresIn as number }, arrival());
      expect(grant.expiresAt, String(expiresIn)).to.equal(SERVER_NOW + 15 * MINUTE);
    }
  });

  it('an empty or zero expiresAt is no hint either', () => {
    for (const expiresAt of ['', 0, -1, 'not a date']) {
      const grant = grantFromResponse(fifteenMinuteToken(), { expiresAt }, arrival());
      expect(grant.expiresAt, String(expiresAt)).to.equal(SERVER_NOW + 15 * MINUTE);
    }
  });

  it('a token whose exp is not after its iat is token-malformed, from the endpoint and from markup', () => {
    const iat = SERVER_NOW / 1000;
    for (const exp of [iat, iat - 60]) {
      expectCode(() => grantFromResponse(jwt({ iat, exp }), {}, arrival()), 'token-malformed');
      expectCode(() => grantFromMarkup(jwt({ iat, exp }), SERVER_NOW), 'token-malformed');
    }
  });

  it('a token with less than a second to live is token-expired: no schedule is built on it', () => {
    const iat = SERVER_NOW / 1000;
    expectCode(() => grantFromResponse(jwt({ iat, exp: iat + 0.5 }), {}, arrival()), 'token-expired');
    expectCode(() => grantFromResponse('opaque-token', { expiresIn: 0.001 }, arrival()), 'token-expired');
    expect(grantFromResponse('opaque-token', { expiresIn: 1 }, arrival()).expiresAt).to.equal(SERVER_NOW + 1_000);
  });
});
