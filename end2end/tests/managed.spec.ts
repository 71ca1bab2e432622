import { test, expect, expectNoViolations } from "./fixtures";
import { MailSettingsPage } from "./mail-settings-page";
import { MailroomServer } from "./server";

// Settings as configuration: the server started with MAILROOM_SMTP_* shows them read-only,
// names the variable that sets each, has no Save, and Test Email Server still sends with them.
test("settings managed by configuration are read-only, named by their variables, testable and pass axe-core", async ({ page, peer }) => {
  const dir = MailroomServer.tempDataDir();
  const server = await MailroomServer.start(dir, true, {
    MAILROOM_SMTP_HOST: "localhost",
    MAILROOM_SMTP_PORT: String(peer.ports.plain),
    MAILROOM_SMTP_ACCOUNT: "alerts@example.com",
    MAILROOM_SMTP_PASSWORD: "correct-password",
    MAILROOM_SMTP_ENCRYPTION: "none",
    MAILROOM_SMTP_FROM_ADDRESS: "alerts@example.com",
    MAILROOM_SMTP_FROM_NAME: "Configured Alerts",
  });
  try {
    const mail = await new MailSettingsPage(page, server.url).open();
    const notice = page.getByTestId("managed");
    await expect(notice.getByRole("heading", { name: "Managed by configuration" })).toBeVisible();
    await expect(notice.getByRole("row", { name: /Host Name \(SMTP\) MAILROOM_SMTP_HOST/ })).toBeVisible();
    await expect(notice.getByRole("row", { name: /Password MAILROOM_SMTP_PASSWORD/ })).toBeVisible();
    await expect(mail.field("Host Name (SMTP)")).toHaveValue("localhost");
    await expect(mail.field("Host Name (SMTP)")).toBeDisabled();
    await expect(mail.field("Email Account")).toBeDisabled();
    await expect(page.getByLabel("Use STARTTLS")).toBeDisabled();
    await expect(mail.saveButton).toHaveCount(0);
    await expectNoViolations(page, "settings managed by configuration");

    // The test uses the configured values, the saved password included.
    const result = await mail.test();
    await expect(result).toContainText("check the inbox and spam folder");
    await expectNoViolations(page, "settings managed by configuration, tested");
  } finally {
    await page.goto("about:blank");
    await server.stop();
    MailroomServer.removeDataDir(dir);
  }
});
