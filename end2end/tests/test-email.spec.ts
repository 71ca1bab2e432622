import { test, expect, pageWithoutScript } from "./fixtures";
import { MailSettingsPage, PASSWORD, mailboxForm } from "./mail-settings-page";


test("a successful test shows the server's reply and is remembered", async ({ page, fresh, peer }) => {
  const mail = await MailSettingsPage.forPeer(page, fresh.url, peer.ports.starttls, "correct-password", "starttls");
  await mail.fill({ caPem: peer.caPem });
  const result = await mail.test();
  await expect(result.getByRole("heading")).toHaveText("Test email accepted");
  await expect(result).toContainText("check the inbox and spam folder");
  await expect(result).toContainText(/Server reply: 250 2\.0\.0 Ok: queued as [0-9A-F]+/);
  await expect(mail.lastTest).toHaveText(/^\s*✓ These values passed a test at .+\.\s*$/);
  await result.getByText("SMTP transcript").click();
  await expect(result.locator("pre")).toContainText("STARTTLS");
  await expect(result.locator("pre")).toContainText("<credentials hidden>");
  await expect(result.locator("pre")).not.toContainText("correct-password");
  // Testing saves nothing.
  await expect(mail.unsaved).toBeVisible();
});

test("a wrong password shows the login stage, the 535 reply, the authentication advice and the field", async ({ page, fresh, peer }) => {
  const mail = await MailSettingsPage.forPeer(page, fresh.url, peer.ports.plain, PASSWORD, "none");
  const result = await mail.test();
  await expect(result.getByRole("heading")).toHaveText("Test failed: Login rejected");
  await expect(result).toContainText("535");
  await expect(result).toContainText("5.7.8");
  await expect(result).toContainText("Verify that the SMTP address, port, account, and password are correct.");
  await expect(result).toContainText("authorization code");
  await expect(result).toContainText("Most likely at fault: Password");
  await expect(page.locator(".field.at-fault")).toContainText("Password");
  // The card says it failed; the line under it adds only what the card does not.
  await expect(mail.lastTest).toHaveText("No test has succeeded yet.");
  // After a reload, the history says it once.
  await mail.reload();
  await expect(mail.lastTest).toHaveText(/^\s*Last test failed: Login rejected \(.+\)\.\s+No test has succeeded yet\.\s*$/);
});

test("SSL on the STARTTLS port is reported as a mode mismatch within two seconds", async ({ page, fresh, peer }) => {
  const mail = await MailSettingsPage.forPeer(page, fresh.url, peer.ports.starttls, "correct-password", "ssl");
  await mail.fill({ caPem: peer.caPem });
  const started = Date.now();
  const result = await mail.test();
  await expect(result.getByRole("heading")).toHaveText("Test failed: SSL is on, but this port does not speak SSL");
  const elapsed = Date.now() - started;
  console.log(`SSL-on-STARTTLS-port reported after ${elapsed} ms`);
  await expect(result).toContainText("Turn off “Use SSL”");
  await expect(result).toContainText("Enable or disable TLS/SSL as required by the email provider.");
  await expect(page.locator("fieldset.at-fault")).toBeVisible();
});

test("a test with wrong fields is refused in the browser and says what to fix", async ({ page, fresh }) => {
  const mail = await new MailSettingsPage(page, fresh.url).open();
  let requests = 0;
  page.on("request", (r) => r.url().includes("/api/test_mail_server") && requests++);
  await mail.fill({ account: "apikey" });
  await mail.testButton.click();
  await expect(await mail.messageOf("Host Name (SMTP)")).toContainText("Enter the SMTP server");
  await expect(mail.field("Host Name (SMTP)")).toBeFocused();
  await mail.fill({ host: "localhost", port: "2525", password: "x", fromAddress: "alerts@example.com" });
  await mail.testButton.click();
  await expect(await mail.messageOf("Send test to")).toContainText("enter who should receive");
  await expect(mail.field("Send test to")).toBeFocused();
  expect(requests).toBe(0);
});

test("the result card acts: the field at fault is one click away, a success can be saved at once", async ({ page, fresh, peer }) => {
  const mail = await MailSettingsPage.forPeer(page, fresh.url, peer.ports.plain, "wrong-password", "none");
  let result = await mail.test();
  await expect(result.getByRole("heading"), "focus moves to the result").toBeFocused();
  await result.getByRole("button", { name: "Password" }).click();
  await expect(mail.field("Password")).toBeFocused();
  await mail.fill({ password: "correct-password" });
  result = await mail.test();
  await expect(result.getByRole("heading")).toHaveText("Test email accepted");
  await result.getByRole("button", { name: "Save these settings" }).click();
  await expect(page.getByRole("status")).toContainText("Saved at");
  await expect(mail.unsaved).toBeHidden();
});

