/**
 * The reference vendor's support hook, "expire now": every widget of the vendor's that runs on a token fires its expiry
 * event at once (`rai-error`, `qv-token-expired`, or the iframe's `expired` message), exactly as when its token runs
 * out, so that a host can watch its recovery without waiting for a token to die. The vendor offers it, not the host's
 * element: the element only ever sees a vendor saying its token expired.
 *
 * Widgets listen on a `BroadcastChannel`, which reaches every document of one origin (and storage partition): the host
 * page posts there for the bundle widgets that run in it; for the iframe page, on the vendor's origin, the vendor's
 * relay page (`debug.html`, `debug-page.ts`) posts there when an allowed host asks it to.
 */

/** The channel every widget of the vendor listens on, in whatever origin it runs. */
export const DEBUG_CHANNEL = 'reference-vendor:debug';

/** What the channel carries: the one thing the hook does. */
export interface ExpireNowBroadcast {
  type: 'expire-now';
}
export const EXPIRE_NOW: ExpireNowBroadcast = { type: 'expire-now' };

/** Host page → relay page (`postMessage` to the vendor's origin): "make the widgets on your origin expire now". */
export const RELAY_EXPIRE_REQUEST = 'reference-vendor:expire-now';
/** Relay page → host page, to the asking origin only: the broadcast went out. */
export const RELAY_EXPIRE_SENT = 'reference-vendor:expire-now-sent';

/** Read by shape only: whatever else arrives on the channel or a window is ignored. */
export function isMessageOfType(data: unknown, type: string): boolean {
  return typeof data === 'object' && data !== null && (data as { type?: unknown }).type === type;
}

/**
 * Calls `onExpireNow` for each "expire now" on the channel until the returned function is called. Where the platform
 * has no BroadcastChannel the hook is simply absent.
 */
export function listenForExpireNow(onExpireNow: () => void): () => void {
  if (typeof BroadcastChannel === 'undefined') return () => {};
  const channel = new BroadcastChannel(DEBUG_CHANNEL);
  channel.onmessage = (event: MessageEvent) => {
    if (isMessageOfType(event.data, EXPIRE_NOW.type)) onExpireNow();
  };
  return () => channel.close();
}
