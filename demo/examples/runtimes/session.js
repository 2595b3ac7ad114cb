/**
 * A stand-in for your own session check, so that the examples run: the signed-in user is the one a `session` cookie
 * names, `session=<user id>.<its HMAC-SHA256 under SESSION_SECRET, base64url>`. WebCrypto only, so that it runs
 * wherever the handler does. In your app, ask your framework's session instead (a cookie session, Auth.js, Lucia...).
 */
const encoder = new TextEncoder();
const keys = new Map();

/** The user the request's session cookie names, or null (→ 401). */
export async function signedInUser(request, secret) {
  const cookie = /(?:^|;\s*)session=([\w-]{1,64})\.([\w-]{43})(?:;|$)/.exec(request.headers.get('cookie') ?? '');
  if (!cookie) return null;
  const [, id, mac] = cookie;
  // verify() compares in constant time; a cookie that does not decode is nobody's.
  try {
    const valid = await crypto.subtle.verify('HMAC', await hmacKey(secret), fromBase64url(mac), encoder.encode(id));
    return valid ? { id } : null;
  } catch {
    return null;
  }
}

/** The cookie value that signs `id` in: what your login would set (the examples' tests use it too). */
export async function sessionCookie(id, secret) {
  const mac = new Uint8Array(await crypto.subtle.sign('HMAC', await hmacKey(secret), encoder.encode(id)));
  return `session=${id}.${toBase64url(mac)}`;
}

function hmacKey(secret) {
  let key = keys.get(secret);
  if (!key) {
    key = crypto.subtle.importKey('raw', encoder.encode(secret), { name: 'HMAC', hash: 'SHA-256' }, false, [
      'sign',
      'verify',
    ]);
    keys.set(secret, key);
  }
  return key;
}

function toBase64url(bytes) {
  return btoa(String.fromCharCode(...bytes))
    .replace(/\+/g, '-')
    .replace(/\//g, '_')
    .replace(/=+$/, '');
}

function fromBase64url(text) {
  return Uint8Array.from(atob(text.replace(/-/g, '+').replace(/_/g, '/')), (char) => char.charCodeAt(0));
}
