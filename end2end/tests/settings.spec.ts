import { test, expect, openHydrated, fillValid, saveAndWait, PASSWORD, logIn } from "./fixtures";
import type { MailroomServer } from "./server";
import type { Page } from "@playwright/test";

// `fresh`: each test gets its own server and data dir, so saves do not leak between tests.
const it = test;

const mailPage = (s: MailroomServer) => `${s.url}/settings/mail`;

async function messageOf(page: Page, label: string) {
  const input = page.getByLabel(label);
  const id = await input.getAttribute("id");
  return page.locator(`#${id}-message`);
}

it("bad values get a message under the field while typing, and fixing them clears it", async ({ page, fresh }) => {
  await openHydrated(page, mailPage(fresh));
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
    const input = page.getByLabel(label);
    await input.fill(bad);
    await expect(await messageOf(page, label)).toHaveText(expected);
    await expect(input).toHaveAttribute("aria-invalid", "true");
    await input.fill(good);
    await expect(await messageOf(page, label)).toBeEmpty();
    await expect(input).toHaveAttribute("aria-invalid", "false");
  }
});

it("a non-address account is allowed with a note; both switches on is an error", async ({ page, fresh }) => {
  await openHydrated(page, mailPage(fresh));
  await page.getByLabel("Email Account").fill("apikey");
  await expect(page.getByText("test mails will need a recipient")).toBeVisible();
  await page.getByLabel("Use STARTTLS").check();
  await page.getByLabel("Use SSL").check();
  await expect(page.locator("#encryption-message")).toHaveText(/not both/);
});

it("changing the port sets the matching encryption until the switches are touched", async ({ page, fresh }) => {
  await openHydrated(page, mailPage(fresh));
  const port = page.getByLabel("Port");
  await port.fill("465");
  await expect(page.getByLabel("Use SSL")).toBeChecked();
  await expect(page.getByText("Port 465 usually means SSL")).toBeVisible();
  await port.fill("587");
  await expect(page.getByLabel("Use STARTTLS")).toBeChecked();
  await expect(page.getByLabel("Use SSL")).not.toBeChecked();
  // Once the admin chooses, the port no longer changes the switches; a warning offers the fix.
  await page.getByLabel("Use STARTTLS").uncheck();
  await page.getByLabel("Use SSL").check();
  await port.fill("25");
  await expect(page.getByLabel("Use SSL")).toBeChecked();
  const warning = page.locator(".warning", { hasText: "Port 25 normally starts unencrypted" });
  await expect(warning).toBeVisible();
  await warning.getByRole("button", { name: "Use STARTTLS" }).click();
  await expect(page.getByLabel("Use STARTTLS")).toBeChecked();
  await expect(warning).toBeHidden();
});

it("a password without encryption warns that it would travel unencrypted", async ({ page, fresh }) => {
  await openHydrated(page, mailPage(fresh));
  await page.getByLabel("Port").fill("2525");
  await page.getByLabel("Password").fill("x");
  const warning = page.locator(".warning", { hasText: "the password would travel unencrypted" });
  await expect(warning).toBeVisible();
  await warning.getByRole("button", { name: "Use STARTTLS" }).click();
  await expect(warning).toBeHidden();
});

it("provider presets fill host, port and encryption and show the provider's hint", async ({ page, fresh }) => {
  await openHydrated(page, mailPage(fresh));
  await page.getByLabel("Provider").selectOption({ label: "163.com" });
  await expect(page.getByLabel("Host Name (SMTP)")).toHaveValue("smtp.163.com");
  await expect(page.getByLabel("Port")).toHaveValue("465");
  await expect(page.getByLabel("Use SSL")).toBeChecked();
  await expect(page.locator("#preset-hint")).toContainText("authorization code");

  await page.getByLabel("Provider").selectOption({ label: "SendGrid" });
  await expect(page.getByLabel("Email Account")).toHaveValue("apikey");
  await expect(page.getByLabel("Use STARTTLS")).toBeChecked();

  await page.getByLabel("Provider").selectOption({ label: "Amazon SES" });
  await page.getByLabel("Region").selectOption("eu-west-1");
  await expect(page.getByLabel("Host Name (SMTP)")).toHaveValue("email-smtp.eu-west-1.amazonaws.com");
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
  await openHydrated(page, mailPage(fresh));
  let saveRequests = 0;
  page.on("request", (r) => r.url().includes("/api/save_mail_settings") && saveRequests++);

  await page.getByRole("button", { name: "Save" }).click();
  await expect(await messageOf(page, "Host Name (SMTP)")).toContainText("Enter the SMTP server");
  await expect(page.getByLabel("Host Name (SMTP)")).toBeFocused();
  expect(saveRequests).toBe(0);

  await fillValid(page);
  await page.getByText("Advanced").click();
  await page.getByLabel("Timeout (seconds)").fill("30");
  await page.getByLabel("Reply-To Address").fill("ops@example.com");
  await expect(page.getByTestId("unsaved")).toBeVisible();
  await saveAndWait(page);
  await expect(page.getByTestId("unsaved")).toBeHidden();
  expect(saveRequests).toBe(1);

  await page.reload();
  await expect(page.locator("body")).toHaveAttribute("data-hydrated", "true");
  await expect(page.getByLabel("Host Name (SMTP)")).toHaveValue("smtp.example.com");
  await expect(page.getByLabel("Email “From” Name")).toHaveValue("Mailroom Alerts");
  await expect(page.getByLabel("Use STARTTLS")).toBeChecked();
  await expect(page.getByLabel("Password")).toHaveValue("");
  await expect(page.getByText("A password is saved. Leave blank to keep it.")).toBeVisible();
  await page.getByText("Advanced").click();
  await expect(page.getByLabel("Timeout (seconds)")).toHaveValue("30");
  await expect(page.getByLabel("Reply-To Address")).toHaveValue("ops@example.com");

  // A second save with the password left blank keeps it.
  await page.getByLabel("Email “From” Name").fill("Renamed");
  await saveAndWait(page);

  expect(bodies.length).toBeGreaterThan(3);
  for (const body of bodies) expect(body).not.toContain(PASSWORD);
});

