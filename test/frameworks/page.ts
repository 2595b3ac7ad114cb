/**
 * What a framework page (a React or Vue app built by Vite, `npm run build:test-pages`) offers the browser tests. The
 * pages render `<secure-widget>` the way an app written in that framework does: an inline `fetchToken` (a new closure
 * on every render), a `<template>` holding the vendor element, and listeners that set the component's state.
 */
export interface FrameworkPageOptions {
  /** The URL the inline `fetchToken` fetches. */
  endpoint: string;
  bundleUrl: string;
  communityId: string;
  userId: string;
}

/** What the component's own listeners have put into its state, read back from what it rendered. */
export interface ComponentState {
  /** The counter the test bumps, as last rendered into the DOM. */
  count: number;
  tokenEvents: number;
  readyEvents: number;
  /** The last `secure-widget-error` code the component saw, or ''. */
  lastError: string;
}

export interface MountedPage {
  /** Bumps the component's counter and resolves once the framework has committed that render to the DOM. */
  rerender(): Promise<void>;
  state(): ComponentState;
  unmount(): void;
}

export type MountPage = (container: HTMLElement, options: FrameworkPageOptions) => Promise<MountedPage>;

/** What a built page exports. */
export interface FrameworkPageModule {
  /** The framework and its version, as it reports it (`React 19.3.1`). */
  framework: string;
  mount: MountPage;
}

/** The contract's token request: what a framework user's inline `fetchToken` calls. */
export async function requestToken(
  endpoint: string,
  signal: AbortSignal,
): Promise<{ token: string; expiresAt?: number }> {
  const response = await fetch(endpoint, { signal, headers: { Accept: 'application/json' } });
  if (!response.ok) throw new Error(`token endpoint answered ${response.status}`);
  const body = (await response.json()) as { embedToken: string; expiresAt?: number };
  return { token: body.embedToken, expiresAt: body.expiresAt };
}

/** Reads the state a page's component rendered into `[data-component-state]`. */
export function readState(container: HTMLElement): ComponentState {
  const output = container.querySelector<HTMLElement>('[data-component-state]');
  if (!output) throw new Error('the component rendered no [data-component-state]');
  const { count, tokenEvents, readyEvents, lastError } = output.dataset;
  return {
    count: Number(count),
    tokenEvents: Number(tokenEvents),
    readyEvents: Number(readyEvents),
    lastError: lastError ?? '',
  };
}
