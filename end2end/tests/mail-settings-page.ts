import { expect, type Locator, type Page } from "@playwright/test";
import { openHydrated } from "./fixtures";

/** The values of the Settings › Mail Server form, by the page's own labels. */
export type MailForm = {
  host?: string;
  port?: string | number;
  /** Authentication: a password, OAuth2, or none (a relay). Set before the sign-in fields. */
  authentication?: "password" | "oauth2" | "none";
  /** OAuth2: the app itself (client credentials) or a mailbox that signs in. */
  oauthGrant?: "app" | "mailbox";
  oauthAuthUrl?: string;
  oauthTenant?: string;
  oauthClientId?: string;
  oauthClientSecret?: string;
  oauthTokenUrl?: string;
  oauthScopes?: string;
  account?: string;
  password?: string;
  fromAddress?: string;
  fromName?: string;
  /** Sets both switches: none, STARTTLS or SSL. */
  encryption?: "none" | "starttls" | "ssl";
  /** Advanced. */
  timeout?: string;
  replyTo?: string;
  caPem?: string;
  sendTo?: string;
};

export const PASSWORD = "Pw-9f3k-unique-s3cret";

/** A complete, valid form: STARTTLS on port 587. */
export const VALID: MailForm = {
  host: "smtp.example.com",
  port: "587",
  account: "alerts@example.com",
  password: PASSWORD,
  fromAddress: "alerts@example.com",
  fromName: "Mailroom Alerts",
};

/**
 * OAuth2 as the mailbox alerts@example.com through the test peer: SMTP listener `smtpPort`,
 * its OAuth2 server on `oauthPort` (Google-like endpoints), app `clientId`.
 */
export function mailboxForm(smtpPort: number, oauthPort: number, clientId: string): MailForm {
  const endpoint = `http://127.0.0.1:${oauthPort}/google`;
  return {
    host: "localhost",
    port: smtpPort,
    encryption: "none",
    authentication: "oauth2",
    oauthGrant: "mailbox",
    account: "alerts@example.com",
    fromAddress: "alerts@example.com",
    oauthClientId: clientId,
    oauthClientSecret: "app-secret",
    oauthTokenUrl: `${endpoint}/token`,
    oauthAuthUrl: `${endpoint}/authorize`,
    oauthScopes: "https://mail.google.com/",
  };
}

/**
 * The test peer's account that may log in but not send outside its own domain (example.com):
 * a recipient elsewhere is refused at RCPT TO with 550 5.7.1.
 */
export function noRelayForm(plainPort: number): MailForm {
  return {
    host: "localhost",
    port: plainPort,
    account: "no-relay@example.com",
    password: "correct-password",
    fromAddress: "no-relay@example.com",
    fromName: "Mailroom Alerts",
    encryption: "none",
  };
}

/**
 * The page object of Settings › Mail Server: every spec fills, saves and tests the form through
 * these methods, by label and role, as an admin would.
 */
export class MailSettingsPage {
  constructor(
    readonly page: Page,
    readonly serverUrl: string,
  ) {}

  get url() {
    return `${this.serverUrl}/settings/mail`;
  }

  /** Opens the page with the form pointing at the local SMTP peer's listener on `port`. */
  static async forPeer(page: Page, serverUrl: string, port: number, password: string, encryption: "none" | "starttls" | "ssl") {
    const mail = await new MailSettingsPage(page, serverUrl).open();
    await mail.fill({
      host: "localhost",
      port,
      account: "alerts@example.com",
      password,
      fromAddress: "alerts@example.com",
      fromName: "Mailroom Alerts",
      encryption,
    });
    return mail;
  }

  /** Opens the page (logging in if asked) and waits until it has hydrated. */
  async open() {
    await openHydrated(this.page, this.url);
    return this;
  }

  /** Reloads and waits until the page has hydrated again. */
  async reload() {
    await this.page.reload();
    await expect(this.page.locator("body")).toHaveAttribute("data-hydrated", "true");
  }

  field(label: string): Locator {
    return this.page.getByLabel(label, { exact: label === "Password" || label === "Port" });
  }

  /** The message line under the field labelled `label`. */
  async messageOf(label: string): Promise<Locator> {
    const id = await this.field(label).getAttribute("id");
    return this.page.locator(`#${id}-message`);
  }

  get starttls() {
    return this.page.getByLabel("Use STARTTLS");
  }

