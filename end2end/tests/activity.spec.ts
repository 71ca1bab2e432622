import { test, expect, openHydrated, logIn } from "./fixtures";
import { MailSettingsPage } from "./mail-settings-page";
import type { Page } from "@playwright/test";

/** Creates an API token on Settings › API Tokens and returns it (shown once). */
async function createToken(page: Page, serverUrl: string, name: string): Promise<string> {
  await page.goto(`${serverUrl}/settings/tokens`);
  if (new URL(page.url()).pathname === "/login") await logIn(page);
  await page.getByLabel("Name").fill(name);
  await page.getByRole("button", { name: "Create token" }).click();
  await expect(page.getByRole("heading", { name: `Token “${name}” created: copy it now` })).toBeVisible();
  return (await page.locator("#new-token").textContent())!.trim();
}

test("API tokens: created and shown once, listed with their use, revoked for good", async ({ page, fresh, peer }) => {
  // A mail server, so the API accepts mail.
  const mail = await MailSettingsPage.forPeer(page, fresh.url, peer.ports.plain, "correct-password", "none");
  await mail.save();

  const token = await createToken(page, fresh.url, "nightly backup");
  expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
  await page.reload();
  await expect(page.locator("#new-token")).toHaveCount(0);
  const row = page.getByRole("row", { name: /nightly backup/ });
  await expect(row).toContainText("never");

  const send = () =>
    page.request.post(`${fresh.url}/api/v1/messages`, {
      headers: { Authorization: `Bearer ${token}` },
      data: { to: ["ops@example.com"], subject: "Backup done", text: "All good." },
    });
  expect((await send()).status()).toBe(202);
  await page.reload();
  await expect(row).not.toContainText("never");

  await page.getByLabel("Name").fill("nightly backup");
  await page.getByRole("button", { name: "Create token" }).click();
  await expect(page.locator("#form-error")).toContainText("exists");

  await row.getByRole("button", { name: "Revoke nightly backup" }).click();
  await expect(page.getByText("No tokens yet.")).toBeVisible();
  expect((await send()).status()).toBe(401);

  // Both are in the change history.
  await openHydrated(page, `${fresh.url}/settings/mail`);
  await expect(page.getByText("created the API token “nightly backup”")).toBeVisible();
  await expect(page.getByText("revoked the API token “nightly backup”")).toBeVisible();
});

test("Mail Activity: a message refused with 550 shows why, and after the settings are fixed it is retried and arrives", async ({ page, fresh, peer }) => {
  // An account the server lets log in but not send outside its own domain.
  const mail = await new MailSettingsPage(page, fresh.url).open();
  await mail.fill({
    host: "localhost",
    port: peer.ports.plain,
    account: "no-relay@example.com",
    password: "correct-password",
    fromAddress: "no-relay@example.com",
    fromName: "Mailroom Alerts",
    encryption: "none",
  });
  await mail.save();
  const token = await createToken(page, fresh.url, "monitoring");
  // The page is open before the message exists: it appears, then fails, without a reload.
  await page.goto(`${fresh.url}/settings/activity`);
  await expect(page.getByText("No messages here yet.")).toBeVisible();
  const loads: string[] = [];
  page.on("load", () => loads.push(page.url()));
  const answer = await page.request.post(`${fresh.url}/api/v1/messages`, {
    headers: { Authorization: `Bearer ${token}` },
    data: { to: ["oncall@customer.test"], subject: "Queue depth above 1000", text: "Look at the workers." },
  });
  expect(answer.status()).toBe(202);
  const id = (await answer.json()).messages[0].id;

  const item = page.locator(`#message-${id}`);
  await expect(item.locator(".state")).toHaveText("Failed");
  expect(loads, "no reload").toEqual([]);
  await expect(page.getByRole("link", { name: "Failed (1)" })).toBeVisible();
  await item.locator("summary").click();
  await expect(item.getByRole("cell", { name: "550 5.7.1" })).toBeVisible();
  await expect(item.getByRole("cell", { name: /Relaying denied/ })).toBeVisible();
  await expect(item.locator(".transcript")).toContainText("RCPT TO:<oncall@customer.test>");
  await expect(item.getByText("API token “monitoring”")).toBeVisible();

  // Fix the settings: the account that may send anywhere.
  await mail.open();
  await mail.fill({ account: "alerts@example.com", fromAddress: "alerts@example.com", password: "correct-password" });
  await mail.save();

  await page.goto(`${fresh.url}/settings/activity?q=customer.test`);
  await page.locator(`#message-${id} summary`).click();
  await page.locator(`#message-${id}`).getByRole("button", { name: "Retry now" }).click();
  await expect(page.locator(`#message-${id} .state`)).toHaveText("Sent");
  await expect.poll(() => peer.subjectsTo("oncall@customer.test")).toContain("Queue depth above 1000");
  await page.getByRole("link", { name: /^Sent/ }).click();
  await expect(page.locator(`#message-${id}`)).toBeVisible();
});

test("a paused outbox puts a banner on every admin page, linking to the settings", async ({ page, fresh, peer }) => {
  const mail = await MailSettingsPage.forPeer(page, fresh.url, peer.ports.plain, "wrong-password", "none");
  await mail.save();
  await page.getByRole("button", { name: "Send a test through the queue" }).click();
  await expect(page).toHaveURL(/\/settings\/activity\?open=\d+/);
  const banner = page.getByRole("region", { name: "Mail delivery is paused" });
  await expect(async () => {
    await page.reload();
    await expect(banner).toBeVisible({ timeout: 1000 });
  }).toPass();
  await expect(banner).toContainText("535");
  for (const path of ["/settings/mail", "/settings/tokens"]) {
    await page.goto(`${fresh.url}${path}`);
    await expect(banner).toBeVisible();
  }
  await banner.getByRole("link", { name: "Check Settings › Mail Server" }).click();
  await expect(page).toHaveURL(/\/settings\/mail$/);

  // Fixed settings lift the pause; the held message goes out.
  await mail.open();
  await mail.fill({ password: "correct-password" });
  await mail.save();
  await expect.poll(() => peer.subjectsTo("admin@example.com")).toContain("Mailroom test email (through the queue)");
  await page.goto(`${fresh.url}/settings/activity`);
  await expect(banner).toHaveCount(0);
});
