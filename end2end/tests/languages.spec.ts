import { test, expect, expectNoViolations, ADMIN_EMAIL, ADMIN_PASSWORD } from "./fixtures";

// The pages in English and Simplified Chinese: a browser asking for Chinese gets Chinese pages
// (the document's lang says so), the header's switch changes the admin's language and it stays
// theirs; axe-core finds nothing in either.

test.use({ locale: "zh-CN" });

test("a Chinese browser gets Chinese pages, and the header's switch keeps the admin's choice", async ({ page, fresh }) => {
  await page.goto(`${fresh.url}/settings/templates`);
  await expect(page.locator("html")).toHaveAttribute("lang", "zh-CN");
  await expect(page.getByRole("heading", { level: 1, name: "登录" })).toBeVisible();
  await expectNoViolations(page, "the login page in Chinese");

  await page.getByLabel("邮箱").fill(ADMIN_EMAIL);
  await page.getByLabel("密码").fill(ADMIN_PASSWORD);
  await page.getByRole("button", { name: "登录" }).click();
  await page.waitForURL(/\/settings\/templates$/);
  await expect(page.locator("html")).toHaveAttribute("lang", "zh-CN");
  await expect(page.getByRole("heading", { level: 1, name: "邮件模板" })).toBeVisible();
  await expect(page.getByRole("navigation", { name: "主菜单" }).getByRole("link", { name: "邮件模板" })).toBeVisible();
  await expect(page.getByLabel("主题")).toHaveValue("Mailroom 测试邮件");
  await expectNoViolations(page, "Mail Templates in Chinese");

  // The switch names English in English; choosing it keeps the admin on the same page.
  const toEnglish = page.getByRole("button", { name: "语言: English" });
  await expect(toEnglish).toHaveAttribute("lang", "en");
  await toEnglish.click();
  await page.waitForURL(/\/settings\/templates$/);
  await expect(page.locator("html")).toHaveAttribute("lang", "en");
  await expect(page.getByRole("heading", { level: 1, name: "Mail Templates" })).toBeVisible();
  await expectNoViolations(page, "Mail Templates in English, chosen by the admin");

  // Chosen beats the browser's language, on every page and after logging in again.
  await page.goto(`${fresh.url}/settings/tokens`);
  await expect(page.locator("html")).toHaveAttribute("lang", "en");
  await page.getByRole("button", { name: "Log out" }).click();
  await expect(page.locator("html")).toHaveAttribute("lang", "zh-CN");
  await page.getByLabel("邮箱").fill(ADMIN_EMAIL);
  await page.getByLabel("密码").fill(ADMIN_PASSWORD);
  await page.getByRole("button", { name: "登录" }).click();
  await expect(page.locator("html")).toHaveAttribute("lang", "en");
  await page.getByRole("button", { name: "Language: 简体中文" }).click();
  await expect(page.locator("html")).toHaveAttribute("lang", "zh-CN");
  await expect(page.getByRole("button", { name: "退出登录" })).toBeVisible();
});
