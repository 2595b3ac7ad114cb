/** What server.ts hands each render of the page (Angular's REQUEST_CONTEXT): the server side only. */
export interface WidgetContext {
  /** This visitor's token, or null: the widget then fetches its own. */
  embedToken: string | null;
  bundleUrl: string;
}
