/**
 * A React 19 app rendering `<secure-widget>` the way a React user writes it: JSX, an inline `fetchToken` (React 19 sets
 * it as a property, since the element has one), a `<template>` child, and `onsecure-widget-*` listeners (React 19 adds
 * them with addEventListener) that set state. Built by Vite (`npm run build:test-pages`) with React's production build.
 */
// The element first: React checks `'fetchToken' in element` when it sets the prop, so the tag must be defined already.
import '../../src/index.js';
import { StrictMode, useEffect, useLayoutEffect, useState, version } from 'react';
import { createRoot } from 'react-dom/client';
import type {} from '../../src/element/frameworks/react.js';
import { readState, requestToken, type FrameworkPageOptions, type MountPage } from './page.js';

// The library's own JSX types for <secure-widget> (secure-widget/react); the reference vendor's tag is the app's to type.
declare module 'react' {
  namespace JSX {
    interface IntrinsicElements {
      'demo-widget': HTMLAttributes<HTMLElement> & { 'community-id'?: string; 'data-user-id'?: string };
    }
  }
}

export const framework = `React ${version}`;

interface Controls {
  /** Handed over by the component once it is mounted. */
  mounted(bump: () => void): void;
  committed(count: number): void;
}

function WidgetCard({ options, controls }: { options: FrameworkPageOptions; controls: Controls }) {
  const [count, setCount] = useState(0);
  const [tokenEvents, setTokenEvents] = useState(0);
  const [readyEvents, setReadyEvents] = useState(0);
  const [lastError, setLastError] = useState('');
  useEffect(() => controls.mounted(() => setCount((value) => value + 1)), [controls]);
  // No dependency list: runs after every commit.
  useLayoutEffect(() => controls.committed(count));

  return (
    <section>
      <output
        data-component-state=""
        data-count={count}
        data-token-events={tokenEvents}
        data-ready-events={readyEvents}
        data-last-error={lastError}
      >
        Render {count}: {readyEvents > 0 ? 'widget ready' : 'waiting for the widget'}
      </output>
      <secure-widget
        fetchToken={(signal) => requestToken(options.endpoint, signal)}
        bundle-url={options.bundleUrl}
        onsecure-widget-token={() => setTokenEvents((value) => value + 1)}
        onsecure-widget-ready={() => setReadyEvents((value) => value + 1)}
        onsecure-widget-error={(event) => setLastError(event.detail.code)}
      >
        <template>
          <demo-widget community-id={options.communityId} data-user-id={options.userId}></demo-widget>
        </template>
      </secure-widget>
    </section>
  );
}

export const mount: MountPage = async (container, options) => {
  let committed = -1;
  let waiters: { count: number; resolve: () => void }[] = [];
  let bump: (() => void) | undefined;
  let resolveMounted!: () => void;
  const mounted = new Promise<void>((resolve) => (resolveMounted = resolve));
  const controls: Controls = {
    mounted(setter) {
      bump = setter;
      resolveMounted();
    },
    committed(count) {
      committed = count;
      waiters = waiters.filter((waiter) => {
        if (waiter.count > count) return true;
        waiter.resolve();
        return false;
      });
    },
  };

  const root = createRoot(container);
  // As `npm create vite` sets an app up; in a development build it renders and runs effects twice.
  root.render(
    <StrictMode>
      <WidgetCard options={options} controls={controls} />
    </StrictMode>,
  );
  await mounted;

  return {
    rerender() {
      const next = committed + 1;
      bump!();
      return new Promise<void>((resolve) => waiters.push({ count: next, resolve }));
    },
    state: () => readState(container),
    unmount: () => root.unmount(),
  };
};
