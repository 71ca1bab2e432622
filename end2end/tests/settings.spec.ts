import { test, expect, pageWithoutScript } from "./fixtures";
import { MailSettingsPage, PASSWORD, VALID } from "./mail-settings-page";

// `fresh`: each test gets its own server and data dir, so saves do not leak between tests.
const it = test;

it("bad values get a message under the field while typing, and fixing them clears it", async ({ page, fresh }) => {
  const mail = await new MailSettingsPage(page, fresh.url).open();
  const cases: [string, string, RegExp, string][] = [
    ["Host Name (SMTP)", "smtp://smtp.163.com", /without “smtp:\/\/”: type smtp\.163\.com/, "smtp.163.com"],
    ["Host Name (SMTP)", "smtp.163.com:465", /Put the port \(465\) in the Port field/, "smtp.163.com"],
    // The browser's own WHATWG host parser: IDN accepted, URL delimiters refused.
    ["Host Name (SMTP)", "smtp.bücher.example?x", /not a valid host name/, "smtp.bücher.example"],
    ["Port", "70000", /1 to 65535/, "465"],
    ["Email “From” Address", "alerts at example", /not an email address/, "alerts@163.com"],
    ["Email “From” Name", "x".repeat(79), /At most 78 characters/, "Alerts"],
  ];
  for (const [label, bad, expected, good] of cases) {
    const input = mail.field(label);
    await input.fill(bad);
    await expect(await mail.messageOf(label)).toHaveText(expected);
    await expect(input).toHaveAttribute("aria-invalid", "true");
    await input.fill(good);
    await expect(await mail.messageOf(label)).toBeEmpty();
    await expect(input).toHaveAttribute("aria-invalid", "false");
  }
});

it("a non-address account is allowed with a note; STARTTLS and SSL cannot both be on", async ({ page, fresh }) => {
  const mail = await new MailSettingsPage(page, fresh.url).open();
  await mail.fill({ account: "apikey" });
  await expect(page.getByText("test mails will need a recipient")).toBeVisible();
  await mail.starttls.check();
  await mail.ssl.check();
  await expect(mail.starttls).not.toBeChecked();
  await expect(page.getByText("STARTTLS and SSL cannot both be on, so STARTTLS is now off.")).toBeVisible();
  await expect(page.locator("#encryption-message")).toBeEmpty();
  await mail.starttls.check();
  await expect(mail.ssl).not.toBeChecked();
});

it("changing the port sets the matching encryption until the switches are touched", async ({ page, fresh }) => {
  const mail = await new MailSettingsPage(page, fresh.url).open();
  await mail.fill({ port: "465" });
  await expect(mail.ssl).toBeChecked();
  await expect(page.getByText("Port 465 usually means SSL")).toBeVisible();
  await mail.fill({ port: "587" });
  await expect(mail.starttls).toBeChecked();
  await expect(mail.ssl).not.toBeChecked();
  // Once the admin chooses, the port no longer changes the switches; a warning offers the fix.
  await mail.fill({ encryption: "ssl", port: "25" });
  await expect(mail.ssl).toBeChecked();
  const warning = page.locator(".warning", { hasText: "Port 25 normally starts unencrypted" });
  await expect(warning).toBeVisible();
  await warning.getByRole("button", { name: "Use STARTTLS" }).click();
  await expect(mail.starttls).toBeChecked();
  await expect(warning).toBeHidden();
});

it("a password without encryption warns that it would travel unencrypted", async ({ page, fresh }) => {
  const mail = await new MailSettingsPage(page, fresh.url).open();
  await mail.fill({ port: "2525", password: "x" });
  const warning = page.locator(".warning", { hasText: "the password would travel unencrypted" });
  await expect(warning).toBeVisible();
  await warning.getByRole("button", { name: "Use STARTTLS" }).click();
  await expect(warning).toBeHidden();
});

it("provider presets fill host, port and encryption and show the provider's hint", async ({ page, fresh }) => {
  const mail = await new MailSettingsPage(page, fresh.url).open();
  await page.getByLabel("Provider").selectOption({ label: "163.com" });
  await expect(mail.field("Host Name (SMTP)")).toHaveValue("smtp.163.com");
  await expect(mail.field("Port")).toHaveValue("465");
  await expect(mail.ssl).toBeChecked();
  await expect(page.locator("#preset-hint")).toContainText("authorization code");

  await page.getByLabel("Provider").selectOption({ label: "SendGrid" });
  await expect(mail.field("Email Account")).toHaveValue("apikey");
  await expect(mail.starttls).toBeChecked();

  await page.getByLabel("Provider").selectOption({ label: "Amazon SES" });
  await page.getByLabel("Region").selectOption("eu-west-1");
  await expect(mail.field("Host Name (SMTP)")).toHaveValue("email-smtp.eu-west-1.amazonaws.com");
});

