# 设置 › 发信服务器的表单：交互组件自己的文字，以及各字段的校验提示。
# 这些文字随页面（只含页面所用的语言）发到浏览器，所以每条只写文字和 { $变量 }，不用选择器。
# 字面的花括号写作 {"{"}。

## 字段名称（与产品一致）

field-host = SMTP 服务器地址
field-port = 端口
field-authentication = 身份验证
field-account = 邮箱账号
field-password = 密码
field-oauth-grant = 登录身份
field-oauth-token-url = 令牌端点
field-oauth-auth-url = 授权端点
field-oauth-tenant = 租户
field-oauth-client-id = 客户端 ID
field-oauth-client-secret = 客户端密钥
field-oauth-scopes = 权限范围（Scopes）
field-server-type = 服务器类型
field-from-address = 发件人地址
field-from-name = 发件人名称
field-encryption = 加密方式
field-helo-name = HELO 名称
field-timeout = 超时（秒）
field-reply-to = 回复地址（Reply-To）
field-ca-pem = 受信任的 CA 证书（PEM）
field-skip-verify = 跳过证书验证
field-send-to = 测试邮件收件人

authentication-password = 密码
authentication-oauth2 = OAuth2（Microsoft 365、Google 或其他服务商）
authentication-none = 无（无需登录即可转发本服务器邮件的中继）
grant-app = 应用本身（客户端凭据，如 Microsoft 365 的 SMTP.SendAsApp）
grant-mailbox = 登录的邮箱（使用 Microsoft 或 Google 账号登录）
encryption-none = 不加密
encryption-starttls = STARTTLS
encryption-ssl = SSL（隐式 TLS）

## 校验提示

too-long = 最多 { $max } 个字符（当前 { $now } 个）
host-empty = 请输入 SMTP 服务器地址，例如 smtp.163.com
host-scheme = 只填写主机名，不要带“{ $scheme }://”：请填 { $host }
host-spaces = 主机名中不能有空格，例如 { $example }
host-path = 只填写主机名，不要带路径：请填 { $host }
host-address = 这是一个邮箱地址；请填写 SMTP 服务器地址，例如 { $host }
host-port = 请把端口（{ $port }）填到“端口”一栏，这里只填 { $host }
host-colon = 主机名中不能有“:”，例如 { $example }
host-ipv4 = { $host } 不是有效的 IPv4 地址（四个 0–255 的数字，例如 192.0.2.10）
host-invalid = { $host } 不是有效的主机名：只能包含字母、数字、连字符和点，例如 { $example }
address-brackets = 只填写邮箱地址，例如 alerts@example.com（名称有单独的一栏）
address-invalid = “{ $input }”不是邮箱地址，正确格式类似 name@example.com
name-line-break = 名称必须在一行内
name-control = 名称中含有控制字符，请删除
account-empty = 请输入在发信服务器上登录用的邮箱账号，例如 alerts@example.com
account-spaces = 账号中不能有空格或换行
password-line-break = 密码中不能有换行
password-empty = 请输入密码（部分服务商要求填写授权码）
password-login-changed = 服务器地址或账号已更改：请重新输入此账号的密码
port-empty = 请输入端口：587（STARTTLS）、465（SSL）或 25
port-not-number = 端口是整数，例如 587，而不是“{ $input }”
port-range = 端口范围是 1 到 65535；常用的是 25、465 和 587
encryption-both = 只能选一种：STARTTLS（通常用 587 端口）或 SSL（通常用 465 端口）
server-type-unsupported = 不支持“{ $input }”，请选择 SMTP
timeout-range = 请输入 1 到 { $max } 之间的整数秒数（默认 { $default }）
ca-not-pem = 请粘贴 PEM 格式的 CA 证书，从 -----BEGIN CERTIFICATE----- 到 -----END CERTIFICATE-----
ca-unreadable = 无法读取此证书（{ $reason }）；请粘贴完整的 PEM 内容
authentication-unknown = 请选择密码、OAuth2，或选“无”以使用无需登录的中继
grant-unknown = 请选择应用本身或登录的邮箱
oauth-token-url-empty = 请输入令牌端点（选择服务商预设会自动填写）
oauth-token-url-https = 令牌端点必须是 https:// 地址（仅本机可用 http://）
oauth-auth-url-empty = 请输入授权端点（选择服务商预设会自动填写）
oauth-auth-url-https = 授权端点必须是 https:// 地址（仅本机可用 http://）
oauth-tenant-empty = 请输入租户（目录）ID 或域名，例如 contoso.onmicrosoft.com
oauth-tenant-invalid = 租户是 ID 或域名：只能包含字母、数字、点和连字符
oauth-client-id-empty = 请输入应用注册的客户端（应用程序）ID
oauth-client-id-invalid = 客户端 ID 中不能有空格，且最多 { $max } 个字符
oauth-scopes-needed = { $brand } 需要权限范围“{ $scopes }”才能这样登录（服务商预设会自动填写）
oauth-scopes-invalid = 权限范围写在一行内，用空格分隔
oauth-invalid = OAuth2 设置不完整
from-empty = 请输入发件人地址，通常与邮箱账号相同
helo-invalid = HELO 名称是主机名，例如 mail.example.com，也可以留空
client-secret-line-break = 客户端密钥必须在一行内
client-secret-app-changed = 客户端 ID 或令牌端点已更改：请重新输入此应用的客户端密钥
client-secret-empty = 请输入应用注册的客户端密钥（密钥的值，而不是密钥 ID）
send-to-empty = 请输入测试邮件的收件人
send-to-account-not-address = 邮箱账号不是邮箱地址：请输入测试邮件的收件人

