/**
 * React 19's JSX types for `<secure-widget>`: one type-only import (`import type {} from 'secure-widget/react'`) and
 * TypeScript knows the tag, its attributes, the `fetchToken` and `applyToken` properties and the
 * `onsecure-widget-*` listeners. React 19 sets a prop as a property when the element has it (so `fetchToken` must be
 * defined first: import `secure-widget` before rendering) and adds `on` + event name props as event listeners.
 *
 * A separate entry, not part of the main one: augmenting `react` where React's types are not installed would fail
 * the consumer's compile.
 */
import type { HTMLAttributes, RefAttributes } from 'react';
import type { SecureWidgetAttributes, SecureWidgetFunctionProperties } from '../attributes.js';
import type { SecureWidgetEventMap } from '../events.js';
import type { SecureWidget } from '../secure-widget.js';

/** `onsecure-widget-ready={(event) => event.detail.mode}`: React 19's listener props, typed by the event map. */
export type SecureWidgetReactListeners = {
  [Type in keyof SecureWidgetEventMap as `on${Type}`]?: (event: SecureWidgetEventMap[Type]) => void;
};

/** Everything JSX may give `<secure-widget>`. */
export type SecureWidgetReactProps = Omit<HTMLAttributes<SecureWidget>, keyof SecureWidgetAttributes> &
  RefAttributes<SecureWidget> &
  SecureWidgetAttributes &
  SecureWidgetFunctionProperties &
  SecureWidgetReactListeners;

declare module 'react' {
  namespace JSX {
    interface IntrinsicElements {
      'secure-widget': SecureWidgetReactProps;
    }
  }
}
