import { SecureWidgetError } from '../errors.js';

/**
 * The vendor's element inside `<secure-widget>`, and the three ways to bring it back with a new token
 * (DESIGN §4): its own `reload()`, the vendor's global `reload()`, or a fresh copy from the template.
 */
export class VendorSlot {
  readonly #tokenAttribute: string;
  /** A `<template>` to stamp from, or a pristine copy of a plain child, taken before any token touched it. */
  readonly #source: HTMLTemplateElement | Element;
  #nodes: Node[] = [];
  #element: Element | null = null;

  private constructor(tokenAttribute: string, source: HTMLTemplateElement | Element) {
    this.#tokenAttribute = tokenAttribute;
    this.#source = source;
  }

  /** Finds what the page put inside `<secure-widget>`: a `<template>`, else the first plain element child. */
  static find(host: HTMLElement, tokenAttribute: string): VendorSlot | null {
    const template = [...host.children].find((child) => child instanceof HTMLTemplateElement);
    if (template) {
      if (!template.content.firstElementChild) {
        throw new SecureWidgetError('config-invalid', 'The <template> inside <secure-widget> has no element.', {
          fatal: true,
        });
      }
      return new VendorSlot(tokenAttribute, template);
    }
    const element = [...host.children].find((child) => !child.hasAttribute('slot') && child.localName !== 'script');
    if (!element) return null;
    const slot = new VendorSlot(tokenAttribute, element.cloneNode(true) as Element);
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
      if (this.#element.getAttribute(this.#tokenAttribute) !== token) {
        this.#element.setAttribute(this.#tokenAttribute, token);
      }
      return;
    }
    this.#stamp(token);
  }

  /** Brings the vendor widget back with the token now on its element. */
  async reload(token: string, reloadGlobal: string): Promise<void> {
    const element = this.#element as (Element & { reload?: unknown }) | null;
    if (element && typeof element.reload === 'function') {
      await (element.reload as () => unknown).call(element);
      return;
    }
    const global = vendorGlobal(reloadGlobal);
    if (global) {
      await global.reload();
      return;
    }
    this.restamp(token);
  }

  /** Replaces the vendor element with a fresh copy carrying the token: the reload of last resort. */
  restamp(token: string): void {
    if (this.#source instanceof HTMLTemplateElement) {
      for (const node of this.#nodes) (node as ChildNode).remove();
      this.#nodes = [];
      this.#element = null;
      this.#stamp(token);
      return;
    }
    const fresh = this.#source.cloneNode(true) as Element;
    fresh.setAttribute(this.#tokenAttribute, token);
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
    element.setAttribute(this.#tokenAttribute, token);
    this.#nodes = [...fragment.childNodes];
    this.#element = element;
    template.after(fragment);
  }
}

interface ReloadGlobal {
  reload(): unknown;
}

/**
 * `window[reload-global]`, when it is a vendor object with a `reload()`. The name comes from markup, so a name that
 * would reach a platform object (`location`, `history`, `document`…) is never called: `location.reload()` would
 * reload the page in a loop.
 */
function vendorGlobal(name: string): ReloadGlobal | null {
  if (!/^[A-Za-z_$][\w$]*$/.test(name)) return null;
  try {
    const value = (globalThis as Record<string, unknown>)[name];
    if (typeof value !== 'object' || value === null) return null;
    if (value instanceof Location || value instanceof History || value instanceof Node || value instanceof Window) {
      return null;
    }
    return typeof (value as Partial<ReloadGlobal>).reload === 'function' ? (value as ReloadGlobal) : null;
  } catch {
    // A cross-origin window (`top`, `parent`) throws on property access.
    return null;
  }
}
