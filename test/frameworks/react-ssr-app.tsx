/**
 * A server-rendered React 19 page with `<SecureWidget>` from `secure-widget/react`, the way a Next.js page renders it:
 * the server's HTML (`renderToString`, run here in the browser for the test's sake) is put into the container first,
 * then React hydrates it. One widget has a server-rendered `embedToken`, one an inline `fetchToken`; both have a plain
 * vendor child, and `onToken` / `onReady` / `onError` props that set state. Built twice by `npm run build:test-pages`:
 * React's production build, and its development build, which is where React prints hydration warnings.
 */
import { useState, version } from 'react';
import { hydrateRoot, type Root } from 'react-dom/client';
import { renderToString } from 'react-dom/server';
import { SecureWidget } from '../../src/element/frameworks/react.js';
import { requestToken } from './page.js';

declare module 'react' {
  namespace JSX {
    interface IntrinsicElements {
      'demo-widget': HTMLAttributes<HTMLElement> & { 'community-id'?: string; 'data-user-id'?: string };
    }
  }
}

export const framework = `React ${version}`;

export interface SsrPageOptions {
  endpoint: string;
  bundleUrl: string;
  /** A token the "server" rendered into the first widget. */
  serverToken: string;
}

function Widget({ name, options, children }: { name: string; options: SsrPageOptions; children: React.ReactNode }) {
  const [tokens, setTokens] = useState(0);
  const [ready, setReady] = useState(0);
  const [error, setError] = useState('');
  const listeners = {
    onToken: () => setTokens((value) => value + 1),
    onReady: () => setReady((value) => value + 1),
    onError: (event: CustomEvent<{ code: string }>) => setError(event.detail.code),
  };
  return (
    <section>
      <output data-widget={name} data-tokens={tokens} data-ready={ready} data-error={error}>
        {ready > 0 ? 'widget ready' : 'waiting for the widget'}
      </output>
      {children === 'markup' ? (
        <SecureWidget
          embedToken={options.serverToken}
          tokenEndpoint={options.endpoint}
          bundleUrl={options.bundleUrl}
          {...listeners}
        >
          <demo-widget community-id="42" data-user-id="ssr-user" />
        </SecureWidget>
      ) : (
        <SecureWidget
          fetchToken={(signal) => requestToken(options.endpoint, signal)}
          bundleUrl={options.bundleUrl}
          {...listeners}
        >
          <demo-widget community-id="43" data-user-id="ssr-user" />
        </SecureWidget>
      )}
    </section>
  );
}

function App({ options }: { options: SsrPageOptions }) {
  return (
    <main>
      <Widget name="markup" options={options}>
        markup
      </Widget>
      <Widget name="fetch" options={options}>
        fetch
      </Widget>
    </main>
  );
}

/** What the server would send: the app's HTML. */
export function serverRender(options: SsrPageOptions): string {
  return renderToString(<App options={options} />);
}

/** Hydrates the server's HTML in `container`; recoverable errors (hydration mismatches among them) go to `onError`. */
export function hydrate(container: HTMLElement, options: SsrPageOptions, onError: (error: unknown) => void): Root {
  return hydrateRoot(container, <App options={options} />, { onRecoverableError: onError });
}
