import { test as base, expect, type Browser, type Page } from "@playwright/test";
import { MailroomServer, ADMIN_EMAIL, ADMIN_PASSWORD } from "./server";
import { SmtpPeer } from "./smtp-peer";
import AxeBuilder from "@axe-core/playwright";

type WorkerFixtures = { server: MailroomServer; peer: SmtpPeer };
type TestFixtures = { pageErrors: string[]; fresh: MailroomServer };

/**
 * `server`: one real release server per worker with its own temporary data dir.
 * `fresh`: a server of the test's own (nothing saved by other tests), stopped after the test's
 * page has left it.
 * `peer`: the real SMTP server on loopback (scripts/smtp_peer.py), one per worker.
 * `pageErrors`: every uncaught page error and console error of the test's page; the test fails
 * when any occurred (hydration failures are otherwise silent).
 */
export const test = base.extend<TestFixtures, WorkerFixtures>({
  server: [
    async ({}, use) => {
      const dir = MailroomServer.tempDataDir();
      const server = await MailroomServer.start(dir);
      await use(server);
      await server.stop();
      MailroomServer.removeDataDir(dir);
    },
    { scope: "worker" },
  ],
  fresh: async ({ page }, use) => {
    const dir = MailroomServer.tempDataDir();
    const server = await MailroomServer.start(dir);
    await use(server);
    // The test's page leaves first: a page still open (Mail Activity refreshes itself) would
    // meet the stopped server.
    await page.goto("about:blank");
    await server.stop();
    MailroomServer.removeDataDir(dir);
  },
  peer: [
    async ({}, use) => {
      const peer = await SmtpPeer.start();
      await use(peer);
      await peer.stop();
    },
    { scope: "worker" },
  ],
  pageErrors: [
    async ({ page }, use) => {
      const errors: string[] = [];
      page.on("pageerror", (e) => errors.push(`pageerror: ${e.message}`));
      page.on("console", (m) => {
        if (m.type() !== "error") return;
        // A server function's refusal (wrong password, conflict), or a sign-in the provider
        // refused, is an answer the page shows and the test asserts; Chromium still logs its
        // non-2xx status. Nothing else is excused.
        const url = m.location().url;
        const expectedRefusal =
          (url.includes("/api/") || url.includes("/oauth/callback")) &&
          m.text().startsWith("Failed to load resource: the server responded with a status of");
        if (!expectedRefusal) errors.push(`console: ${m.text()} (${m.location().url})`);
      });
      await use(errors);
      expect(errors, "page or console errors").toEqual([]);
    },
    { auto: true },
  ],
});

export { expect };

export { ADMIN_EMAIL, ADMIN_PASSWORD };

/** Fills and sends the login form on the current page (works with and without JavaScript). */
export async function logIn(page: Page, password = ADMIN_PASSWORD) {
  await page.getByLabel("Email").fill(ADMIN_EMAIL);
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Log in" }).click();
}

/** Creates an API token on Settings › API Tokens and returns it (shown once). */
export async function createToken(page: Page, serverUrl: string, name: string): Promise<string> {
  await page.goto(`${serverUrl}/settings/tokens`);
  if (new URL(page.url()).pathname === "/login") await logIn(page);
  await page.getByLabel("Name").fill(name);
  await page.getByRole("button", { name: "Create token" }).click();
  await expect(page.getByRole("heading", { name: `Token “${name}” created: copy it now` })).toBeVisible();
  return (await page.locator("#new-token").textContent())!.trim();
}

/**
 * A browser context with JavaScript off, logged in, on Settings › Mail Server of the server at
 * `serverUrl`. The caller closes the context.
 */
export async function pageWithoutScript(browser: Browser, serverUrl: string) {
  const context = await browser.newContext({ javaScriptEnabled: false });
  const page = await context.newPage();
  await page.goto(`${serverUrl}/settings/mail`);
  await logIn(page);
  await page.waitForURL(/\/settings\/mail$/);
  return { context, page };
}

/**
 * Opens `url` (logging in first if the server asks: the login page is plain HTML without
 * script), and waits until the page's island has hydrated.
 */
export async function openHydrated(page: Page, url: string) {
  await page.goto(url);
  if (new URL(page.url()).pathname === "/login") {
    await logIn(page);
    await page.waitForURL((u) => u.pathname === new URL(url).pathname);
  }
  await expect(page.locator("body")).toHaveAttribute("data-hydrated", "true");
}

/** WCAG 2.0, 2.1 and 2.2, levels A and AA: every rule axe-core has for them. */
export const AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22a", "wcag22aa"];

/** Runs axe-core on the page as it is and fails with each violation's rule and elements. */
export async function expectNoViolations(page: Page, state: string) {
  const { violations } = await new AxeBuilder({ page }).withTags(AXE_TAGS).analyze();
  const found = violations.map((v) => `${v.id} (${v.impact}): ${v.nodes.map((n) => n.target.join(" ")).join(", ")}`);
  expect(found, `axe violations on ${state}`).toEqual([]);
}
