import type { Page } from 'puppeteer-core';

/**
 * Waits, in a puppeteer page, for `<secure-widget>` to be ready and the reference vendor's widget to show its ready
 * card with `text` in it (the card appears once the vendor's data API has verified the token).
 */
export async function waitForVendorCard(page: Page, text: string, timeout: number): Promise<void> {
  await page.waitForFunction(
    (expected: string) => {
      const widget = document.querySelector('secure-widget') as (HTMLElement & { status: string }) | null;
      const card = document.querySelector('secure-widget demo-widget .demo-widget__card--ready');
      return widget?.status === 'ready' && !!card?.textContent?.includes(expected);
    },
    { timeout },
    text,
  );
}
