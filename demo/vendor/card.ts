/**
 * The reference vendor's card, shared by the bundle widget (`widget.ts`) and the iframe page (`frame-page.ts`), so that
 * both modes of the demo render the same thing and a host sees the same widget either way.
 */
import { VENDOR_ALGORITHM } from './claims.js';

export type CardTone = 'ready' | 'pending' | 'failed';

export function element(tag: string, className: string, text?: string): HTMLElement {
  const node = document.createElement(tag);
  node.className = className;
  // textContent only: attribute values (community id, user id) come from the page and must never become markup.
  if (text !== undefined) node.textContent = text;
  return node;
}

export function statusCard(tone: CardTone, title: string, lines: string[]): HTMLElement {
  const card = element('div', `demo-widget__card demo-widget__card--${tone}`);
  const header = element('div', 'demo-widget__header');
  header.append(element('span', 'demo-widget__dot'), element('p', 'demo-widget__title', title));
  card.append(header, ...lines.map((line) => element('p', 'demo-widget__line', line)));
  return card;
}

/** A rendered widget's card, with the countdown line its caller updates (`showRemaining`) every second. */
export interface LiveCard {
  card: HTMLElement;
  showRemaining(ms: number): void;
}

/** The rendered widget: who is signed in, and a countdown the caller updates (`showRemaining`) every second. */
export function readyCard(communityId: string, userId: string): LiveCard {
  const meta = `${VENDOR_ALGORITHM} · verified by the vendor`;
  return liveCard(`Community ${communityId}`, [`Signed in as ${userId}`], meta);
}

/**
 * A ready card of any widget of the vendor's: its title and lines (text only, as every card), a token countdown
 * unless `countdown` is false (a dev key does not expire), and a footnote saying who vouched for what it shows.
 */
export function liveCard(title: string, lines: string[], meta: string, countdown = true): LiveCard {
  const card = statusCard('ready', title, lines);
  const remaining = countdown ? element('p', 'demo-widget__line demo-widget__countdown') : null;
  if (remaining) card.append(remaining);
  card.append(element('p', 'demo-widget__meta', meta));
  return {
    card,
    showRemaining(ms) {
      if (remaining) remaining.textContent = `Token valid for ${formatRemaining(ms)}`;
    },
  };
}

export function formatRemaining(ms: number): string {
  const seconds = Math.max(0, Math.ceil(ms / 1000));
  return `${Math.floor(seconds / 60)}:${String(seconds % 60).padStart(2, '0')}`;
}

export const STYLES = `
.demo-widget__card{box-sizing:border-box;max-width:360px;padding:14px 16px;border:1px solid #d0d7de;border-radius:10px;
background:#fff;color:#1f2328;font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif}
.demo-widget__header{display:flex;align-items:center;gap:8px}
.demo-widget__title{margin:0;font-size:15px;font-weight:600}
.demo-widget__dot{flex:none;width:10px;height:10px;border-radius:50%;background:#9a6700}
.demo-widget__card--ready .demo-widget__dot{background:#1a7f37}
.demo-widget__card--failed .demo-widget__dot{background:#cf222e}
.demo-widget__line{margin:6px 0 0}
.demo-widget__countdown{font-variant-numeric:tabular-nums}
.demo-widget__meta{margin:10px 0 0;font-size:12px;color:#59636e}
`;

let stylesInjected = false;

/**
 * Adds the card's styles to the document once. `marker` names who injected them (`data-demo-widget`); `nonce` is the
 * page's script nonce, which under a nonce-based CSP is what lets an injected style apply.
 */
export function injectStyles(marker: string, nonce?: string): void {
  // Two of the vendor's bundles on one page (widget.js and config-widget.js) share one copy of the styles.
  if (stylesInjected || document.querySelector('style[data-demo-widget]')) return;
  stylesInjected = true;
  const style = document.createElement('style');
  style.dataset.demoWidget = marker;
  if (nonce) style.nonce = nonce;
  style.textContent = STYLES;
  document.head.append(style);
}
