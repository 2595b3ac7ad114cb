import type { ReloadReason } from './recovery.js';
import type { TokenBroker } from './token/broker.js';

/** A widget that hears of the vendor-global reloads other widgets start (embed/vendor-global.ts). */
export type Bystander = (covers: number, reason: ReloadReason) => void;

/**
 * Everything the element keeps for the whole page rather than for one widget, in one place: what widgets share (a
 * token source's broker, a vendor script, the vendor's page-wide reload) and what is said once per page. Each module
 * that needs a part reads it here; everything else lives in a widget and ends with it.
 * @internal
 */
export interface PageState {
  /** The token brokers by source key, least recently used first (token/registry.ts). */
  brokers: Map<unknown, TokenBroker>;
  /** Vendor scripts we load, by URL: each once per page (embed/bundle.ts). */
  bundles: Map<string, Promise<void>>;
  /** Bumped whenever a token is put on any vendor element (embed/vendor-global.ts). */
  tokenClock: number;
  /** The vendor-global reload running, by global name, and the tokens it covers (embed/vendor-global.ts). */
  reloads: Map<string, { done: Promise<void>; covers: number }>;
  /** The widgets that hear of another's vendor-global reload, by global name (embed/vendor-global.ts). */
  bystanders: Map<string, Set<Bystander>>;
  /** The development-key warning has been printed (dev-key.ts). */
  devKeyWarned: boolean;
}

function freshPageState(): PageState {
  return {
    brokers: new Map(),
    bundles: new Map(),
    tokenClock: 0,
    reloads: new Map(),
    bystanders: new Map(),
    devKeyWarned: false,
  };
}

export const pageState: PageState = freshPageState();

/**
 * For tests: the page as if no widget had run yet, without reloading it. The Trusted Types policy (embed/bundle.ts)
 * stays: a CSP admits a policy name once, and the one made is as good for the next widget. Scripts the page already
 * ran stay too: `loadBundle` finds them among the page's scripts.
 */
export function resetPageState(): void {
  Object.assign(pageState, freshPageState());
}