test("a test refused by the rate limit keeps the last diagnosis and counts down", async ({ page, fresh, peer }) => {
  const mail = await MailSettingsPage.forPeer(page, fresh.url, peer.ports.plain, "wrong-password", "none");
  for (let i = 0; i < 5; i++) {
    const result = await mail.test();
    await expect(result.getByRole("heading")).toHaveText("Test failed: Login rejected");
    await expect(mail.testButton).toBeEnabled();
  }
  await expect(mail.result.getByTestId("stale-result")).toHaveCount(0);
  // The sixth, with other values: refused; the kept result says it is for the old ones.
  await mail.fill({ port: 1 });
  await mail.testButton.click();
  await expect(page.getByRole("button", { name: /Test again in \d+ s/ })).toBeDisabled();
  await expect(page.getByText(/At most 5 of these per minute/)).toBeVisible();
  await expect(mail.result.getByRole("heading")).toHaveText("Test failed: Login rejected");
  const stale = mail.result.getByTestId("stale-result");
  await expect(stale).toContainText("Old result: for the values at");
  await expect(stale).toContainText(`Port ${peer.ports.plain}`);
  await expect(mail.result).toHaveClass(/stale/);
  // Back to the tested values: the result is current again.
  await mail.fill({ port: peer.ports.plain });
  await expect(stale).toHaveCount(0);
});

test("a relay without sign-in: None hides the account and password, warns on a submission port, and the test goes through", async ({ page, fresh, peer }) => {
  const mail = await MailSettingsPage.forPeer(page, fresh.url, peer.ports.plain, "correct-password", "none");
  await expect(mail.field("Email Account")).toBeVisible();
  await mail.fill({ authentication: "none", port: 587 });
  await expect(mail.field("Email Account")).toBeHidden();
  await expect(mail.field("Password")).toBeHidden();
  await expect(page.locator("#authentication-message")).toContainText("Port 587 is a submission port");
  await mail.fill({ port: peer.ports.plain, encryption: "none", sendTo: "relay-check@example.com" });
  await expect(page.locator("#authentication-message")).toBeEmpty();
  const result = await mail.test();
  await expect(result.getByRole("heading")).toHaveText("Test email accepted");
  await expect(result).not.toContainText("credentials hidden");
  // Tested values save at once.
  await mail.saveButton.click();
  await expect(mail.status).toContainText("Saved at");
  await mail.reload();
  await expect(page.getByLabel("Authentication", { exact: true })).toHaveValue("none");
  await expect(mail.field("Password")).toBeHidden();
});

test("OAuth2 as an app: Microsoft 365's preset fills the endpoint, the test signs in with XOAUTH2, the secret stays on the server", async ({ page, fresh, peer }) => {
  const mail = await new MailSettingsPage(page, fresh.url).open();
  await page.getByLabel("Provider").selectOption({ label: "Microsoft 365" });
  await expect(page.getByLabel("Authentication", { exact: true })).toHaveValue("oauth2");
  await expect(mail.field("Token endpoint")).toHaveValue("https://login.microsoftonline.com/{tenant}/oauth2/v2.0/token");
  await expect(mail.field("Password")).toBeHidden();
  await expect(page.getByText("December 2026")).toBeVisible();
  await mail.fill({
    host: "localhost",
    port: peer.ports.plain,
    encryption: "none",
    account: "alerts@example.com",
    fromAddress: "alerts@example.com",
    oauthTenant: "contoso",
    oauthClientId: "app-e2e",
    oauthClientSecret: "app-secret",
    oauthTokenUrl: `http://127.0.0.1:${peer.ports.oauth}/{tenant}/oauth2/v2.0/token`,
  });
  const result = await mail.test();
  await expect(result.getByRole("heading")).toHaveText("Test email accepted");
  await expect(result).toContainText("AUTH XOAUTH2 <credentials hidden>");
  await mail.saveButton.click();
  await expect(mail.status).toContainText("Saved at");
  await mail.reload();
  await expect(mail.field("Client secret")).toHaveValue("");
  await expect(page.getByText("A client secret is saved. Leave blank to keep it.")).toBeVisible();
  await expect(mail.field("Client ID")).toHaveValue("app-e2e");

  // A wrong secret: the token step is named, with the field at fault.
  await mail.fill({ oauthClientSecret: "not-the-secret" });
  const failed = await mail.test();
  await expect(failed.getByRole("heading")).toHaveText("Test failed: App credentials rejected");
  await expect(failed).toContainText("AADSTS7000215");
});

