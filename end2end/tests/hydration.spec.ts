import { test, expect, logIn } from "./fixtures";
import { MailSettingsPage } from "./mail-settings-page";

test("what is typed before the wasm arrives is kept, and validated once it runs", async ({ page, server }) => {
  const mail = new MailSettingsPage(page, server.url);
  // Holds the wasm back until the admin has typed.
  let release!: () => void;
  const typed = new Promise<void>((resolve) => (release = resolve));
  await page.route("**/*.wasm", async (route) => {
    await typed;
    await route.continue();
  });
  await page.goto(mail.url);
  if (new URL(page.url()).pathname === "/login") {
    await logIn(page);
    await page.waitForURL(/\/settings\/mail$/);
  }
  await expect(page.locator("body")).not.toHaveAttribute("data-hydrated", "true");
  await mail.field("Host Name (SMTP)").fill("smtp.typed-early.example");
  await mail.field("Port").fill("70000");
  await mail.field("Send test to").fill("ops@example.com");
  release();
  await expect(page.locator("body")).toHaveAttribute("data-hydrated", "true");
  await expect(mail.field("Host Name (SMTP)")).toHaveValue("smtp.typed-early.example");
  await expect(mail.field("Port")).toHaveValue("70000");
  await expect(mail.field("Send test to")).toHaveValue("ops@example.com");
  // The island took the values over: they count as edits and are checked.
  await expect(mail.unsaved).toBeVisible();
  await expect(await mail.messageOf("Port")).toContainText("65535");
});

test("times are shown in the browser's time zone, with UTC on hover", async ({ browser, fresh }) => {
  const context = await browser.newContext({ timezoneId: "Asia/Kolkata", locale: "en-GB" });
  const mail = await new MailSettingsPage(await context.newPage(), fresh.url).open();
  await mail.fillValid();
  await mail.save();
  const time = mail.status.locator("time");
  await expect(time).toHaveAttribute("title", /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC$/);
  await expect(time).toHaveAttribute("datetime", /^\d{4}-\d\d-\d\dT/);
  // India is UTC+5:30 all year: the shown time is the local one.
  await expect(time).toContainText(/GMT\+5:30|IST/);
  await expect(mail.page.locator(".audit-list time").first()).toContainText(/GMT\+5:30|IST/);
  await context.close();
});

test("a field's error is said once, when the admin leaves the field", async ({ page, server }) => {
  const mail = await new MailSettingsPage(page, server.url).open();
  const said = page.locator(".visually-hidden[aria-live=polite]");
  await mail.field("Port").fill("70000");
  await expect(await mail.messageOf("Port")).toContainText("65535");
  await expect(said).toHaveText("");
  await mail.field("Port").blur();
  await expect(said).toContainText("Port:");
  await expect(said).toContainText("65535");
  await mail.field("Port").fill("587");
  await mail.field("Port").blur();
  await expect(said).toHaveText("");
});
