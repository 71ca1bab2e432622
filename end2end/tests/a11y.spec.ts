import { test, expect, logIn, expectNoViolations, AXE_TAGS as TAGS } from "./fixtures";
import { MailSettingsPage, VALID } from "./mail-settings-page";
import { MailroomServer } from "./server";
import AxeBuilder from "@axe-core/playwright";

test("the axe check finds a violation when there is one", async ({ page, fresh }) => {
  await page.goto(`${fresh.url}/login`);
  await page.evaluate(() => document.querySelector("main")!.insertAdjacentHTML("beforeend", '<img src="data:,">'));
  const { violations } = await new AxeBuilder({ page }).withTags(TAGS).analyze();
  expect(violations.map((v) => v.id)).toContain("image-alt");
});

test("the pages without a session pass axe-core, also with their errors", async ({ page, fresh }) => {
  await page.goto(`${fresh.url}/login`);
  await expectNoViolations(page, "login");
  await logIn(page, "not the password");
  await expect(page.locator("#form-error")).toBeVisible();
  await expectNoViolations(page, "login with an error");
  await page.goto(`${fresh.url}/forgot`);
  await expectNoViolations(page, "forgot");
  await page.getByLabel("Email").fill("someone@example.com");
  await page.getByRole("button", { name: "Send reset link" }).click();
  await expect(page.getByRole("status")).toBeVisible();
  await expectNoViolations(page, "forgot, answered");
  // The reset form with a live link and its error: auth.spec.ts, with a real link.
  await page.goto(`${fresh.url}/reset?token=unknown`);
  await expect(page.getByRole("alert")).toBeVisible();
  await expectNoViolations(page, "reset, link used or expired");
  await page.goto(`${fresh.url}/setup`);
  await expectNoViolations(page, "setup without a link");
  await page.goto(`${fresh.url}/no/such/page`);
  await expectNoViolations(page, "not found");
});

test("the setup page with its link passes axe-core", async ({ page }) => {
  const dir = MailroomServer.tempDataDir();
  const server = await MailroomServer.start(dir, false);
  try {
    const find = () => /https?:\/\/\S+\/setup\?token=[A-Za-z0-9_-]+/.exec(server.output())?.[0];
    await expect.poll(find, { message: "the setup link in the log" }).toBeTruthy();
    const link = find();
    await page.goto(link!.replace(/^https?:\/\/[^/]+/, server.url));
    await expect(page.getByLabel("Email")).toBeVisible();
    await expectNoViolations(page, "setup");
  } finally {
    await server.stop();
    MailroomServer.removeDataDir(dir);
  }
});

test("Settings › Mail Server passes axe-core in every state", async ({ page, fresh, peer }) => {
  const mail = await new MailSettingsPage(page, fresh.url).open();
  await expectNoViolations(page, "settings, empty");
  await mail.saveButton.click();
  await expect(await mail.messageOf("Host Name (SMTP)")).not.toBeEmpty();
  await mail.openAdvanced();
  await expectNoViolations(page, "settings with errors, Advanced open");

  await mail.fill({ ...VALID, host: "localhost", port: peer.ports.plain, password: "wrong-password", encryption: "none" });
  await mail.saveButton.click();
  await expect(page.getByRole("button", { name: "Save without testing" })).toBeVisible();
  await expectNoViolations(page, "settings asking before an untested save");

  const failed = await mail.test();
  await expect(failed.getByRole("heading")).toHaveText("Test failed: Login rejected");
  await failed.getByText("SMTP transcript").click();
  await expectNoViolations(page, "settings with a failed test and its transcript");
  await mail.fill({ port: 1 });
  await expect(failed.getByTestId("stale-result")).toBeVisible();
  await expectNoViolations(page, "settings with an old test result");

  await mail.fill({ port: peer.ports.plain, password: "correct-password" });
  const passed = await mail.test();
  await expect(passed.getByRole("heading")).toHaveText("Test email accepted");
  await passed.getByRole("button", { name: "Save these settings" }).click();
  await expect(mail.status).toContainText("Saved at");
  await expectNoViolations(page, "settings saved, with history");

  // A conflict.
  const other = await new MailSettingsPage(await page.context().newPage(), fresh.url).open();
  await other.fill({ fromName: "Other" });
  await other.save();
  await mail.fill({ fromName: "Mine" });
  await mail.saveExpectingRefusal();
  await expect(page.getByTestId("conflict")).toContainText("What changed");
  await expectNoViolations(page, "settings with a conflict");
  await other.page.close();
});

test("Settings › Mail Server passes axe-core on a phone", async ({ browser, server }) => {
  const context = await browser.newContext({ viewport: { width: 390, height: 844 } });
  const page = await context.newPage();
  await page.goto(`${server.url}/login`);
  await expectNoViolations(page, "login at 390 px");
  await new MailSettingsPage(page, server.url).open();
  await expectNoViolations(page, "settings at 390 px");
  await context.close();
});