it("OAuth2 says one thing per grant and provider: Tenant only for {tenant}, the redirect URI before saving, Scopes optional where none are needed", async ({ page, fresh }) => {
  const mail = await new MailSettingsPage(page, fresh.url).open();
  const authentication = page.getByLabel("Authentication", { exact: true });
  const tenant = mail.field("Tenant");
  const appHint = page.getByText("The app gets its tokens itself");
  const mailboxHint = page.getByText("A mailbox signs in once in the browser.");

  await page.getByLabel("Provider").selectOption({ label: "Gmail" });
  await expect(authentication.locator("option:checked")).toHaveText("OAuth2 (Microsoft 365, Google or another provider)");
  await expect(page.getByText("app registration, e.g. Microsoft 365")).toHaveCount(0);
  await expect(tenant).toBeHidden();
  await expect(mailboxHint).toBeVisible();
  await expect(appHint).toBeHidden();
  // Nothing is saved yet, and the redirect URI the Gmail hint speaks of is there.
  await expect(page.locator("#redirect-uri")).toHaveText(`${fresh.url}/oauth/callback`);
  await expect(page.locator("#preset-hint")).toContainText("the redirect URI shown under Sign in as");

  await mail.fill({ oauthGrant: "app" });
  await expect(appHint).toBeVisible();
  await expect(mailboxHint).toBeHidden();
  await expect(page.locator("#redirect-uri")).toBeHidden();

  await page.getByLabel("Provider").selectOption({ label: "Microsoft 365" });
  await expect(tenant).toBeVisible();
  await expect(mail.field("Tenant")).toHaveAttribute("aria-required", "true");

  // Another provider's app: no tenant, and no scopes needed.
  await mail.fill({ oauthTokenUrl: "https://idp.example.com/oauth2/token", oauthScopes: "" });
  await expect(tenant).toBeHidden();
  await expect(mail.field("Scopes")).toHaveAttribute("aria-required", "false");
  await mail.field("Scopes").blur();
  await expect(await mail.messageOf("Scopes")).toBeEmpty();
  await expect(page.locator("#oauth_scopes-hint")).toHaveText("Optional: blank asks for the provider's default.");
  // Microsoft's endpoint needs them, and the message says which.
  await mail.fill({ oauthTokenUrl: "https://login.microsoftonline.com/{tenant}/oauth2/v2.0/token" });
  await expect(await mail.messageOf("Scopes")).toContainText("Microsoft needs the scopes");
});

it("save is refused in the browser while fields are wrong, then saves, reloads, and never returns the password", async ({ page, fresh }) => {
  const bodies: string[] = [];
  page.on("response", async (r) => {
    try {
      bodies.push(await r.text());
    } catch {
      /* redirects and aborted requests have no body */
    }
  });
  const mail = await new MailSettingsPage(page, fresh.url).open();
  let saveRequests = 0;
  page.on("request", (r) => r.url().includes("/api/save_mail_settings") && saveRequests++);

  await mail.saveButton.click();
  await expect(await mail.messageOf("Host Name (SMTP)")).toContainText("Enter the SMTP server");
  await expect(mail.field("Host Name (SMTP)")).toBeFocused();
  expect(saveRequests).toBe(0);

  await mail.fillValid();
  await mail.fill({ timeout: "30", replyTo: "ops@example.com" });
  await expect(mail.unsaved).toBeVisible();
  await mail.save();
  await expect(mail.unsaved).toBeHidden();
  expect(saveRequests).toBe(1);

  await mail.reload();
  await expect(mail.field("Host Name (SMTP)")).toHaveValue("smtp.example.com");
  await expect(mail.field("Email “From” Name")).toHaveValue("Mailroom Alerts");
  await expect(mail.starttls).toBeChecked();
  await expect(mail.field("Password")).toHaveValue("");
  await expect(page.getByText("A password is saved. Leave blank to keep it.")).toBeVisible();
  await mail.openAdvanced();
  await expect(mail.field("Timeout (seconds)")).toHaveValue("30");
  await expect(mail.field("Reply-To Address")).toHaveValue("ops@example.com");

  // A second save with the password left blank keeps it.
  await mail.fill({ fromName: "Renamed" });
  await mail.save();

  expect(bodies.length).toBeGreaterThan(3);
  for (const body of bodies) expect(body).not.toContain(PASSWORD);
});

it("changing host asks for the password again instead of reusing the saved one", async ({ page, fresh }) => {
  const mail = await new MailSettingsPage(page, fresh.url).open();
  await mail.fillValid();
  await mail.save();
  await mail.fill({ host: "smtp.other.example" });
  await expect(await mail.messageOf("Password")).toContainText("enter the password for this account again");
  await mail.fill({ host: "smtp.example.com" });
  await expect(await mail.messageOf("Password")).toBeEmpty();
});

it("changing only the port keeps the saved password, and the encryption it switches is said beside Port", async ({ page, fresh }) => {
  const mail = await new MailSettingsPage(page, fresh.url).open();
  await mail.fillValid();
  await mail.save();
  await mail.fill({ port: "465" });
  await mail.field("Port").blur();
  await expect(await mail.messageOf("Password")).toBeEmpty();
  await expect(page.getByText("A password is saved. Leave blank to keep it.")).toBeVisible();
  // The note sits with the Port field and is its description.
  const note = page.locator("#port-note");
  await expect(note).toContainText("Port 465 usually means SSL");
  await expect(mail.field("Port")).toHaveAttribute("aria-describedby", /port-note/);
  await mail.save();
  await expect(page.getByTestId("unsaved")).toHaveCount(0);
  // The save is said once: the status, not also "Last saved" under it.
  await expect(mail.status).toContainText("(version 2).");
  await expect(page.getByText(/\(version \d+\)\./)).toHaveCount(1);
});

