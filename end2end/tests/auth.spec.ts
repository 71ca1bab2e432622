import { test, expect, logIn, expectNoViolations, ADMIN_EMAIL, ADMIN_PASSWORD } from "./fixtures";
import type { SmtpPeer } from "./smtp-peer";
import { MailSettingsPage } from "./mail-settings-page";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
// eslint-disable-next-line @typescript-eslint/no-require-imports
const quotedPrintable = require("quoted-printable");


test("log in, reach Settings › Mail Server from the menu, log out", async ({ page, fresh }) => {
  await page.goto(`${fresh.url}/settings/mail`);
  await expect(page).toHaveURL(/\/login\?next=%2Fsettings%2Fmail$/);
  await logIn(page, "not the password");
  // Said once, with focus back on the first field, which points at the message.
  await expect(page.locator(".error")).toHaveCount(1);
  await expect(page.locator("#form-error")).toHaveText("Wrong email or password.");
  await expect(page.getByLabel("Email")).toBeFocused();
  await expect(page.getByLabel("Email")).toHaveAttribute("aria-describedby", "form-error");
  // What was typed stays: only the password is asked for again.
  await expect(page.getByLabel("Email")).toHaveValue(ADMIN_EMAIL);
  await expect(page.getByLabel("Password")).toHaveValue("");
  await logIn(page);
  await expect(page).toHaveURL(/\/settings\/mail$/);
  await page.getByRole("navigation", { name: "Main menu" }).getByRole("link", { name: "Mail Server" }).click();
  await expect(page.getByRole("heading", { name: "Mail Server" })).toBeVisible();
  await expect(page.getByText(`Signed in as ${ADMIN_EMAIL}`)).toBeVisible();
  await page.getByRole("button", { name: "Log out" }).click();
  await expect(page).toHaveURL(/\/login$/);
  await page.goto(`${fresh.url}/settings/mail`);
  await expect(page).toHaveURL(/\/login\?next=/);
});

/** The newest mail in the peer's spool to `to` containing `needle`, decoded like a mail client. */
function findMail(peer: SmtpPeer, to: string, needle: string): string | undefined {
  return readdirSync(peer.spool)
    .filter((f) => f.endsWith(".eml"))
    .map((f) => quotedPrintable.decode(readFileSync(join(peer.spool, f), "latin1")) as string)
    .find((text) => text.includes(`To: ${to}`) && text.includes(needle));
}

test("forgotten password: the mail's link sets a new password that logs in", async ({ page, fresh, peer }) => {
  // Mail settings pointing at the local SMTP server.
  const settings = await new MailSettingsPage(page, fresh.url).open();
  await settings.fill({
    host: "localhost",
    port: peer.ports.plain,
    encryption: "none",
    account: "alerts@example.com",
    password: "correct-password",
    fromAddress: "alerts@example.com",
  });
  await settings.save();
  await expect(page.locator(".audit-list li").first()).toContainText(`${ADMIN_EMAIL}: created the mail settings`);
  await page.getByRole("button", { name: "Log out" }).click();
  await expect(page).toHaveURL(/\/login$/);

  await page.getByRole("link", { name: "Forgot password?" }).click();
  await expect(page).toHaveURL(/\/forgot$/);
  await page.getByLabel("Email").fill(ADMIN_EMAIL);
  await page.getByRole("button", { name: "Send reset link" }).click();
  await expect(page.getByRole("status")).toContainText("If an admin account exists for that address, a reset link is on its way");

  let mail: string | undefined;
  await expect.poll(() => (mail = findMail(peer, ADMIN_EMAIL, "Reset your Mailroom password")), { timeout: 15_000 }).toBeTruthy();
  const link = /https?:\/\/\S+\/reset\?token=[A-Za-z0-9_-]+/.exec(mail!)![0];

  await page.goto(link);
  await expectNoViolations(page, "reset");
  // A typo does not use the link up.
  await page.getByLabel("New password", { exact: true }).fill("a long enough password");
  await page.getByLabel("Repeat the new password").fill("another long password");
  await page.getByRole("button", { name: "Set new password" }).click();
  await expect(page.locator("#form-error")).toBeVisible();
  await expectNoViolations(page, "reset with an error");
  await page.getByLabel("New password", { exact: true }).fill("a brand new password");
  await page.getByLabel("Repeat the new password").fill("a brand new password");
  await page.getByRole("button", { name: "Set new password" }).click();
  await expect(page).toHaveURL(/\/login\?reset=done$/);
  await expect(page.getByRole("status")).toContainText("Your password was changed");

  await logIn(page, ADMIN_PASSWORD);
  await expect(page.locator("#form-error")).toHaveText("Wrong email or password.");
  await logIn(page, "a brand new password");
  await expect(page).toHaveURL(/\/settings\/mail$/);

  // The link worked once: opened again, it says so at once, with no form, and offers a new one.
  await page.goto(link);
  await expect(page.getByRole("alert")).toContainText("This reset link has already been used or has expired");
  await expect(page.getByLabel("New password", { exact: true })).toHaveCount(0);
  await expect(page.getByRole("link", { name: "Ask for a new link" })).toHaveAttribute("href", "/forgot");
  await page.getByRole("link", { name: "Back to log in" }).click();
  await expect(page).toHaveURL(/\/login$/);
});

test("the setup page without a valid link says so and shows no form", async ({ page, fresh }) => {
  for (const path of ["/setup", "/setup?token=not-the-token"]) {
    await page.goto(`${fresh.url}${path}`);
    await expect(page.getByTestId("setup-invalid")).toContainText("This setup link is not valid");
    await expect(page.getByLabel("Email")).toHaveCount(0);
  }
  await page.getByRole("link", { name: "Back to log in" }).click();
  await expect(page).toHaveURL(/\/login$/);
});

test("the pages without a session load no script at all", async ({ page, fresh }) => {
  const scripts: string[] = [];
  page.on("request", (r) => {
    if (["script", "fetch"].includes(r.resourceType()) || r.url().endsWith(".wasm")) scripts.push(r.url());
  });
  for (const path of ["/login", "/forgot", "/setup", "/reset?token=x"]) {
    await page.goto(`${fresh.url}${path}`);
    await expect(page.getByRole("main")).toBeVisible();
  }
  expect(scripts).toEqual([]);
});
