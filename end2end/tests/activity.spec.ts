import { test, expect, openHydrated, createToken } from "./fixtures";
import { MailSettingsPage, noRelayForm } from "./mail-settings-page";

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

  // Revoke asks first, naming what stops working, with the focus on keeping the token.
  await row.getByRole("link", { name: "Revoke nightly backup" }).click();
  const confirm = page.getByRole("region", { name: "Revoke the token “nightly backup”?" });
  await expect(confirm).toContainText("Services using “nightly backup” will get 401");
  await expect(confirm.getByRole("link", { name: "Keep the token" })).toBeFocused();
  await page.keyboard.press("Enter");
  await expect(confirm).toHaveCount(0);
  expect((await send()).status(), "kept").toBe(202);
  await row.getByRole("link", { name: "Revoke nightly backup" }).click();
  await confirm.getByRole("button", { name: "Revoke “nightly backup”" }).click();
  // Afterwards the page says what happened, where the focus is.
  const done = page.locator("#action-status");
  await expect(done).toHaveText("Token “nightly backup” revoked. Services using it now get 401.");
  await expect(done).toHaveAttribute("role", "status");
  await expect(done).toBeFocused();
  await expect(page.getByText("No tokens yet.")).toBeVisible();
  expect((await send()).status()).toBe(401);
  // A link alone cannot make the page claim a revocation.
  await page.goto(`${fresh.url}/settings/tokens?revoked=grafana`);
  await expect(page.locator("#action-status")).toHaveCount(0);

  // Both are in the change history.
  await openHydrated(page, `${fresh.url}/settings/mail`);
  await expect(page.getByText("created the API token “nightly backup”")).toBeVisible();
  await expect(page.getByText("revoked the API token “nightly backup”")).toBeVisible();
});

test("a new token has a Copy button that copies it and says so", async ({ page, fresh }) => {
  await page.context().grantPermissions(["clipboard-read", "clipboard-write"]);
  const token = await createToken(page, fresh.url, "grafana");
  await page.getByRole("button", { name: "Copy" }).click();
  await expect(page.locator("#new-token-copied")).toHaveText("Copied.");
  expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(token);
});

test("Mail Activity: Cancel asks first, says what it did and can be undone; Retry now says where the message went", async ({ page, fresh, peer }) => {
  // Nothing listens on port 1: the message waits, deferred.
  const mail = await MailSettingsPage.forPeer(page, fresh.url, 1, "correct-password", "none");
  await mail.save();
  await page.getByRole("button", { name: "Send a test through the queue" }).click();
  await expect(page).toHaveURL(/\/settings\/activity\?open=\d+/);
  const id = new URL(page.url()).searchParams.get("open")!;
  const state = page.locator(`#message-${id} .state`);
  await expect(async () => {
    await page.reload();
    await expect(state).toHaveText("Deferred", { timeout: 1000 });
  }).toPass();

  await page.locator(`#message-${id}`).getByRole("link", { name: "Cancel sending…" }).click();
  const confirm = page.getByRole("region", { name: /^Cancel the message to admin@example\.com/ });
  await expect(confirm).toContainText("It will not be sent.");
  await expect(confirm.getByRole("link", { name: "Keep it queued" })).toBeFocused();
  await confirm.getByRole("button", { name: "Cancel this message" }).click();
  const done = page.locator("#action-status");
  await expect(done).toContainText("Message to admin@example.com “Mailroom test email (through the queue)” cancelled: it will not be sent.");
  await expect(done).toBeFocused();
  await expect(state).toHaveText("Cancelled");
  await expect(page.getByRole("link", { name: "Cancelled (1)" })).toBeVisible();

  // Undo: queued again.
  await done.getByRole("button", { name: "Undo: queue it again" }).click();
  await expect(done).toContainText("queued again; it is now under");
  await expect(page.getByRole("link", { name: "Cancelled (0)" })).toBeVisible();
  await expect(async () => {
    await page.reload();
    await expect(state).toHaveText("Deferred", { timeout: 1000 });
  }).toPass();

  // The server fixed: Retry now, and the note links to where the message is.
  await mail.open();
  await mail.fill({ port: peer.ports.plain, password: "correct-password" });
  await mail.save();
  await page.goto(`${fresh.url}/settings/activity?open=${id}`);
  await page.locator(`#message-${id}`).getByRole("button", { name: "Retry now" }).click();
  await expect(done).toContainText("queued again; it is now under");
  const where = done.getByRole("link");
  await expect(where).toHaveText(/^(Queued|Sent)$/);
  await expect.poll(() => peer.subjectsTo("admin@example.com")).toContain("Mailroom test email (through the queue)");
  await page.goto(`${fresh.url}/settings/activity?state=sent`);
  await expect(page.locator(`#message-${id}`)).toBeVisible();
});

test("Mail Activity: a message refused with 550 shows why, and after the settings are fixed it is retried and arrives", async ({ page, fresh, peer }) => {
  // An account the server lets log in but not send outside its own domain.
  const mail = await new MailSettingsPage(page, fresh.url).open();
  await mail.fill(noRelayForm(peer.ports.plain));
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
  await expect(item.locator(".explanation")).toContainText("relaying denied");
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
  await page.getByRole("link", { name: /^Sent \(\d+\)$/ }).click();
  await expect(page.locator(`#message-${id}`)).toBeVisible();
});

test("a paused outbox puts a banner on every admin page, linking to the settings", async ({ page, fresh, peer }) => {
  const mail = await MailSettingsPage.forPeer(page, fresh.url, peer.ports.plain, "wrong-password", "none");
  await mail.save();
  await page.getByRole("button", { name: "Send a test through the queue" }).click();
  await expect(page).toHaveURL(/\/settings\/activity\?open=\d+/);
  const id = new URL(page.url()).searchParams.get("open")!;
  const banner = page.getByRole("region", { name: "Mail delivery is paused" });
  await expect(async () => {
    await page.reload();
    await expect(banner).toBeVisible({ timeout: 1000 });
  }).toPass();
  await expect(banner).toContainText("535");
  // The server's reply is said once.
  expect((await banner.textContent())!.match(/535/g)).toHaveLength(1);
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
  // This message (other tests send the same mail to the same peer).
  await expect(async () => {
    await page.goto(`${fresh.url}/settings/activity?open=${id}`);
    await expect(page.locator(`#message-${id} .state`)).toHaveText("Sent", { timeout: 1000 });
  }).toPass();
  await expect(banner).toHaveCount(0);
});