it("changing host asks for the password again instead of reusing the saved one", async ({ page, fresh }) => {
  await openHydrated(page, mailPage(fresh));
  await fillValid(page);
  await saveAndWait(page);
  await page.getByLabel("Host Name (SMTP)").fill("smtp.other.example");
  await expect(await messageOf(page, "Password")).toContainText("enter the password for this account again");
  await page.getByLabel("Host Name (SMTP)").fill("smtp.example.com");
  await expect(await messageOf(page, "Password")).toBeEmpty();
});

it("a save over someone else's newer save shows a conflict, not a silent overwrite", async ({ browser, fresh }) => {
  const first = await browser.newPage();
  const second = await browser.newPage();
  await openHydrated(first, mailPage(fresh));
  await openHydrated(second, mailPage(fresh));
  await fillValid(first, "smtp.first.example");
  await saveAndWait(first);
  await fillValid(second, "smtp.second.example");
  await second.getByRole("button", { name: "Save" }).click();
  await expect(second.getByRole("alert").filter({ hasText: "Someone else saved" })).toBeVisible();
  await second.reload();
  await expect(second.getByLabel("Host Name (SMTP)")).toHaveValue("smtp.first.example");
  await first.close();
  await second.close();
});

it("leaving with unsaved changes asks for confirmation", async ({ page, fresh }) => {
  await openHydrated(page, mailPage(fresh));
  await page.getByLabel("Host Name (SMTP)").fill("smtp.unsaved.example");
  await expect(page.getByTestId("unsaved")).toBeVisible();
  const dialog = page.waitForEvent("dialog");
  await page.close({ runBeforeUnload: true });
  const d = await dialog;
  expect(d.type()).toBe("beforeunload");
  await d.dismiss();
});

it("without JavaScript the form saves and shows server-side errors with the values kept", async ({ browser, fresh }) => {
  const context = await browser.newContext({ javaScriptEnabled: false });
  const page = await context.newPage();
  await page.goto(mailPage(fresh));
  await logIn(page);
  await page.waitForURL(/\/settings\/mail$/);
  await page.getByLabel("Host Name (SMTP)").fill("smtp.nojs.example");
  await page.getByLabel("Port").fill("abc");
  await page.getByLabel("Email Account").fill("alerts@example.com");
  await page.getByLabel("Password").fill(PASSWORD);
  await page.getByLabel("Email “From” Address").fill("alerts@example.com");
  await page.getByRole("button", { name: "Save" }).click();
  await expect(page.locator("#port-message")).toContainText("whole number");
  await expect(page.getByLabel("Host Name (SMTP)")).toHaveValue("smtp.nojs.example");
  await expect(page.getByLabel("Port")).toHaveAttribute("aria-invalid", "true");
  expect(page.url()).not.toContain(PASSWORD);

  await page.getByLabel("Port").fill("587");
  await page.getByLabel("Password").fill(PASSWORD);
  await page.getByLabel("Use STARTTLS").check();
  await page.getByRole("button", { name: "Save" }).click();
  await expect(page.getByText(/Last saved .* \(version 1\)/)).toBeVisible();
  await expect(page.getByLabel("Host Name (SMTP)")).toHaveValue("smtp.nojs.example");
  await context.close();
});