  get ssl() {
    return this.page.getByLabel("Use SSL");
  }

  get unsaved() {
    return this.page.getByTestId("unsaved");
  }

  get result() {
    return this.page.getByTestId("test-result");
  }

  /** The one line under the form: this page's test, or the stored history before one. */
  get lastTest() {
    return this.page.getByTestId("tested-status");
  }

  get saveButton() {
    return this.page.getByRole("button", { name: "Save", exact: true });
  }

  get testButton() {
    return this.page.getByRole("button", { name: "Test Email Server", exact: true });
  }

  async openAdvanced() {
    const details = this.page.locator("details.advanced");
    if ((await details.getAttribute("open")) === null) await this.page.getByText("Advanced", { exact: true }).click();
  }

  /** Fills the fields given (others are left as they are). */
  async fill(values: MailForm) {
    if (values.authentication !== undefined) await this.page.getByLabel("Authentication", { exact: true }).selectOption(values.authentication);
    if (values.oauthGrant !== undefined) await this.page.getByLabel("Sign in as", { exact: true }).selectOption(values.oauthGrant);
    const text: [keyof MailForm, string][] = [
      ["host", "Host Name (SMTP)"],
      ["port", "Port"],
      ["account", "Email Account"],
      ["password", "Password"],
      ["fromAddress", "Email “From” Address"],
      ["fromName", "Email “From” Name"],
      ["oauthTenant", "Tenant"],
      ["oauthClientId", "Client ID"],
      ["oauthClientSecret", "Client secret"],
      ["oauthTokenUrl", "Token endpoint"],
      ["oauthAuthUrl", "Authorization endpoint"],
      ["oauthScopes", "Scopes"],
    ];
    for (const [key, label] of text) {
      if (values[key] !== undefined) await this.field(label).fill(String(values[key]));
    }
    if (values.encryption !== undefined) {
      await this.starttls.setChecked(values.encryption === "starttls");
      await this.ssl.setChecked(values.encryption === "ssl");
    }
    const advanced: [keyof MailForm, string][] = [
      ["timeout", "Timeout (seconds)"],
      ["replyTo", "Reply-To Address"],
      ["caPem", "Trusted CA certificate (PEM)"],
    ];
    for (const [key, label] of advanced) {
      if (values[key] === undefined) continue;
      await this.openAdvanced();
      await this.field(label).fill(String(values[key]));
    }
    if (values.sendTo !== undefined) await this.field("Send test to").fill(values.sendTo);
  }

  /** Every required field with valid values; the port's usual encryption (STARTTLS) is on. */
  async fillValid(host = "smtp.example.com") {
    await this.fill({ ...VALID, host });
    await expect(this.starttls).toBeChecked();
  }

  get status() {
    return this.page.getByRole("status");
  }

  /**
   * Saves values that have not passed a test: Save, which asks first, then "Save without
   * testing"; waits for the confirmation.
   */
  async save() {
    await this.saveButton.click();
    await this.page.getByRole("button", { name: "Save without testing" }).click();
    await expect(this.status).toContainText("Saved at");
  }

  /** Saves untested values where the server will refuse them (the caller checks why). */
  async saveExpectingRefusal() {
    await this.saveButton.click();
    await this.page.getByRole("button", { name: "Save without testing" }).click();
  }

  /**
   * Gmail's preset with {@link mailboxForm}, saved; then "Sign in with …" through the browser:
   * the peer answers at once (approves, or refuses consent for a deny-* client) and sends the
   * browser back to the page titled `outcome`.
   */
  async connectMailbox(smtpPort: number, oauthPort: number, clientId: string, outcome = "Mailbox connected") {
    await this.page.getByLabel("Provider").selectOption({ label: "Gmail" });
    await this.fill(mailboxForm(smtpPort, oauthPort, clientId));
    await this.save();
    await expect(this.page.getByTestId("no-mailbox")).toBeVisible();
    await this.signInWithProvider(outcome);
  }

  /** Follows "Sign in with the provider" to the page the sign-in ends on, titled `outcome`. */
  async signInWithProvider(outcome: string) {
    await this.page.getByRole("link", { name: "Sign in with the provider" }).click();
    await expect(this.page.getByRole("heading", { level: 1 })).toHaveText(outcome);
  }

  /** Clicks "Test Email Server" and waits for the result card. */
  async test() {
    await this.testButton.click();
    await expect(this.result).toBeVisible();
    return this.result;
  }
}
