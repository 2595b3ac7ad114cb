import { SecureWidget } from './element/secure-widget.js';

// Importing the library defines the element; a page that loads it twice (two bundles) keeps the first definition.
// A server (Node, Deno, Bun, workerd, a framework's server render) has no registry: there the import defines nothing.
if (globalThis.customElements) SecureWidget.define();

export { SecureWidget, WidgetStatus } from './element/secure-widget.js';
export { SecureWidgetError, type SecureWidgetErrorCode } from './element/errors.js';
export type {
  SecureWidgetErrorDetail,
  SecureWidgetEventMap,
  SecureWidgetReadyDetail,
  SecureWidgetReloadDetail,
  SecureWidgetTokenDetail,
  TokenSource,
} from './element/events.js';
export type { CustomTokenFetcher, CustomTokenResult } from './element/token/source.js';
export type { ApplyToken } from './element/embed/token-target.js';
