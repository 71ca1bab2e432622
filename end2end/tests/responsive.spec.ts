import { test, expect } from "./fixtures";
import { MailSettingsPage } from "./mail-settings-page";
import type { Page } from "@playwright/test";

/** Whether the page is wider than the window (a horizontal scroll bar). */
async function overflows(page: Page) {
  return page.evaluate(() => document.documentElement.scrollWidth > window.innerWidth);
}

for (const width of [320, 390]) {
  test(`at ${width} px nothing scrolls sideways and the menu stays reachable`, async ({ browser, server }) => {
    const context = await browser.newContext({ viewport: { width, height: 800 } });
    const page = await context.newPage();
    await page.goto(`${server.url}/login`);
    expect(await overflows(page), "login page").toBe(false);
    const mail = await new MailSettingsPage(page, server.url).open();
    expect(await overflows(page), "settings page").toBe(false);
    await mail.fill({ host: "a-rather-long-host-name.mail.example.com", account: "someone.with.a.long.name@example.com" });
    await mail.openAdvanced();
    expect(await overflows(page), "settings page with Advanced open").toBe(false);
    await page.evaluate(() => window.scrollTo(0, 0));
    const menu = page.getByRole("navigation", { name: "Main menu" });
    await expect(menu.getByRole("link", { name: "Mail Server" })).toBeInViewport();
    await expect(menu.getByRole("button", { name: "Log out" })).toBeVisible();
    await context.close();
  });
}

test("the switches are large enough to touch", async ({ page, server }) => {
  await new MailSettingsPage(page, server.url).open();
  for (const name of ["Use STARTTLS", "Use SSL"]) {
    const box = await page.getByLabel(name).boundingBox();
    expect(box!.width).toBeGreaterThanOrEqual(24);
    expect(box!.height).toBeGreaterThanOrEqual(24);
  }
});

