import { test, expect, openHydrated, PASSWORD } from "./fixtures";
import type { SmtpPeer } from "./smtp-peer";
import type { Page } from "@playwright/test";


async function fillForPeer(page: Page, port: number, password: string, encryption: "none" | "starttls" | "ssl") {
  await page.getByLabel("Host Name (SMTP)").fill("localhost");
  await page.getByLabel("Port").fill(String(port));
  await page.getByLabel("Email Account").fill("alerts@example.com");
  await page.getByLabel("Password").fill(password);
  await page.getByLabel("Email “From” Address").fill("alerts@example.com");
  await page.getByLabel("Email “From” Name").fill("Mailroom Alerts");
  await page.getByLabel("Use STARTTLS").setChecked(encryption === "starttls");
  await page.getByLabel("Use SSL").setChecked(encryption === "ssl");
}

async function trustPeerCa(page: Page, peer: SmtpPeer) {
  await page.getByText("Advanced").click();
  await page.getByLabel("Trusted CA certificate (PEM)").fill(peer.caPem);
}

test("a successful test shows the server's reply and is remembered", async ({ page, fresh, peer }) => {
  await openHydrated(page, `${fresh.url}/settings/mail`);
  await fillForPeer(page, peer.ports.starttls, "correct-password", "starttls");
  await trustPeerCa(page, peer);
  const button = page.getByRole("button", { name: "Test Email Server" });
  await button.click();
  const result = page.getByTestId("test-result");
  await expect(result.getByRole("heading")).toHaveText("Test email accepted");
  await expect(result).toContainText("check the inbox and spam folder");
  await expect(result).toContainText(/Server reply: 250 2\.0\.0 Ok: queued as [0-9A-F]+/);
  await expect(page.getByTestId("last-test")).toContainText("Last successful test:");
  await result.getByText("SMTP transcript").click();
  await expect(result.locator("pre")).toContainText("STARTTLS");
  await expect(result.locator("pre")).toContainText("<credentials hidden>");
  await expect(result.locator("pre")).not.toContainText("correct-password");
  // Testing saves nothing.
  await expect(page.getByTestId("unsaved")).toBeVisible();
});

test("a wrong password shows the login stage, the 535 reply, the authentication advice and the field", async ({ page, fresh, peer }) => {
  await openHydrated(page, `${fresh.url}/settings/mail`);
  await fillForPeer(page, peer.ports.plain, PASSWORD, "none");
  await page.getByRole("button", { name: "Test Email Server" }).click();
  const result = page.getByTestId("test-result");
  await expect(result.getByRole("heading")).toHaveText("Test failed: Login rejected");
  await expect(result).toContainText("535");
  await expect(result).toContainText("5.7.8");
  await expect(result).toContainText("Verify that the SMTP address, port, account, and password are correct.");
  await expect(result).toContainText("authorization code");
  await expect(result).toContainText("Most likely at fault: Password");
  await expect(page.locator(".field.at-fault")).toContainText("Password");
  await expect(page.getByTestId("last-test")).toContainText("Last test failed: Login rejected");
});

test("SSL on the STARTTLS port is reported as a mode mismatch within two seconds", async ({ page, fresh, peer }) => {
  await openHydrated(page, `${fresh.url}/settings/mail`);
  await fillForPeer(page, peer.ports.starttls, "correct-password", "ssl");
  await trustPeerCa(page, peer);
  const started = Date.now();
  await page.getByRole("button", { name: "Test Email Server" }).click();
  const result = page.getByTestId("test-result");
  await expect(result.getByRole("heading")).toHaveText("Test failed: SSL is on, but this port does not speak SSL");
  const elapsed = Date.now() - started;
  console.log(`SSL-on-STARTTLS-port reported after ${elapsed} ms`);
  await expect(result).toContainText("Turn off “Use SSL”");
  await expect(result).toContainText("Enable or disable TLS/SSL as required by the email provider.");
  await expect(page.locator("fieldset.at-fault")).toBeVisible();
});

test("a test with wrong fields is refused in the browser and says what to fix", async ({ page, fresh }) => {
  await openHydrated(page, `${fresh.url}/settings/mail`);
  let requests = 0;
  page.on("request", (r) => r.url().includes("/api/test_mail_server") && requests++);
  await page.getByLabel("Email Account").fill("apikey");
  await page.getByRole("button", { name: "Test Email Server" }).click();
  await expect(page.locator("#host-message")).toContainText("Enter the SMTP server");
  await expect(page.getByLabel("Host Name (SMTP)")).toBeFocused();
  await page.getByLabel("Host Name (SMTP)").fill("localhost");
  await page.getByLabel("Port").fill("2525");
  await page.getByLabel("Password").fill("x");
  await page.getByLabel("Email “From” Address").fill("alerts@example.com");
  await page.getByRole("button", { name: "Test Email Server" }).click();
  await expect(page.locator("#send_to-message")).toContainText("enter who should receive");
  await expect(page.getByLabel("Send test to")).toBeFocused();
  expect(requests).toBe(0);
});
