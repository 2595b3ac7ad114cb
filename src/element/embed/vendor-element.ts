import { SecureWidgetError } from '../errors.js';
import type { ReloadReason } from '../recovery.js';
import type { TokenTarget } from './token-target.js';
import type { Bystander } from '../page-state.js';
import { reloadThroughGlobal, tokenSet, vendorGlobal } from './vendor-global.js';

/**
 * React 19 and Vue 3 render a `<template>`'s children into the template element itself, where they are live: a vendor
 * element there is connected and upgraded as soon as its tag is defined, without a token. Moved into the template's
 * `content` (where the HTML parser puts them), they are inert, and the template works like one from markup. Called
 * as the element connects, before the vendor's own connectedCallback could make use of them.
 */
export function adoptTemplateChildren(host: Element): void {
  for (const child of host.children) {
    if (child instanceof HTMLTemplateElement && child.firstElementChild) child.content.append(...child.childNodes);
  }
}

/**
 * The vendor's element inside `<secure-widget>`, and the three ways to bring it back with a new token
 * (docs/design.md, "Rendering"): its own `reload()`, the vendor's global `reload()`, or a fresh copy from the template.
 * @internal
 */
export class VendorSlot {
  readonly #target: TokenTarget;
  /** A `<template>` to stamp from, or a pristine copy of a plain child, taken before any token touched it. */
  readonly #source: HTMLTemplateElement | Element;
  #nodes: Node[] = [];
  #element: Element | null = null;
  /** When the token now on the element was set, on the page-wide token clock. */
  #tokenSetAt = 0;

  private constructor(target: TokenTarget, source: HTMLTemplateElement | Element) {
    this.#target = target;
    this.#source = source;
  }

  /**
   * Finds what the page put inside `<secure-widget>`: a `<template>`, else the first plain element child; null while
   * there is none yet. `parsed` says the markup is complete: before that, an empty template may be one the parser is
   * still filling (a classic script that defined the element above the tag upgrades it mid-parse).
   */
  static find(host: HTMLElement, target: TokenTarget, parsed: boolean): VendorSlot | null {
    const template = [...host.children].find((child) => child instanceof HTMLTemplateElement);
    if (template) {
      adoptTemplateChildren(host);
      if (!template.content.firstElementChild) {
        if (!parsed) return null;
        throw new SecureWidgetError('config-invalid', 'The <template> inside <secure-widget> has no element.');
      }
      // Where the credential will go is checked now, before any request: a bad config object is a page to fix.
      target.read(template.content.firstElementChild);
      return new VendorSlot(target, template);
    }
    const element = [...host.children].find((child) => !child.hasAttribute('slot') && child.localName !== 'script');
    if (!element) return null;
    target.read(element);
    const slot = new VendorSlot(target, element.cloneNode(true) as Element);
    slot.#element = element;
    return slot;
  }

  get element(): Element | null {
    return this.#element;
  }

  /** True when the template must be stamped after the token (the bundle may load in parallel). */
  get fromTemplate(): boolean {
    return this.#source instanceof HTMLTemplateElement;
  }

  /**
   * Puts the token on the vendor element. A template is stamped only now, with the token already on it, so the
   * vendor script never sees its element without one.
   */
  setToken(token: string): void {
    if (this.#element) {
      if (this.#target.read(this.#element) !== token) {
        this.#target.apply(this.#element, token);
        this.#tokenSetAt = tokenSet();
      }
      return;
    }
    this.#stamp(token);
  }

  /** Whether a page-wide reload that covered the page's tokens up to `covers` reloaded this element's token. */
  coveredBy(covers: number): boolean {
    const element = this.#element as (Element & { reload?: unknown }) | null;
    // An element with its own reload() is reloaded through it, not through the vendor's global.
    return element !== null && typeof element.reload !== 'function' && this.#tokenSetAt <= covers;
  }

  /** The token on the vendor element now. */
  get token(): string | null {
    return this.#element ? this.#target.read(this.#element) : null;
  }

  /**
   * Brings the vendor widget back with the token now on its element. `self` identifies the caller among the
   * listeners of page-wide reloads (it is not told about its own).
   */
  async reload(token: string, reloadGlobal: string, self: Bystander, reason: ReloadReason): Promise<void> {
    const element = this.#element as (Element & { reload?: unknown }) | null;
    if (element && typeof element.reload === 'function') {
      await (element.reload as () => unknown).call(element);
      return;
    }
    const global = vendorGlobal(reloadGlobal);
    if (global) {
      await reloadThroughGlobal(reloadGlobal, global, this.#tokenSetAt, self, reason);
      return;
    }
    this.restamp(token);
  }

  /** Replaces the vendor element with a fresh copy carrying the token: the reload of last resort. */
  restamp(token: string): void {
    if (this.#source instanceof HTMLTemplateElement) {
      this.clear();
      this.#stamp(token);
      return;
    }
    const fresh = this.#source.cloneNode(true) as Element;
    this.#target.apply(fresh, token);
    this.#tokenSetAt = tokenSet();
    this.#element?.replaceWith(fresh);
    this.#element = fresh;
  }

  /** Removes what was stamped (a plain child belongs to the page and stays). */
  clear(): void {
    if (!(this.#source instanceof HTMLTemplateElement)) return;
    for (const node of this.#nodes) (node as ChildNode).remove();
    this.#nodes = [];
    this.#element = null;
  }

  #stamp(token: string): void {
    const template = this.#source as HTMLTemplateElement;
    const fragment = document.importNode(template.content, true);
    const element = fragment.firstElementChild!;
    this.#target.apply(element, token);
    this.#tokenSetAt = tokenSet();
    this.#nodes = [...fragment.childNodes];
    this.#element = element;
    template.after(fragment);
  }
}