## 警告（合法但很可能有误）及一键修正

warn-submission-port-without-sign-in = { $port } 是邮件提交端口，这类端口几乎总要求登录。无需登录的中继通常使用 25 端口
warn-465-needs-ssl = 465 端口要求 SSL（隐式 TLS），不开启将无法连接
warn-port-expects-starttls = { $port } 端口通常先以明文连接，再用 STARTTLS 升级加密，而不是 SSL
warn-token-unencrypted = STARTTLS 和 SSL 都未开启：访问令牌将以明文传输
warn-password-unencrypted = STARTTLS 和 SSL 都未开启：密码将以明文传输
warn-skip-verify = 不验证证书时，Mailroom 与服务器之间的任何人都能读到密码。仅在排查问题时使用。
warn-account-not-address = “{ $account }”不是邮箱地址（类似 SendGrid 的“apikey”）：发送测试邮件时需要填写收件人
warn-from-must-equal-account = { $host } 会拒收发件人地址与账号（{ $account }）不一致的邮件
fix-use-ssl = 使用 SSL
fix-use-starttls = 使用 STARTTLS
fix-from-equals-account = 以账号作为发件人地址

## 服务商名称

preset-name-gmail = Gmail
preset-name-outlook = Outlook.com
preset-name-m365 = Microsoft 365
preset-name-yahoo = Yahoo
preset-name-163 = 网易 163 邮箱
preset-name-126 = 网易 126 邮箱
preset-name-qq = QQ 邮箱
preset-name-sina = 新浪邮箱
preset-name-exmail = 腾讯企业邮箱
preset-name-aliyun = 阿里云企业邮箱
preset-name-ses = Amazon SES
preset-name-sendgrid = SendGrid
preset-name-mailgun = Mailgun
preset-name-postmark = Postmark
preset-name-zoho = Zoho Mail

## 服务商说明（服务器地址与预设匹配时显示）

preset-gmail = Gmail：以邮箱身份用 Google 账号登录（OAuth2：在 Google Cloud 中创建类型为“Web 应用”的 OAuth 客户端，重定向 URI 见“登录身份”下方），或选择“密码”并使用应用专用密码；自 2025 年 5 月起，Google 不再接受第三方应用使用普通密码。
preset-outlook = Outlook.com：账号填写完整邮箱地址；开启两步验证时使用应用密码。
preset-m365 = Microsoft 365：以应用身份使用 OAuth2（SMTP.SendAsApp 权限，需管理员同意），或以登录的邮箱身份使用（委托权限 SMTP.Send）；2026 年 12 月后，Microsoft 将为现有租户关闭密码登录（基本 SMTP AUTH）。
preset-yahoo = Yahoo 需要在“账户安全”中生成的应用密码。
preset-163 = 163 邮箱需要使用授权码，而不是登录密码：在“设置 › POP3/SMTP/IMAP”中开启 SMTP 服务并新增授权码。发件人地址必须与账号相同。
preset-126 = 126 邮箱需要使用授权码，而不是登录密码：在“设置 › POP3/SMTP/IMAP”中开启 SMTP 服务并新增授权码。发件人地址必须与账号相同。
preset-qq = QQ 邮箱需要使用 16 位授权码，而不是 QQ 密码：在“设置 › 账号”中开启 SMTP 服务并生成授权码。使用 465 端口 + SSL，或 587 端口 + STARTTLS；发件人地址必须与账号相同。
preset-sina = 新浪邮箱需要使用授权码，而不是登录密码：在邮箱设置中开启 SMTP 服务并生成授权码。
preset-exmail = 腾讯企业邮箱：账号填写完整邮箱地址；开启安全登录后，请使用客户端专用密码。
preset-aliyun = 阿里云企业邮箱：账号填写完整邮箱地址，密码为三方客户端密码。新账号默认关闭三方客户端：需先由邮箱管理员开启，再在网页版邮箱的设置中设置该密码。
preset-ses = Amazon SES：使用在 SES 控制台创建的 SMTP 凭据（不是 AWS 访问密钥）；发件人地址必须已在 SES 中验证，且账号不是邮箱地址，发送测试邮件时需填写收件人。
preset-sendgrid = SendGrid：邮箱账号固定填写“apikey”，密码为你的 API 密钥。
preset-mailgun = Mailgun：使用发信域名的 SMTP 凭据（欧洲区：smtp.eu.mailgun.org）。
preset-postmark = Postmark：账号和密码都填写你的 Server API 令牌。
preset-zoho = Zoho：组织账号使用 smtppro.zoho.com；开启双重验证时使用应用专用密码。

