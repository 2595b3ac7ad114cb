/**
 * The script of the vendor's relay page (`debug.html`), which a host page frames, hidden, to reach the widgets running
 * on the vendor's origin (its iframe widgets): a BroadcastChannel posted on the host's origin never gets there. Only
 * the page that frames this one, from an origin the vendor allows to embed its widgets, may ask; all it can ask is the
 * "expire now" of debug-hook.ts, which any such host can already provoke over its widget's port.
 */
import { EXPIRE_NOW, DEBUG_CHANNEL, RELAY_EXPIRE_REQUEST, RELAY_EXPIRE_SENT, isMessageOfType } from './debug-hook.js';
import { readAllowedOrigins } from './page-config.js';

const allowedOrigins = readAllowedOrigins();
// One channel for the page's life: the relay's own posts never come back to it, only to the widgets' channels.
const channel = typeof BroadcastChannel === 'undefined' ? null : new BroadcastChannel(DEBUG_CHANNEL);

window.addEventListener('message', (event) => {
  if (event.source !== window.parent || !allowedOrigins.includes(event.origin)) return;
  if (!isMessageOfType(event.data, RELAY_EXPIRE_REQUEST) || !channel) return;
  channel.postMessage(EXPIRE_NOW);
  // To the asking origin only, never "*".
  window.parent.postMessage({ type: RELAY_EXPIRE_SENT }, event.origin);
});
