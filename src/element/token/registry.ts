import { pageState } from '../page-state.js';
import { TokenBroker } from './broker.js';
import type { TokenLoader } from './source.js';

/**
 * Idle brokers (no widget connected) kept for their valid token, at most: a single-page app that remounts its widget
 * finds its token again, and a page that mints a new source on every render cannot pile up brokers.
 */
export const MAX_IDLE_BROKERS = 8;

/**
 * The page-wide broker for a token source (an endpoint URL + credentials mode, an explicit `token-key`, or a
 * fetchToken function), created on first use. When its last widget leaves, its timer and request stop, but a token
 * still valid stays in hand (in memory) so that a widget coming back makes no request; a broker whose token has run
 * out is forgotten, and so is the least recently used idle one beyond MAX_IDLE_BROKERS.
 */
export function sharedBroker(key: unknown, createLoader: () => TokenLoader): TokenBroker {
  let broker = pageState.brokers.get(key);
  if (broker && broker.subscriberCount === 0 && broker.expired) broker = undefined;
  if (!broker) {
    const created: TokenBroker = new TokenBroker(createLoader(), () => whenIdle(created));
    broker = created;
  }
  // Last used goes last: eviction takes the oldest idle broker first.
  forget(broker);
  pageState.brokers.set(key, broker);
  return broker;
}

/** Files `broker` under `to` instead of `from`: its source got a new identity (a new fetchToken closure). */
export function rekeyBroker(broker: TokenBroker, from: unknown, to: unknown): void {
  if (pageState.brokers.get(from) === broker) pageState.brokers.delete(from);
  if (!pageState.brokers.has(to)) pageState.brokers.set(to, broker);
}

/** How many brokers the page holds: the bound that tests and benchmarks check. */
export function brokerCount(): number {
  return pageState.brokers.size;
}

function forget(broker: TokenBroker): void {
  for (const [key, known] of pageState.brokers) if (known === broker) pageState.brokers.delete(key);
}

function whenIdle(broker: TokenBroker): void {
  if (!broker.grant) {
    forget(broker);
    return;
  }
  let idle = 0;
  // Newest first: the most recently used idle brokers are the ones kept.
  for (const [key, known] of [...pageState.brokers].reverse()) {
    if (known.subscriberCount > 0) continue;
    idle += 1;
    if (idle > MAX_IDLE_BROKERS) pageState.brokers.delete(key);
  }
}