## 表单自己的文字。{ $at } 是页面按读者时区显示的时间。

form-legend-settings = 设置
form-section-server = 服务器
form-section-authentication = 身份验证
form-section-sender = 发件人
form-advanced = 高级
form-eg = 例如 { $example }
form-required = 必填
form-warning = 警告：
form-field-said = { $field }：{ $message }
form-fault-note = 上次测试的问题很可能出在这里。
form-provider = 服务商
form-custom = 自定义
form-region = 区域
form-password-saved-hint = 已保存密码。留空则保留原密码。
form-password-hint = 部分服务商（163、126、QQ、新浪）此处要填授权码，Gmail 要填应用专用密码。
form-grant-app-hint = 应用用自己的客户端 ID 和密钥获取令牌（客户端凭据），无需任何人在浏览器中登录。
form-grant-mailbox-hint = 邮箱需要在浏览器中登录一次。请在应用中登记此重定向 URI，保存后，在“已连接的邮箱”下点击登录：
form-tenant-hint = 目录（租户）ID 或域名，会填入端点中 {"{"}tenant{"}"} 的位置。
form-client-secret-saved-hint = 已保存客户端密钥。留空则保留原密钥。
form-client-secret-hint = 填写密钥的值（仅在创建时显示一次），而不是密钥 ID。
form-scopes-needed-hint = 此服务商需要预设中填写的权限范围。
form-scopes-optional-hint = 可选：留空则使用服务商的默认值。
form-from-hint = 通常与邮箱账号相同。
form-helo-hint = 留空则使用本机的主机名。
form-ca-hint = 用于证书由私有 CA 签发的服务器。测试邮件和正式邮件都会使用。
form-encryption-legend = 加密方式（可选）
form-use-starttls = 使用 STARTTLS
form-use-ssl = 使用 SSL
form-switch-note = STARTTLS 和 SSL 不能同时开启，已关闭 { $off }。
form-port-note = { $port } 端口通常使用 { $encryption }，已在“加密方式”中开启。如果你的服务器不同，请在那里修改。
form-send-to-placeholder = 留空则发给邮箱账号
form-test = 测试发信服务器
form-testing = 正在测试…
form-test-again = { $seconds } 秒后可再次测试
form-save = 保存
form-unsaved = 有未保存的修改
form-confirm-text = 这些设置还没有通过测试：用它们发送告警和找回密码邮件可能会失败。
form-confirm-test = 先测试发信服务器
form-confirm-save = 不测试，直接保存
form-saving = 正在保存…
form-saved = 已于 { $at } 保存（第 { $version } 版）。
form-last-saved = 上次保存于 { $at }（第 { $version } 版）。
form-signed-in-as = 当前登录：{ $admin }
form-not-done = 未完成：请修改上方标出的字段。
form-log-in-again = 重新登录
form-conflict-keep = 在该版本上保留我的修改
form-conflict-discard = 放弃我的修改
form-note-kept = 你的修改现已基于第 { $version } 版。请检查后保存。
form-note-taken = 表单现在显示第 { $version } 版。
form-mailbox-heading = 已连接的邮箱
form-mailbox-unsaved = 请先以“登录的邮箱”身份保存设置，再在此登录。
form-mailbox-connected = 已连接：
form-mailbox-connected-by = ，由 { $by } 于 { $at } 连接
form-mailbox-unnamed = 一个邮箱（服务商未提供名称）
form-disconnect = 断开连接
form-mailbox-mismatch = 警告：邮箱账号与已连接的邮箱 { $mailbox } 不同，服务器会拒绝用于其他账号的令牌。请改用 { $mailbox }，或以邮箱账号登录。
form-mailbox-none = 未连接邮箱：在有邮箱登录之前，Mailroom 无法发信。
form-sign-in-with = 使用 { $brand } 登录
form-the-provider = 服务商
form-mailbox-dirty = 登录使用的是已保存的设置：请先保存你的修改。
form-tested-ok = ✓ 这些设置已于 { $at } 通过测试。
form-tested-changed = 这些设置在 { $at } 通过测试后又被修改：保存前请再测试一次。
form-sending = 正在通过 { $server } 发送测试邮件…（最多 { $seconds } 秒）
form-stale = 旧结果：
form-stale-text = 对应 { $at } 时的设置（{ $changed }）。表单中的值已改变：请再测试一次。
form-then-test-again = ，然后再测试一次。
form-save-these = 保存这些设置
