import { test, expect, openHydrated, logIn } from "./fixtures";
import { MailSettingsPage } from "./mail-settings-page";
import { MailroomServer } from "./server";

test("the page is rendered on the server, with the form, before any script runs", async ({ server, page }) => {
  await openHydrated(page, `${server.url}/settings/mail`);
  const res = await page.request.get(`${server.url}/settings/mail`);
  expect(res.status()).toBe(200);
  const html = await res.text();
  expect(html).toContain("<form");
  expect(html).toContain('<label for="host">Host Name (SMTP)</label>');
  expect(html).not.toContain("data-hydrated");
});

test("without JavaScript the page still shows the menu and the form", async ({ browser, server }) => {
  const context = await browser.newContext({ javaScriptEnabled: false });
  const page = await context.newPage();
  await page.goto(`${server.url}/settings/mail`);
  await logIn(page);
  await page.waitForURL(/\/settings\/mail$/);
  await expect(page.getByRole("navigation", { name: "Main menu" }).getByRole("link", { name: "Mail Server" })).toBeVisible();
  await expect(page.getByLabel("Host Name (SMTP)")).toBeVisible();
  await expect(page.locator("body")).not.toHaveAttribute("data-hydrated", "true");
  await context.close();
});

test("the wasm hydrates the page", async ({ page, server }) => {
  await openHydrated(page, `${server.url}/settings/mail`);
  await expect(page.getByRole("heading", { name: "Mail Server" })).toBeVisible();
});

test("/ redirects to Settings › Mail Server, and unknown paths get the 404 page", async ({ page, server, request }) => {
  const anonymous = await request.get(`${server.url}/settings/mail`, { maxRedirects: 0 });
  expect(anonymous.status()).toBe(303);
  expect(anonymous.headers()["location"]).toBe("/login?next=%2Fsettings%2Fmail");
  await openHydrated(page, `${server.url}/settings/mail`);
  await page.goto(server.url + "/");
  await expect(page).toHaveURL(/\/settings\/mail$/);
  const res = await page.request.get(`${server.url}/no/such/page`);
  expect(res.status()).toBe(404);
  expect(await res.text()).toContain("Page not found");
});

test("front-end assets are served compressed, typed and cacheable", async ({ server, request, page }) => {
  await openHydrated(page, `${server.url}/settings/mail`);
  const html = await (await page.request.get(`${server.url}/settings/mail`)).text();
  const wasmPath = /href="(\/pkg\/[0-9a-f]{16}\/frontend_bg\.wasm)"/.exec(html)?.[1];
  expect(wasmPath, "versioned wasm URL in the page").toBeTruthy();
  for (const encoding of ["br", "gzip"]) {
    const res = await request.get(server.url + wasmPath, { headers: { "Accept-Encoding": encoding } });
    expect(res.status()).toBe(200);
    expect(res.headers()["content-type"]).toBe("application/wasm");
    expect(res.headers()["content-encoding"]).toBe(encoding);
    expect(res.headers()["cache-control"]).toContain("immutable");
  }
});

test("a value saved through the form is stored in sled and shown after a reload", async ({ page, server }) => {
  const mail = await new MailSettingsPage(page, server.url).open();
  await mail.fillValid("smtp.reload.example");
  await mail.save();
  await mail.reload();
  await expect(mail.field("Host Name (SMTP)")).toHaveValue("smtp.reload.example");
});

test("saved settings survive a server restart", async ({ page }) => {
  const dir = MailroomServer.tempDataDir();
  try {
    let server = await MailroomServer.start(dir);
    const before = await new MailSettingsPage(page, server.url).open();
    await before.fillValid("smtp.restart.example");
    await before.save();
    expect(await server.stop()).toBe(0);

    server = await MailroomServer.start(dir);
    const after = await new MailSettingsPage(page, server.url).open();
    await expect(after.field("Host Name (SMTP)")).toHaveValue("smtp.restart.example");
    expect(await server.stop()).toBe(0);
  } finally {
    MailroomServer.removeDataDir(dir);
  }
});
