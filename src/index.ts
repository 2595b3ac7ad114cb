import { SecureWidget } from './secure-widget.js';

// Importing the library defines the element; a page that loads it twice (two bundles) keeps the first definition.
SecureWidget.define();

export { SecureWidget, WidgetStatus } from './secure-widget.js';
export { SecureWidgetError, type SecureWidgetErrorCode } from './errors.js';
export type {
  SecureWidgetErrorDetail,
  SecureWidgetEventMap,
  SecureWidgetReadyDetail,
  SecureWidgetReloadDetail,
  SecureWidgetTokenDetail,
  TokenSource,
} from './events.js';
export type { CustomTokenFetcher, CustomTokenResult } from './token/source.js';
