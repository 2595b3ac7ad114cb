'use client';
/**
 * React 19: `<SecureWidget>`, a component for server-rendered and client-rendered apps alike, and the JSX types for
 * those who write the `<secure-widget>` tag themselves.
 *
 * The component is `@lit/react`'s wrapper of the element: props the element has (`tokenEndpoint`, `embedToken`,
 * `fetchToken`…) are set as properties and `onToken`, `onReady`, `onReload`, `onError` as listeners, after React has
 * rendered, so they work on a hydrated page too (React 19 leaves a hydrated custom element's props unset: react#35446).
 * It renders `defer-hydration`, which `@lit/react` removes once the component is mounted: until then the element
 * changes nothing of the markup the server rendered (docs/frameworks.md). A server-rendered `embedToken` goes to the
 * element as a property, so it never stands in the page's HTML as an attribute.
 *
 * A separate entry, not part of the main one: it needs React, and augmenting `react` where React's types are not
 * installed would fail the consumer's compile.
 */
import { createComponent, type EventName } from '@lit/react';
import * as React from 'react';
import type { HTMLAttributes, RefAttributes } from 'react';
import { SecureWidget as SecureWidgetElement } from 'secure-widget';
import type { SecureWidgetAttributes, SecureWidgetFunctionProperties } from '../attributes.js';
import type { SecureWidgetEventMap } from '../events.js';

/** `onsecure-widget-ready={(event) => event.detail.mode}`: React 19's listener props, typed by the event map. */
export type SecureWidgetReactListeners = {
  [Type in keyof SecureWidgetEventMap as `on${Type}`]?: (event: SecureWidgetEventMap[Type]) => void;
};

/** Everything JSX may give `<secure-widget>`. */
export type SecureWidgetReactProps = Omit<HTMLAttributes<SecureWidgetElement>, keyof SecureWidgetAttributes> &
  RefAttributes<SecureWidgetElement> &
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

/**
 * @lit/react sets a prop as a property when `prop in elementClass.prototype`, else hands it to React as an attribute.
 * The element's reactive properties reach its prototype only when the class is finalized, which defining it does in a
 * browser and nothing does on a server (finalizing there needs CSSStyleSheet): the server would render `tokenEndpoint`
 * into the HTML as an attribute that the client then drops. This stand-in answers the same on both sides: the
 * element's declared properties and its own accessors and methods.
 */
const elementMembers = {
  prototype: Object.fromEntries(
    [...Object.keys(SecureWidgetElement.properties), ...Object.getOwnPropertyNames(SecureWidgetElement.prototype)].map(
      (name) => [name, true],
    ),
  ),
} as unknown as typeof SecureWidgetElement;

const events = {
  onToken: 'secure-widget-token' as EventName<SecureWidgetEventMap['secure-widget-token']>,
  onReady: 'secure-widget-ready' as EventName<SecureWidgetEventMap['secure-widget-ready']>,
  onReload: 'secure-widget-reload' as EventName<SecureWidgetEventMap['secure-widget-reload']>,
  onError: 'secure-widget-error' as EventName<SecureWidgetEventMap['secure-widget-error']>,
};

const Wrapped = createComponent({
  react: React,
  tagName: 'secure-widget',
  elementClass: elementMembers,
  events,
  displayName: 'SecureWidget',
});

/** What `<SecureWidget>` takes: the element's properties, `on…` listeners, HTML attributes and the vendor child. */
export type SecureWidgetProps = React.ComponentProps<typeof Wrapped>;

/**
 * `<SecureWidget tokenEndpoint="/api/widget-token" bundleUrl="…" onReady={…}><vendor-widget /></SecureWidget>`
 */
export function SecureWidget(props: SecureWidgetProps): React.ReactElement {
  return React.createElement(Wrapped, { ...props, 'defer-hydration': '' } as SecureWidgetProps);
}
