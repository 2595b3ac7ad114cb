/**
 * The server never answers 200 with a token the element would refuse: for any answer an issuer may resolve (opaque
 * strings of any characters and length, JWTs with any `exp`/`iat`, expiry hints as numbers, numeric strings, ISO
 * dates or junk), whatever `createTokenHandler` answers with 200 goes through the element's own reading of an
 * endpoint's answer (`grantFromResponse`, with the response's `Date`) without an error. Both sides apply
 * src/protocol/token-rules.ts; this checks that nothing else between them disagrees.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { SecureWidgetError } from '../../src/element/errors.js';
import { grantFromResponse } from '../../src/element/token/grant.js';
import { MAX_TOKEN_LENGTH } from '../../src/protocol/limits.js';
import { createTokenHandler } from '../../src/server/index.js';

const T0 = Date.UTC(2026, 11, 7, 12);
const T0_SECONDS = T0 / 1000;

/** A number of seconds around now: past, about to end, or hours ahead. */
const secondsAround = fc.integer({ min: -600, max: 6 * 3600 });

/** A claim as a vendor might write it: a number, a numeric string, junk, or nothing. */
const claim = fc.oneof(
  secondsAround.map((offset) => T0_SECONDS + offset),
  secondsAround.map((offset) => String(T0_SECONDS + offset)),
  fc.constantFrom(Number.NaN, null, 'soon', 0, -1, 1e30),
  fc.constant(undefined),
);

const jwt = fc.record({ exp: claim, iat: claim }).map(({ exp, iat }) => {
  const payload: Record<string, unknown> = { sub: 'u1' };
  if (exp !== undefined) payload.exp = exp;
  if (iat !== undefined) payload.iat = iat;
  // Encoded by hand: a vendor's claims need not be of the types a JWT library would let through.
  const encode = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
  return `${encode({ alg: 'ES256', typ: 'JWT' })}.${encode(payload)}.c2lnbmF0dXJl`;
});

const opaque = fc.oneof(
  fc.string({ minLength: 0, maxLength: 40 }),
  fc.stringMatching(/^[\w\-.~+/=:]{1,64}$/),
  fc.constantFrom('x'.repeat(MAX_TOKEN_LENGTH), 'x'.repeat(MAX_TOKEN_LENGTH + 1), ' padded ', 'a b', '<html>', 'tökén'),
);

/** `expiresAt` as a vendor might state it: epoch seconds or ms, numbers or strings, an ISO date, or junk. */
const expiresAt = fc.oneof(
  secondsAround.map((offset) => T0_SECONDS + offset),
  secondsAround.map((offset) => (T0_SECONDS + offset) * 1000),
  secondsAround.map((offset) => String(T0_SECONDS + offset)),
  secondsAround.map((offset) => new Date(T0 + offset * 1000).toISOString()),
  fc.constantFrom('', 'soon', -5, 0, Number.NaN, null),
  fc.constant(undefined),
);
const expiresIn = fc.oneof(
  secondsAround,
  secondsAround.map(String),
  fc.constantFrom('', 'x', 0, -1),
  fc.constant(undefined),
);

const issued = fc.oneof(
  fc.oneof(jwt, opaque),
  fc.record({ token: fc.oneof(jwt, opaque), expiresAt, expiresIn }, { requiredKeys: ['token'] }),
);

describe('the server and the element read a token alike', () => {
  it('the server never answers 200 with a token the element would refuse', async () => {
    await fc.assert(
      fc.asyncProperty(issued, async (result) => {
        const handler = createTokenHandler({
          authorize: () => ({ id: 'u1' }),
          issue: async () => result as never,
          now: () => T0,
          rateLimit: false,
          logger: { warn: () => {}, error: () => {} } as never,
        });
        const response = await handler(new Request('https://host.example/api/widget-token'));
        if (response.status !== 200) {
          // Refused by the server: a typed JSON error, never a token.
          const body = (await response.json()) as { error?: { code?: string } };
          assert.equal(typeof body.error?.code, 'string');
          return;
        }
        const body = (await response.json()) as { embedToken: unknown; expiresAt?: unknown };
        const serverTime = Date.parse(response.headers.get('Date') ?? '');
        try {
          grantFromResponse(
            body.embedToken,
            { expiresAt: body.expiresAt as number },
            {
              receivedAt: T0,
              serverTime: Number.isFinite(serverTime) ? serverTime : null,
            },
          );
        } catch (error) {
          const code = error instanceof SecureWidgetError ? error.code : String(error);
          assert.fail(`the server answered 200, and the element refused it with ${code}: ${JSON.stringify(result)}`);
        }
      }),
      { numRuns: 400, seed: 20261207 },
    );
  });
});
