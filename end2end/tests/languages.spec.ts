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

test("Settings › Mail Server in Chinese: labels, messages as you type, a warning's fix and a failed test, axe-clean", async ({ page, fresh, peer }) => {
  await page.goto(`${fresh.url}/settings/mail`);
  await page.getByLabel("邮箱").fill(ADMIN_EMAIL);
  await page.getByLabel("密码").fill(ADMIN_PASSWORD);
  await page.getByRole("button", { name: "登录" }).click();
  await page.waitForURL(/\/settings\/mail$/);
  await expect(page.locator("body")).toHaveAttribute("data-hydrated", "true");
  await expect(page.locator("html")).toHaveAttribute("lang", "zh-CN");
  await expect(page.getByRole("heading", { level: 1, name: "发信服务器" })).toBeVisible();
  await expectNoViolations(page, "the mail server settings in Chinese");

  // The island's own words: a message as the admin leaves a field, in Chinese.
  const port = page.getByLabel("端口");
  await port.fill("58x");
  await port.blur();
  await expect(page.locator("#port-message")).toHaveText("端口是整数，例如 587，而不是“58x”");
  // A preset's note, and a warning with its one-click fix.
  await page.getByLabel("服务商").selectOption({ label: "网易 163 邮箱" });
  await expect(page.locator("#preset-hint")).toContainText("163 邮箱需要使用授权码");
  await page.getByRole("switch", { name: "使用 STARTTLS" }).check();
  await expect(page.locator("#encryption")).toContainText("465 端口要求 SSL（隐式 TLS）");
  await page.locator("#encryption").getByRole("button", { name: "使用 SSL" }).click();
  await expect(page.getByRole("switch", { name: "使用 SSL" })).toBeChecked();
  await expectNoViolations(page, "the settings in Chinese with a preset applied");

  // A test against the real SMTP peer that refuses the password: the result in Chinese.
  await page.getByLabel("SMTP 服务器地址").fill("localhost");
  await port.fill(String(peer.ports.plain));
  await page.getByRole("switch", { name: "使用 SSL" }).uncheck();
  await page.getByLabel("邮箱账号").fill("alerts@example.com");
  await page.getByLabel("密码").fill("wrong-password");
  await page.getByLabel("发件人地址").fill("alerts@example.com");
  await page.getByRole("button", { name: "测试发信服务器" }).click();
  const result = page.getByTestId("test-result");
  await expect(result.getByRole("heading")).toHaveText("测试失败：登录被拒绝");
  await expect(result).toContainText("登录被拒绝，服务器回复：535");
  await expect(result).toContainText("请确认 SMTP 服务器地址、端口、账号和密码是否正确。");
  await expect(result).toContainText("最可能出错的字段：密码");
  await expectNoViolations(page, "a failed test in Chinese");
});
