// Defines <secure-widget>. Imported before anything renders: React sets a prop as a property (fetchToken) only when
// the element already has it.
import 'secure-widget';
// JSX types for <secure-widget>: its attributes, properties and onsecure-widget-* listeners.
import type {} from 'secure-widget/react';
import { useState } from 'react';

// The vendor's own tag, which React has to know too: here the reference vendor's <demo-widget>.
declare module 'react' {
  namespace JSX {
    interface IntrinsicElements {
      'demo-widget': HTMLAttributes<HTMLElement> & { 'community-id'?: string; 'data-user-id'?: string };
    }
  }
}

/** Your backend's token URL, on this app's origin (in `vite dev`, proxy /api to your backend). */
const TOKEN_ENDPOINT = '/api/widget-token';
/** The vendor's script. */
const BUNDLE_URL = 'http://127.0.0.1:5173/vendor/widget.js';

export function App() {
  const [status, setStatus] = useState('loading');

  return (
    <main>
      <h1>secure-widget in React</h1>
      <p>
        Widget: <strong data-example-status="">{status}</strong>
      </p>
      <secure-widget
        token-endpoint={TOKEN_ENDPOINT}
        bundle-url={BUNDLE_URL}
        onsecure-widget-ready={() => setStatus('ready')}
        onsecure-widget-error={(event) => {
          const { code, status: httpStatus } = event.detail;
          setStatus(`error: ${code}`);
          // Your endpoint said "not signed in": send the visitor to your login here.
          if (code === 'endpoint-http' && httpStatus === 401) console.info('secure-widget: sign in to see the widget');
        }}
      >
        <template>
          <demo-widget community-id="42"></demo-widget>
        </template>
        <p slot="loading">Loading the widget…</p>
      </secure-widget>
    </main>
  );
}
