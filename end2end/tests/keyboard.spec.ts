import { test, expect } from "./fixtures";
import { MailSettingsPage } from "./mail-settings-page";
import type { Page } from "@playwright/test";

/** Counts the requests to one server function. */
function counter(page: Page, endpoint: string) {
  const seen = { count: 0 };
  page.on("request", (r) => {
    if (r.url().includes(`/api/${endpoint}`)) seen.count++;
  });
  return seen;
}

test("Enter tests values that have not passed a test, and saves only tested ones", async ({ page, fresh, peer }) => {
  const mail = await MailSettingsPage.forPeer(page, fresh.url, peer.ports.plain, "wrong-password", "none");
  const saves = counter(page, "save_mail_settings");
  const tests = counter(page, "test_mail_server");
  const tested = page.getByTestId("tested-status");
  await expect(tested).toHaveText("Not tested yet.");

  // Enter in a field: a test, not a save.
  await mail.field("Host Name (SMTP)").press("Enter");
  await expect(mail.result.getByRole("heading")).toHaveText("Test failed: Login rejected");
  expect(tests.count).toBe(1);
  expect(saves.count).toBe(0);
  // Still untested (the test failed): Enter tests again, "Send test to" too.
  await mail.field("Send test to").press("Enter");
  await expect.poll(() => tests.count).toBe(2);
  await expect(mail.result.getByRole("heading")).toHaveText("Test failed: Login rejected");

  await mail.fill({ password: "correct-password" });
  await mail.field("Password").press("Enter");
  await expect(mail.result.getByRole("heading")).toHaveText("Test email accepted");
  await expect(tested).toContainText("These values passed a test at");
  expect(saves.count).toBe(0);

  // Tested values: Enter saves them, without asking.
  await mail.field("Port").press("Enter");
  await expect(mail.status).toContainText("Saved at");
  expect(saves.count).toBe(1);
  await expect(tested).toContainText("These values passed a test at");

  // An edit makes them untested again.
  await mail.fill({ fromName: "Changed" });
  await expect(tested).toContainText("These values changed since they passed a test at");
});

test("Save with untested values asks first and saves nothing until confirmed", async ({ page, fresh, peer }) => {
  const mail = await MailSettingsPage.forPeer(page, fresh.url, peer.ports.plain, "correct-password", "none");
  const saves = counter(page, "save_mail_settings");
  await mail.saveButton.click();
  const confirm = page.getByRole("group").filter({ hasText: "These values have not passed a test" });
  await expect(confirm).toBeVisible();
  // The focus is on the safe choice: Enter tests.
  await expect(confirm.getByRole("button", { name: "Test Email Server first" })).toBeFocused();
  expect(saves.count).toBe(0);
  await page.keyboard.press("Enter");
  await expect(mail.result.getByRole("heading")).toHaveText("Test email accepted");
  await expect(confirm).toBeHidden();
  await mail.saveButton.click();
  await expect(mail.status).toContainText("Saved at");
  expect(saves.count).toBe(1);
});

test("keyboard only: fill, test, then save from the result", async ({ page, fresh, peer }) => {
  await new MailSettingsPage(page, fresh.url).open();
  const mail = new MailSettingsPage(page, fresh.url);
  /** Presses Tab until the focused element matches `label`, then types `value`. */
  const tabTo = async (name: string) => {
    for (let i = 0; i < 40; i++) {
      await page.keyboard.press("Tab");
      const focused = await page.evaluate(() => {
        const el = document.activeElement as HTMLElement | null;
        const label = el?.id ? document.querySelector(`label[for="${el.id}"]`)?.textContent : null;
        return (label ?? el?.textContent ?? "").trim();
      });
      if (focused.startsWith(name)) return;
    }
    throw new Error(`Tab never reached ${name}`);
  };
  await tabTo("Host Name (SMTP)");
  await page.keyboard.type("localhost");
  await tabTo("Port");
  await page.keyboard.type(String(peer.ports.plain));
  await tabTo("Email Account");
  await page.keyboard.type("alerts@example.com");
  await tabTo("Password");
  await page.keyboard.type("correct-password");
  await tabTo("Email “From” Address");
  await page.keyboard.type("alerts@example.com");
  await tabTo("Test Email Server");
  await page.keyboard.press("Enter");
  const heading = mail.result.getByRole("heading");
  await expect(heading).toHaveText("Test email accepted");
  await expect(heading).toBeFocused();
  await page.keyboard.press("Tab");
  await expect(page.getByRole("button", { name: "Save these settings" })).toBeFocused();
  await page.keyboard.press("Enter");
  await expect(mail.status).toContainText("Saved at");
  await expect(mail.unsaved).toBeHidden();
});

test("a one-click fix in the failure card changes the field and focuses it", async ({ page, fresh, peer }) => {
  const mail = await new MailSettingsPage(page, fresh.url).open();
  await mail.fill({
    host: "localhost",
    port: peer.ports.plain,
    account: "alerts@example.com",
    password: "correct-password",
    fromAddress: "refused@example.com",
    encryption: "none",
  });
  const result = await mail.test();
  await expect(result.getByRole("heading")).toHaveText("Test failed: Sender rejected");
  await result.getByRole("button", { name: "Use the account as From address" }).click();
  await expect(mail.field("Email “From” Address")).toHaveValue("alerts@example.com");
  await expect(mail.field("Email “From” Address")).toBeFocused();
  await expect(result.getByRole("button", { name: "Use the account as From address" })).toBeHidden();
});