test("OAuth2 as a mailbox: Gmail's preset, Sign in through the browser, the connected account, a test, disconnect", async ({ page, fresh, peer }) => {
  const mail = await new MailSettingsPage(page, fresh.url).open();
  await page.getByLabel("Provider").selectOption({ label: "Gmail" });
  await expect(page.getByLabel("Authentication", { exact: true })).toHaveValue("oauth2");
  await expect(page.getByLabel("Sign in as", { exact: true })).toHaveValue("mailbox");
  await expect(mail.field("Authorization endpoint")).toHaveValue("https://accounts.google.com/o/oauth2/v2/auth");
  await expect(mail.field("Scopes")).toHaveValue("https://mail.google.com/");
  await expect(page.getByText("Save the settings with Sign in as a mailbox, then sign in here.")).toBeVisible();
  // The app grant hides the authorization endpoint; back to the mailbox shows it again.
  await mail.fill({ oauthGrant: "app" });
  await expect(mail.field("Authorization endpoint")).toBeHidden();
  await mail.fill({ oauthGrant: "mailbox" });

  await mail.connectMailbox(peer.ports.plain, peer.ports.oauth, "app-e2e-mailbox");
  await expect(page.locator("main")).toContainText("alerts@example.com is connected");
  await page.getByRole("link", { name: "Back to Settings › Mail Server" }).click();
  await expect(page.getByTestId("connected-mailbox")).toContainText("Connected: alerts@example.com");
  await expect(page.locator(".audit-list li").first()).toContainText("connected the mailbox “alerts@example.com” (OAuth2)");
  await expect(page.getByText(`${fresh.url}/oauth/callback`)).toBeVisible();

  // The hydrated page tests with the refresh token: XOAUTH2 as the mailbox.
  await expect(page.locator("body")).toHaveAttribute("data-hydrated", "true");
  // XOAUTH2 signs in as Email Account: another account is warned of at once.
  await mail.fill({ account: "someone-else@example.com" });
  await expect(page.getByTestId("mailbox-mismatch")).toContainText("differs from the connected mailbox alerts@example.com");
  await mail.fill({ account: "alerts@example.com" });
  await expect(page.getByTestId("mailbox-mismatch")).toBeHidden();
  const result = await mail.test();
  await expect(result).toContainText("# OAuth2: new access token for the mailbox alerts@example.com");
  await expect(result.getByRole("heading")).toHaveText("Test email accepted");
  await expect(result).toContainText("AUTH XOAUTH2 <credentials hidden>");

  await page.getByRole("button", { name: "Disconnect" }).click();
  await expect(page.getByTestId("no-mailbox")).toBeVisible();
  await expect(page.locator(".audit-list li").first()).toContainText("disconnected the mailbox “alerts@example.com”");
});

test("OAuth2 as a mailbox: a refused consent says so and connects nothing", async ({ page, fresh, peer }) => {
  const mail = await new MailSettingsPage(page, fresh.url).open();
  await mail.connectMailbox(peer.ports.plain, peer.ports.oauth, "deny-e2e", "The mailbox was not connected");
  await expect(page.getByRole("alert")).toContainText("access_denied");
  await page.getByRole("link", { name: "Back to Settings › Mail Server" }).click();
  await expect(page.getByTestId("no-mailbox")).toBeVisible();
});

test("OAuth2 as a mailbox without JavaScript: save, sign in, the connected mailbox, disconnect", async ({ browser, fresh, peer }) => {
  const { context, page } = await pageWithoutScript(browser, fresh.url);
  const mail = new MailSettingsPage(page, fresh.url);
  await mail.fill(mailboxForm(peer.ports.plain, peer.ports.oauth, "app-nojs-mailbox"));
  await expect(mail.field("Password")).toBeHidden();
  await mail.saveButton.click();
  await expect(page.getByTestId("no-mailbox")).toBeVisible();
  await mail.signInWithProvider("Mailbox connected");
  await page.getByRole("link", { name: "Back to Settings › Mail Server" }).click();
  await expect(page.getByTestId("connected-mailbox")).toContainText("Connected: alerts@example.com");
  await page.getByRole("button", { name: "Disconnect" }).click();
  await expect(page.getByTestId("no-mailbox")).toBeVisible();
  await expect(page.getByTestId("connected-mailbox")).toHaveCount(0);
  await context.close();
});
