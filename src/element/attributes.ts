import type { AttributeProperty, PROPERTIES } from './properties.js';
import type { SecureWidget } from './secure-widget.js';

/** The element's properties that markup can set, each with its type and documentation from the element. */
type AttributeProperties = Pick<SecureWidget, AttributeProperty>;

/**
 * `<secure-widget>`'s attributes, by the names markup uses, derived from the one table of properties (properties.ts)
 * and typed (and documented, in an editor's hover) by the element's own properties: nothing here can drift from the
 * element. The framework types (`secure-widget/react`, `secure-widget/vue`) build on it; a template language of any
 * other kind can too.
 */
export type SecureWidgetAttributes = {
  [Name in keyof AttributeProperties as (typeof PROPERTIES)[Name]]?: AttributeProperties[Name];
} & {
  /** A server-rendered token, used first while fresh; removed from the DOM once read. */
  'embed-token'?: string | null;
  /** Dev mode only: a vendor key in place of a token, on localhost (or a publishable `pk_…` key anywhere). */
  'api-key'?: string | null;
  /** The CSP nonce for the vendor script; default the page's own. */
  nonce?: string | null;
  /** Iframe mode: the frame's accessible title. */
  title?: string | null;
  /** Server-rendered markup not hydrated yet: the element waits until it is removed. */
  'defer-hydration'?: string | boolean | null;
};

/** The properties a framework sets that no attribute can carry: functions. */
export type SecureWidgetFunctionProperties = Partial<Pick<SecureWidget, 'fetchToken' | 'applyToken'>>;