it("a save over a newer save says who changed what, and keeps these edits on top of it", async ({ browser, fresh }) => {
  const first = await new MailSettingsPage(await browser.newPage(), fresh.url).open();
  await first.fillValid("smtp.first.example");
  await first.save();
  const second = await new MailSettingsPage(await browser.newPage(), fresh.url).open();
  await first.fill({ host: "smtp.changed.example", password: PASSWORD });
  await first.save();

  await second.fill({ fromName: "Second Tab" });
  await second.saveExpectingRefusal();
  const conflict = second.page.getByTestId("conflict");
  await expect(conflict).toContainText("You (in another tab or window) saved these settings at");
  await expect(conflict).toContainText("Host Name (SMTP)");
  await expect(second.status).toBeFocused();
  await conflict.getByRole("button", { name: "Keep my edits on top of that version" }).click();
  await expect(second.status).toContainText("Your edits now apply on top of version 2");
  await expect(second.saveButton).toBeFocused();
  await expect(second.field("Host Name (SMTP)")).toHaveValue("smtp.changed.example");
  await expect(second.field("Email “From” Name")).toHaveValue("Second Tab");
  await second.save();

  await second.reload();
  await expect(second.field("Host Name (SMTP)")).toHaveValue("smtp.changed.example");
  await expect(second.field("Email “From” Name")).toHaveValue("Second Tab");
  await first.page.close();
  await second.page.close();
});

it("leaving with unsaved changes asks for confirmation", async ({ page, fresh }) => {
  const mail = await new MailSettingsPage(page, fresh.url).open();
  await mail.fill({ host: "smtp.unsaved.example" });
  await expect(mail.unsaved).toBeVisible();
  const dialog = page.waitForEvent("dialog");
  await page.close({ runBeforeUnload: true });
  const d = await dialog;
  expect(d.type()).toBe("beforeunload");
  await d.dismiss();
});

it("without JavaScript the form saves and shows server-side errors with the values kept", async ({ browser, fresh }) => {
  const { context, page } = await pageWithoutScript(browser, fresh.url);
  const mail = new MailSettingsPage(page, fresh.url);
  await mail.fill({ ...VALID, host: "smtp.nojs.example", port: "abc" });
  await mail.saveButton.click();
  await expect(page.locator("#port-message")).toContainText("whole number");
  await expect(mail.field("Host Name (SMTP)")).toHaveValue("smtp.nojs.example");
  await expect(mail.field("Port")).toHaveAttribute("aria-invalid", "true");
  expect(page.url()).not.toContain(PASSWORD);

  await mail.fill({ port: "587", password: PASSWORD, encryption: "starttls" });
  await mail.saveButton.click();
  await expect(page.getByText(/Last saved .* \(version 1\)/)).toBeVisible();
  await expect(mail.field("Host Name (SMTP)")).toHaveValue("smtp.nojs.example");
  await context.close();
});


it("required fields are marked, the password only while none is saved", async ({ page, fresh }) => {
  const mail = await new MailSettingsPage(page, fresh.url).open();
  for (const label of ["Host Name (SMTP)", "Port", "Email Account", "Password", "Email “From” Address"]) {
    await expect(mail.field(label)).toHaveAttribute("aria-required", "true");
  }
  await expect(mail.field("Email “From” Name")).toHaveAttribute("aria-required", "false");
  await mail.fillValid();
  await mail.save();
  await expect(mail.field("Password")).toHaveAttribute("aria-required", "false");
});

it("a save after the session ended says so and links to the login", async ({ browser, fresh }) => {
  const context = await browser.newContext();
  const mail = await new MailSettingsPage(await context.newPage(), fresh.url).open();
  const other = await context.newPage();
  await other.goto(mail.url);
  await other.getByRole("button", { name: "Log out" }).click();
  await expect(other).toHaveURL(/\/login$/);
  await mail.fillValid();
  await mail.saveButton.click();
  await mail.page.getByRole("button", { name: "Save without testing" }).click();
  const said = mail.status.filter({ hasText: "Your session has ended" });
  await expect(said.getByRole("link", { name: "Log in again" })).toBeVisible();
  await context.close();
});

it("the save status and the test result have live regions before anything is said in them", async ({ page, fresh }) => {
  const mail = await new MailSettingsPage(page, fresh.url).open();
  await expect(page.locator("form .live[role=status]")).toHaveCount(1);
  await expect(page.locator("form .live[aria-live=polite]")).toHaveCount(1);
  // Field messages are tied to their fields, not shouted on every keystroke.
  await mail.fill({ port: "70000" });
  await expect(await mail.messageOf("Port")).not.toHaveAttribute("role", "alert");
  await expect(mail.field("Port")).toHaveAttribute("aria-describedby", /port-message/);
});