test("API Tokens, Mail Activity (a failed message open) and the health banner pass axe-core", async ({ page, fresh, peer }) => {
  const mail = await MailSettingsPage.forPeer(page, fresh.url, peer.ports.plain, "correct-password", "none");
  await mail.save();
  await page.goto(`${fresh.url}/settings/tokens`);
  await expectNoViolations(page, "API Tokens, empty");
  await page.getByLabel("Name").fill("");
  await page.getByLabel("Name").fill("grafana");
  await page.getByRole("button", { name: "Create token" }).click();
  await expect(page.locator("#new-token")).toBeVisible();
  await expectNoViolations(page, "API Tokens, a token just created");
  const token = (await page.locator("#new-token").textContent())!.trim();
  const sent = await page.request.post(`${fresh.url}/api/v1/messages`, {
    headers: { Authorization: `Bearer ${token}` },
    data: { to: ["reject-rcpt@example.com", "ops@example.com"], subject: "Disk almost full", text: "93 %" },
  });
  expect(sent.status()).toBe(202);
  const [failed] = (await sent.json()).messages;
  await page.goto(`${fresh.url}/settings/activity`);
  await expect(page.locator(`#message-${failed.id} .state`)).toHaveText("Failed");
  await page.locator(`#message-${failed.id} summary`).click();
  // 550 5.1.1, explained as the test explains it.
  await expect(page.locator(`#message-${failed.id} .explanation`)).toContainText("mailbox does not exist at that server");
  await expectNoViolations(page, "Mail Activity, a failed message open");
  await page.setViewportSize({ width: 390, height: 844 });
  await expectNoViolations(page, "Mail Activity at 390 px");
  await page.setViewportSize({ width: 1280, height: 800 });
  // The confirmations and what the page says after an action.
  await page.goto(`${fresh.url}/settings/tokens`);
  await page.getByRole("link", { name: "Revoke grafana" }).click();
  await expect(page.getByRole("region", { name: "Revoke the token “grafana”?" })).toBeVisible();
  await expectNoViolations(page, "API Tokens, asking before a revoke");
  await page.getByRole("button", { name: "Revoke “grafana”" }).click();
  await expect(page.locator("#action-status")).toContainText("revoked");
  await expectNoViolations(page, "API Tokens, a token just revoked");
  await page.goto(`${fresh.url}/settings/activity?retried=${failed.id}`);
  await expect(page.locator("#action-status")).toContainText("queued again");
  await expectNoViolations(page, "Mail Activity, after a retry");
  await page.goto(`${fresh.url}/settings/activity?cancel=${failed.id}`);
  await expect(page.locator("#action-status")).toContainText("nothing to cancel");
  await expectNoViolations(page, "Mail Activity, nothing to cancel");

  const wrong = await MailSettingsPage.forPeer(page, fresh.url, peer.ports.plain, "wrong-password", "none");
  await wrong.save();
  await page.getByRole("button", { name: "Send a test through the queue" }).click();
  await expect(page).toHaveURL(/open=\d+/);
  const held = new URL(page.url()).searchParams.get("open")!;
  const banner = page.getByRole("region", { name: "Mail delivery is paused" });
  await expect(async () => {
    await page.reload();
    await expect(banner).toBeVisible({ timeout: 1000 });
  }).toPass();
  await expectNoViolations(page, "Mail Activity with the health banner");
  // The held message: asking before a cancel, then the note with its undo.
  await page.goto(`${fresh.url}/settings/activity?cancel=${held}`);
  await expectNoViolations(page, "Mail Activity, asking before a cancel");
  await page.getByRole("button", { name: "Cancel this message" }).click();
  await expect(page.getByRole("button", { name: "Undo: queue it again" })).toBeVisible();
  await expectNoViolations(page, "Mail Activity, a message just cancelled");
});

test("Settings › Mail Server with Authentication None (a relay) passes axe-core", async ({ page, fresh }) => {
  const mail = await new MailSettingsPage(page, fresh.url).open();
  await mail.fill({ authentication: "none", port: 587 });
  await expect(page.locator("#authentication-message")).toContainText("submission port");
  await expectNoViolations(page, "Authentication None with a warning");
});

test("Settings › Mail Server with OAuth2 (Microsoft 365's preset) passes axe-core", async ({ page, fresh }) => {
  const mail = await new MailSettingsPage(page, fresh.url).open();
  await page.getByLabel("Provider").selectOption({ label: "Microsoft 365" });
  await expect(mail.field("Client ID")).toBeVisible();
  await expectNoViolations(page, "OAuth2");
});

test("a mailbox's sign-in passes axe-core: the page it ends on, and the settings with the connected mailbox", async ({ page, fresh, peer }) => {
  const mail = await new MailSettingsPage(page, fresh.url).open();
  await page.getByLabel("Provider").selectOption({ label: "Gmail" });
  await expect(page.getByText("Save the settings with Sign in as a mailbox, then sign in here.")).toBeVisible();
  await expectNoViolations(page, "OAuth2 as a mailbox, not saved");
  await mail.connectMailbox(peer.ports.plain, peer.ports.oauth, "app-a11y-mailbox");
  await expectNoViolations(page, "the sign-in's end page");
  await page.getByRole("link", { name: "Back to Settings › Mail Server" }).click();
  await expect(page.getByTestId("connected-mailbox")).toBeVisible();
  await expectNoViolations(page, "a connected mailbox");
  await page.setViewportSize({ width: 390, height: 844 });
  await expectNoViolations(page, "a connected mailbox at 390 px");
});
