/**
 * Vue 3's template types for `<secure-widget>`: one type-only import (`import type {} from 'secure-widget/vue'`) and
 * Volar / vue-tsc check its props (`token-endpoint`, `:fetchToken`) and `@secure-widget-*` listeners. Vue still needs
 * `compilerOptions.isCustomElement` to render the tag as an element (README, "Vue 3").
 *
 * A separate entry, not part of the main one: augmenting `vue` where Vue is not installed would fail the consumer's
 * compile.
 */
import type { EmitFn, EmitsToProps, HTMLAttributes, PublicProps } from 'vue';
import type { SecureWidgetEventMap } from '../events.js';
import type { PropertyName } from '../properties.js';
import type { SecureWidget } from '../secure-widget.js';

/** The element's properties a template may bind (properties.ts); Vue camelizes `token-endpoint` to `tokenEndpoint`. */
export type SecureWidgetVueProps = Partial<Pick<SecureWidget, PropertyName | 'embedToken' | 'apiKey'>> & {
  nonce?: string | null;
  'defer-hydration'?: string | boolean | null;
};

/** The element's events as Vue emits: `@secure-widget-ready="(event) => event.detail.mode"`. */
type SecureWidgetVueEmits = { [Type in keyof SecureWidgetEventMap]: (event: SecureWidgetEventMap[Type]) => void };

/**
 * What Vue's `GlobalComponents` holds for a custom element: the element's instance type, plus the template-only
 * `$props` and `$emit` that type-check the markup (the shape Vue's guide gives for custom elements).
 */
export type SecureWidgetVueComponent = new () => SecureWidget & {
  /** For template type checks only; not a property of the element. */
  $props: Omit<HTMLAttributes, keyof SecureWidgetVueProps> &
    SecureWidgetVueProps &
    EmitsToProps<SecureWidgetVueEmits> &
    PublicProps;
  /** For template type checks only; not a property of the element. */
  $emit: EmitFn<SecureWidgetVueEmits>;
};

declare module 'vue' {
  interface GlobalComponents {
    'secure-widget': SecureWidgetVueComponent;
  }
}
