import { type Bystander, pageState } from '../page-state.js';
import type { ReloadReason } from '../recovery.js';
import { pageObject } from './page-object.js';

/**
 * The vendor's page-wide reload (`window.ReturningAIWidget.reload()`), shared by every widget that names it. It
 * reloads all the vendor's widgets at once, so when several of ours need it at the same moment (their tokens expire
 * together) one call serves them all, and every widget it reloaded is told, so each knows which token its vendor
 * element now runs on.
 */

interface ReloadGlobal {
  reload(): unknown;
}

/** A token was put on a vendor element: a reload started later covers every token set before it. */
export function tokenSet(): number {
  return (pageState.tokenClock += 1);
}

/** `window[name]`, when the page's own script made it and it has a `reload()` (page-object.ts says what counts). */
export function vendorGlobal(name: string): ReloadGlobal | null {
  const value = pageObject(name);
  try {
    return value && typeof value.reload === 'function' ? (value as unknown as ReloadGlobal) : null;
  } catch {
    return null;
  }
}

/**
 * Hears about reloads of `name` that other widgets started: `covers` says which tokens they carried, `reason` why the
 * widget that started it reloaded (a `refresh()` there is a manual reload here too).
 */
export function onGlobalReload(name: string, listener: Bystander, signal: AbortSignal): void {
  let listeners = pageState.bystanders.get(name);
  if (!listeners) pageState.bystanders.set(name, (listeners = new Set()));
  listeners.add(listener);
  signal.addEventListener(
    'abort',
    () => {
      listeners.delete(listener);
      if (listeners.size === 0 && pageState.bystanders.get(name) === listeners) pageState.bystanders.delete(name);
    },
    { once: true },
  );
}

/**
 * Reloads through the vendor global so that the token set at `since` is picked up: joins a reload already running
 * that started after it, else waits for that one and starts another.
 */
export async function reloadThroughGlobal(
  name: string,
  global: ReloadGlobal,
  since: number,
  self: Bystander,
  reason: ReloadReason,
): Promise<void> {
  for (let current = pageState.reloads.get(name); current; current = pageState.reloads.get(name)) {
    if (current.covers >= since) return current.done;
    await current.done.catch(() => {});
  }
  const covers = pageState.tokenClock;
  const done = Promise.resolve()
    .then(() => global.reload())
    .then(() => undefined);
  pageState.reloads.set(name, { done, covers });
  try {
    await done;
  } finally {
    if (pageState.reloads.get(name)?.done === done) pageState.reloads.delete(name);
  }
  for (const listener of [...(pageState.bystanders.get(name) ?? [])]) if (listener !== self) listener(covers, reason);
}
