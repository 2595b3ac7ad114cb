/**
 * The token endpoint every runtime example here serves, built from the environment it is given: `process.env` on
 * Node and Bun, `Deno.env.toObject()` on Deno, a Worker's `env`. One handler per environment, made once.
 *
 * - With `WIDGET_SIGNING_KEY` it signs the tokens itself (`signToken`, for vendors that trust your key): a PKCS#8 PEM
 *   or a private JWK as JSON, `WIDGET_SIGNING_ALG` (default ES256), `WIDGET_ISSUER` and `WIDGET_AUDIENCE`.
 * - Else it exchanges your API key for the vendor's token (`tokenExchange`, Qrvey style): `VENDOR_TOKEN_URL` and
 *   `VENDOR_API_KEY`.
 *
 * `SESSION_SECRET` signs the stand-in session (session.js); `WIDGET_TIMEOUT_MS` (default 5000) bounds the vendor.
 */
import { createTokenHandler, signToken, tokenExchange } from 'secure-widget/server';
import { signedInUser } from './session.js';

export function widgetTokenHandler(env) {
  const sessionSecret = required(env, 'SESSION_SECRET');
  return createTokenHandler({
    authorize: (request) => signedInUser(request, sessionSecret),
    issue: env.WIDGET_SIGNING_KEY ? signing(env) : exchange(env),
    ...(env.WIDGET_TIMEOUT_MS && { timeoutMs: Number(env.WIDGET_TIMEOUT_MS) }),
  });
}

function signing(env) {
  return signToken({
    key: signingKey(env.WIDGET_SIGNING_KEY),
    alg: env.WIDGET_SIGNING_ALG ?? 'ES256',
    issuer: required(env, 'WIDGET_ISSUER'), // who you are to the vendor (iss)
    audience: required(env, 'WIDGET_AUDIENCE'), // the vendor (aud)
    subject: (user) => user.id,
  });
}

function exchange(env) {
  return tokenExchange({
    url: required(env, 'VENDOR_TOKEN_URL'),
    headers: { 'x-api-key': required(env, 'VENDOR_API_KEY') },
    body: (user) => ({ userId: user.id }),
  });
}

/** A JWK arrives as JSON text; JSON.parse's own error would quote the key, so it is not passed on. */
function signingKey(text) {
  if (!text.trimStart().startsWith('{')) return text;
  try {
    return JSON.parse(text);
  } catch {
    throw new TypeError('WIDGET_SIGNING_KEY starts like a JWK but is not JSON');
  }
}

function required(env, name) {
  const value = env[name];
  if (!value) throw new TypeError(`Set ${name} in the environment`);
  return value;
}
