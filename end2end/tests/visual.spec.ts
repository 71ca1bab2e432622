// What the eye and the keyboard meet on every admin page: whole words in the Attempts table, a
// menu bar of one height on a phone, one date format, a focus ring that meets WCAG 2.2's focus
// appearance (2.4.13) and targets of at least 24 × 24 px (2.5.8).
import { test, expect, openHydrated, createToken } from "./fixtures";
import { MailSettingsPage, noRelayForm } from "./mail-settings-page";
import type { Page } from "@playwright/test";

/** The words in the cells matched by `selector` that are drawn on more than one line. */
async function brokenWords(page: Page, selector: string): Promise<string[]> {
  return page.evaluate((sel) => {
    const broken: string[] = [];
    for (const cell of document.querySelectorAll(sel)) {
      const walker = document.createTreeWalker(cell, NodeFilter.SHOW_TEXT);
      for (let node = walker.nextNode(); node; node = walker.nextNode()) {
        const text = node.textContent ?? "";
        for (const m of text.matchAll(/\S+/g)) {
          const range = document.createRange();
          range.setStart(node, m.index!);
          range.setEnd(node, m.index! + m[0].length);
          const lines = new Set([...range.getClientRects()].map((r) => Math.round(r.top)));
          if (lines.size > 1) broken.push(m[0]);
        }
      }
    }
    return broken;
  }, selector);
}

/** A message refused at RCPT TO (550 5.7.1), sent through the API; returns its id. */
async function refusedMessage(page: Page, url: string, plainPort: number): Promise<string> {
  const mail = await new MailSettingsPage(page, url).open();
  await mail.fill(noRelayForm(plainPort));
  await mail.save();
  const token = await createToken(page, url, "monitoring");
  const answer = await page.request.post(`${url}/api/v1/messages`, {
    headers: { Authorization: `Bearer ${token}` },
    data: { to: ["oncall@customer.test"], subject: "Queue depth above 1000", text: "Look at the workers." },
  });
  expect(answer.status()).toBe(202);
  const id = String((await answer.json()).messages[0].id);
  await page.goto(`${url}/settings/activity?open=${id}`);
  return id;
}

test("the Attempts table breaks no word at 1280 and 390 px", async ({ page, fresh, peer }) => {
  const id = await refusedMessage(page, fresh.url, peer.ports.plain);
  const table = page.locator(`#message-${id} table`);
  await expect(async () => {
    await page.reload();
    await expect(table).toBeVisible({ timeout: 1000 });
  }).toPass();
  for (const width of [1280, 390]) {
    await page.setViewportSize({ width, height: 900 });
    const cells = `#message-${id} table th, #message-${id} table td:not(.reply)`;
    expect(await page.locator(cells).count()).toBeGreaterThan(4);
    expect(await brokenWords(page, cells), `at ${width} px`).toEqual([]);
  }
});

test("on a phone the menu bar has one height on every page", async ({ browser, fresh }) => {
  const context = await browser.newContext({ viewport: { width: 390, height: 844 } });
  const page = await context.newPage();
  await openHydrated(page, `${fresh.url}/settings/mail`);
  const heights: Record<string, number> = {};
  for (const path of ["/settings/mail", "/settings/activity", "/settings/templates", "/settings/tokens", "/no/such/page"]) {
    await page.goto(`${fresh.url}${path}`);
    const box = await page.getByRole("navigation", { name: "Main menu" }).boundingBox();
    heights[path] = Math.round(box!.height);
  }
  const values = Object.values(heights);
  expect(new Set(values).size, JSON.stringify(heights)).toBe(1);
  expect(values[0], "a bar, not a page").toBeLessThan(130);
  await context.close();
});

test("every page shows times one way: the browser's local time, UTC on hover", async ({ browser, fresh }) => {
  const context = await browser.newContext({ timezoneId: "Asia/Shanghai", locale: "en-GB" });
  const page = await context.newPage();
  const mail = await new MailSettingsPage(page, fresh.url).open();
  await mail.fillValid();
  await mail.save();
  await page.getByRole("button", { name: "Send a test through the queue" }).click();
  await expect(page).toHaveURL(/open=\d+/);
  // Mail Activity, API Tokens (a token) and Mail Server (the change history).
  await page.goto(`${fresh.url}/settings/tokens`);
  await page.getByLabel("Name").fill("grafana");
  await page.getByRole("button", { name: "Create token" }).click();
  for (const path of ["/settings/activity", "/settings/tokens", "/settings/mail"]) {
    await page.goto(`${fresh.url}${path}`);
    const times = page.locator("main time");
    await expect(times.first()).toBeVisible();
    await expect(times.first()).toHaveAttribute("data-localized", /.+/);
    const shown = await times.evaluateAll((els) =>
      els.map((el) => ({
        text: el.textContent,
        title: el.getAttribute("title"),
        expected: new Date(el.getAttribute("datetime")!).toLocaleString(document.documentElement.lang, {
          dateStyle: "medium",
          timeStyle: "long",
        }),
      })),
    );
    for (const t of shown) {
      expect(t.text, path).toBe(t.expected);
      expect(t.text, `${path}: the local time zone`).toMatch(/GMT\+8|CST/);
      expect(t.title, path).toMatch(/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2} UTC$/);
    }
  }
  await context.close();
});

