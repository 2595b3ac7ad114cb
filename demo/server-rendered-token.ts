import { TOKEN_ENDPOINT_PATH, type DemoBackend } from './backend.js';

/** Where a server-rendered page would print its token, index.html says `embed-token="%SERVER_RENDERED_TOKEN%"`. */
export const SERVER_RENDERED_TOKEN_PLACEHOLDER = '%SERVER_RENDERED_TOKEN%';

// Any attribute whose whole value is the placeholder, with the whitespace before it, so that dropping it leaves clean
// markup behind.
const PLACEHOLDER_ATTRIBUTE = /(\s+)([\w:-]+)=(["'])%SERVER_RENDERED_TOKEN%\3/g;
// A JWT is three base64url parts: nothing in it can close the attribute, and anything else is not printed.
const JWT_SHAPE = /^[\w-]+\.[\w-]+\.[\w-]+$/;
// A page render must not hang on a slow vendor: after this the widget fetches its token itself.
const RENDER_TIMEOUT = 5_000;

/**
 * Renders a fresh embed token into the page, as a server-rendered page would (docs/design.md, "Element": `embed-token`), so the
 * widget's first render needs no token request. The token comes from the host's real token endpoint logic (the same
 * handler the browser calls), asked in-process with a `Request` for `origin` + /api/widget-token.
 *
 * When no token can be had, the attribute is dropped rather than left holding the placeholder: the widget then
 * fetches from its `token-endpoint`, which is what a failed server render should degrade to.
 */
export async function renderServerToken(
  html: string,
  backend: Pick<DemoBackend, 'handle'>,
  origin: string,
): Promise<string> {
  if (!html.includes(SERVER_RENDERED_TOKEN_PLACEHOLDER)) return html;
  const token = await issueServerToken(backend, origin);
  return html.replace(PLACEHOLDER_ATTRIBUTE, (_match, space: string, name: string) =>
    token ? `${space}${name}="${token}"` : '',
  );
}

async function issueServerToken(backend: Pick<DemoBackend, 'handle'>, origin: string): Promise<string | null> {
  const answer = await askTokenHandler(
    (request) => backend.handle(request),
    new Request(new URL(TOKEN_ENDPOINT_PATH, origin), {
      headers: { Accept: 'application/json' },
      signal: AbortSignal.timeout(RENDER_TIMEOUT),
    }),
  );
  if ('token' in answer && JWT_SHAPE.test(answer.token)) return answer.token;
  const failure = 'token' in answer ? 'the handler answered without a well-formed embedToken' : answer.failure;
  console.warn(`secure-widget demo: no server-rendered token (${failure}); the widget will fetch its own.`);
  return null;
}

/** The token, or why there is none, in words fit for a log line: never the token, never a response body. */
export type PageTokenAnswer = { token: string } | { failure: string };

/**
 * Asks the host's token handler in-process, with no HTTP hop, for the token a page being rendered will carry: the
 * same session check, cache and limits as the browser's requests to the endpoint. Never throws.
 */
export async function askTokenHandler(
  handle: (request: Request) => Promise<Response | null>,
  request: Request,
): Promise<PageTokenAnswer> {
  try {
    const response = await handle(request);
    if (!response) return { failure: 'no handler for the token endpoint' };
    if (!response.ok) {
      await response.body?.cancel();
      return { failure: `the handler answered HTTP ${response.status}` };
    }
    const body: unknown = await response.json();
    const token = typeof body === 'object' && body !== null && 'embedToken' in body ? body.embedToken : undefined;
    return typeof token === 'string' && token !== ''
      ? { token }
      : { failure: 'the handler answered without an embedToken' };
  } catch (error) {
    // The error's name only: a message could quote a response.
    return { failure: `${error instanceof Error ? error.name : 'error'} while asking the handler` };
  }
}
