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

  // A refusal in Chinese too.
  await page.getByLabel("邮箱").fill(ADMIN_EMAIL);
  await page.getByLabel("密码").fill("not-the-password");
  await page.getByRole("button", { name: "登录" }).click();
  await expect(page.locator("#form-error")).toHaveText("邮箱或密码错误。");
  await expectNoViolations(page, "the login page in Chinese, refused");

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

  // The other translated pages, in Chinese, axe-clean.
  await page.goto(`${fresh.url}/settings/tokens`);
  await expect(page.getByRole("heading", { level: 1, name: "API 令牌" })).toBeVisible();
  await page.getByLabel("名称").fill("grafana");
  await page.getByRole("button", { name: "创建令牌" }).click();
  await expect(page.getByRole("heading", { name: "令牌“grafana”已创建：请立即复制" })).toBeVisible();
  await expectNoViolations(page, "API Tokens in Chinese, a token created");
  await page.goto(`${fresh.url}/settings/activity`);
  await expect(page.getByRole("heading", { level: 1, name: "邮件记录" })).toBeVisible();
  await expect(page.locator("#activity-live")).toHaveText("列表每 5 秒更新一次。");
  await expect(page.getByRole("navigation", { name: "按状态查看邮件" }).getByRole("link", { name: "全部（0）" })).toBeVisible();
  await expectNoViolations(page, "Mail Activity in Chinese");
});
