import type { Page } from 'playwright-core';

/** MLflow's UI is a single-page app that can take a while to render on a loaded machine. */
export const UI_TIMEOUT = 120_000;

/** A page of MLflow's UI, driven as a person reads it (the trainer's links open the machine-learning view). */
export function mlflowUi(page: Page) {
  const visible = (text: string | RegExp) =>
    page.getByText(text).first().waitFor({ state: 'visible', timeout: UI_TIMEOUT });
  return {
    visible,
    async open(url: string): Promise<void> {
      await page.goto(url, { waitUntil: 'domcontentloaded', timeout: UI_TIMEOUT });
    },
    /** The x-axis tick labels of the page's metric charts, once the first chart has drawn its axis. */
    async xTicks(): Promise<string[]> {
      const ticks = page.locator('.xtick text');
      await ticks.first().waitFor({ state: 'visible', timeout: UI_TIMEOUT });
      return ticks.allTextContents();
    },
    /** Closes MLflow's assistant side panel if it is open, so screenshots show the page itself. */
    async closeAssistant(): Promise<void> {
      const close = page.getByRole('button', { name: 'Close', exact: true });
      if (await close.count())
        await close
          .first()
          .click({ timeout: 5_000 })
          .catch(() => undefined);
    },
    /** Opens an artifact of a run in the artifact viewer and waits for its image (fetched as a blob). */
    async openImageArtifact(runUrl: string, path: string): Promise<void> {
      await page.goto(runUrl.replace('?', `/artifacts/${path}?`), {
        waitUntil: 'domcontentloaded',
        timeout: UI_TIMEOUT,
      });
      // A hash change alone does not reload the app: wait for this file's header, then for its image.
      await page.reload({ waitUntil: 'domcontentloaded', timeout: UI_TIMEOUT });
      await visible(path);
      await page.locator('img[src^="blob:"]').first().waitFor({ state: 'visible', timeout: UI_TIMEOUT });
    },
  };
}