/** WCAG's contrast ratio of two CSS colours (rgb/rgba as getComputedStyle gives them). */
function contrast(a: string, b: string): number {
  const lum = (c: string) => {
    const [r, g, bl] = c.match(/[\d.]+/g)!.slice(0, 3).map((v) => {
      const s = Number(v) / 255;
      return s <= 0.03928 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
    });
    return 0.2126 * r + 0.7152 * g + 0.0722 * bl;
  };
  const [hi, lo] = [lum(a), lum(b)].sort((x, y) => y - x);
  return (hi + 0.05) / (lo + 0.05);
}

/** Presses Tab until `selector` has the keyboard focus; returns its focus ring and what it sits on. */
async function tabTo(page: Page, selector: string) {
  for (let i = 0; i < 60; i++) {
    await page.keyboard.press("Tab");
    const ring = await page.evaluate((sel) => {
      const el = document.activeElement as HTMLElement | null;
      if (!el || !el.matches(sel) || !el.matches(":focus-visible")) return null;
      const style = getComputedStyle(el);
      // The ring is drawn outside the element (offset): it sits on the nearest painted background.
      let under: Element | null = el.parentElement;
      let background = "rgb(255, 255, 255)";
      while (under) {
        const bg = getComputedStyle(under).backgroundColor;
        if (bg !== "rgba(0, 0, 0, 0)" && bg !== "transparent") {
          background = bg;
          break;
        }
        under = under.parentElement;
      }
      return { width: parseFloat(style.outlineWidth), style: style.outlineStyle, color: style.outlineColor, background };
    }, selector);
    if (ring) return ring;
  }
  throw new Error(`Tab never reached ${selector}`);
}

test("the keyboard focus is a ring of at least 2 px with 3:1 contrast, on the page and on the dark menu", async ({ page, fresh }) => {
  await openHydrated(page, `${fresh.url}/settings/mail`);
  for (const selector of [".sidebar a", "#host", "#test"]) {
    const ring = await tabTo(page, selector);
    expect(ring.style, selector).toBe("solid");
    expect(ring.width, selector).toBeGreaterThanOrEqual(2);
    expect(contrast(ring.color, ring.background), `${selector}: ${ring.color} on ${ring.background}`).toBeGreaterThanOrEqual(3);
  }
});

test("controls are at least 24 × 24 px, Advanced included", async ({ page, fresh }) => {
  await openHydrated(page, `${fresh.url}/settings/mail`);
  const small = await page.evaluate(() =>
    [...document.querySelectorAll("main button, main a.button, main summary, main select, .sidebar button")]
      .filter((el) => (el as HTMLElement).offsetParent !== null)
      .map((el) => ({ name: (el.textContent ?? "").trim().slice(0, 30), box: el.getBoundingClientRect() }))
      .filter(({ box }) => box.width < 24 || box.height < 24)
      .map(({ name, box }) => `${name}: ${Math.round(box.width)}×${Math.round(box.height)}`),
  );
  expect(small).toEqual([]);
  const advanced = await page.getByText("Advanced", { exact: true }).boundingBox();
  expect(advanced!.height).toBeGreaterThanOrEqual(24);
});

test("at 1280 × 800 the common path is one screen: provider, host, port, account, password, from, test, save", async ({ page, fresh }) => {
  await page.setViewportSize({ width: 1280, height: 800 });
  await openHydrated(page, `${fresh.url}/settings/mail`);
  const mail = new MailSettingsPage(page, fresh.url);
  const controls = [
    page.getByLabel("Provider"),
    mail.field("Host Name (SMTP)"),
    mail.field("Port"),
    mail.field("Email Account"),
    mail.field("Password"),
    mail.field("Email “From” Address"),
    mail.testButton,
    mail.saveButton,
  ];
  for (const control of controls) {
    await expect(control).toBeInViewport({ ratio: 1 });
  }
  // Nothing scrolled: the page opened at the top.
  expect(await page.evaluate(() => window.scrollY)).toBe(0);
  // Every feature kept: Advanced is there (closed), and opens below.
  await page.getByText("Advanced", { exact: true }).click();
  await expect(mail.field("HELO name")).toBeVisible();
});
