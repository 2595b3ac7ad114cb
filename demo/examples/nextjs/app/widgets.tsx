'use client';
// Event props and an inline fetchToken are functions, which a Server Component cannot pass: they live in a Client
// Component. SecureWidget renders on the server too (the tag, its attributes and the vendor's child) and starts in
// the browser once hydrated.
import { useState } from 'react';
import type { HTMLAttributes } from 'react';
import { SecureWidget } from 'secure-widget/react';

// The vendor's own tag, for JSX: here the reference vendor's <demo-widget>.
declare module 'react' {
  namespace JSX {
    interface IntrinsicElements {
      'demo-widget': HTMLAttributes<HTMLElement> & { 'community-id'?: string; 'data-user-id'?: string };
    }
  }
}

interface Props {
  /** Minted by the page on the server; null when it could not get one (the widget then asks the endpoint). */
  embedToken: string | null;
  tokenEndpoint: string;
  bundleUrl: string;
}

export function Widgets({ embedToken, tokenEndpoint, bundleUrl }: Props) {
  const [status, setStatus] = useState('loading');
  const [sources, setSources] = useState<string[]>([]);
  const [error, setError] = useState('none');
  const [customStatus, setCustomStatus] = useState('loading');
  const [customSources, setCustomSources] = useState<string[]>([]);
  const [fetchTokenCalls, setFetchTokenCalls] = useState(0);

  return (
    <>
      <section>
        <h2>Token endpoint, first token from the page</h2>
        <p>
          Status: <output id="status">{status}</output> · tokens from: <output id="sources">{sources.join(' ')}</output>{' '}
          · last error: <output id="error">{error}</output>
        </p>
        <SecureWidget
          id="endpoint-widget"
          tokenEndpoint={tokenEndpoint}
          bundleUrl={bundleUrl}
          embedToken={embedToken ?? undefined}
          onReady={() => setStatus('ready')}
          onToken={(event) => setSources((seen) => [...seen, event.detail.source])}
          onError={(event) => setError(event.detail.code)}
        >
          <demo-widget community-id="42" data-user-id="u1" />
        </SecureWidget>
      </section>
      <section>
        <h2>An inline fetchToken</h2>
        <p>
          Status: <output id="custom-status">{customStatus}</output> · tokens from:{' '}
          <output id="custom-sources">{customSources.join(' ')}</output> · fetchToken calls:{' '}
          <output id="fetch-token-calls">{fetchTokenCalls}</output>
        </p>
        <SecureWidget
          id="fetch-token-widget"
          // Your own way to get a token (an SDK, a GraphQL call…): here, the same endpoint through fetch. Inline is
          // fine: a new function on each render is used for the next fetch, and the token in hand stays.
          fetchToken={async (signal) => {
            setFetchTokenCalls((calls) => calls + 1);
            const response = await fetch(tokenEndpoint, { signal, headers: { Accept: 'application/json' } });
            if (!response.ok) throw new Error(`token endpoint: HTTP ${response.status}`);
            const body = (await response.json()) as { embedToken: string; expiresAt?: number };
            return { token: body.embedToken, expiresAt: body.expiresAt };
          }}
          bundleUrl={bundleUrl}
          embedToken={embedToken ?? undefined}
          onReady={() => setCustomStatus('ready')}
          onToken={(event) => setCustomSources((seen) => [...seen, event.detail.source])}
          onError={(event) => setCustomStatus(`error: ${event.detail.code}`)}
        >
          <demo-widget community-id="42" data-user-id="u1" />
        </SecureWidget>
      </section>
    </>
  );
}
