# 测试失败时的处理建议（设置 › 发信服务器，测试结果）。前五条是产品故障排查表的内容。

advice-verify-server = 请确认 SMTP 服务器地址、端口、账号和密码是否正确。
advice-firewall = 请确认服务器没有被防火墙拦截。
advice-third-party = 请确认该 SMTP 账号允许第三方应用访问，并尝试用授权码代替密码。
advice-ports = 请尝试 25 / 465 / 587 端口，或查阅邮件服务商的文档。
advice-tls = 请按邮件服务商的要求开启或关闭 TLS/SSL。

advice-dns = 请检查 { $host } 是否拼写正确。
advice-refused = { $port } 端口上没有服务接受连接。
advice-ssl-on-plain-port = 请关闭“使用 SSL”：{ $port } 端口以明文应答。请使用 STARTTLS（通常为 587 端口），或在 465 端口使用 SSL。
advice-plain-on-ssl-port = 请开启“使用 SSL”（并关闭 STARTTLS）：{ $port } 端口要求从第一个字节起就加密。
advice-private-ca = 如果服务器使用私有 CA，请在“高级 › 受信任的 CA 证书（PEM）”中粘贴该 CA 的证书。
advice-skip-verify = “跳过证书验证”能让测试通过，但网络上的任何人都能读到密码：仅在排查问题时使用。
advice-certificate-expired = 服务器证书已过期：请联系邮件服务器管理员续期。
advice-certificate-wrong-name = 证书上没有 { $host } 这个名称：请使用证书上写的主机名（通常是服务商文档中的 SMTP 服务器地址）。
advice-helo = 请在“高级”中设置服务器接受的 HELO 名称，例如本机的公网 DNS 名称。
advice-starttls-not-offered = 如果服务商支持，请关闭 STARTTLS，改在 465 端口使用 SSL；只有服务商文档明确说明时才使用不加密的连接。
advice-auth-needs-encryption = 很多服务器只在加密连接上提供登录：请开启 STARTTLS（587 端口）或 SSL（465 端口）。
advice-no-known-auth = 服务器没有提供 Mailroom 支持的登录方式；Mailroom 使用 PLAIN 或 LOGIN 登录。请向服务商申请 SMTP AUTH PLAIN/LOGIN 权限。
advice-unsupported-auth = 服务器提供的是 { $offered }；Mailroom 使用 PLAIN 或 LOGIN 登录。请向服务商申请 SMTP AUTH PLAIN/LOGIN 权限。
advice-m365-smtp-auth-off = Microsoft 365 关闭了 SMTP AUTH（535 5.7.139）：请在 Microsoft 365 管理中心打开“用户 › 活跃用户 › 此邮箱 › 邮件 › 管理电子邮件应用”，勾选“经过身份验证的 SMTP”。
advice-m365-tenant-smtp-auth = 如果整个租户都关闭了它，请由 Exchange 管理员执行 Set-TransportConfig -SmtpClientAuthenticationDisabled $false 开启（Exchange 管理中心 › 设置 › 邮件流：取消勾选“为组织关闭 SMTP AUTH 协议”）。安全默认值也必须允许。
advice-m365-basic-auth-ends = 2026 年 12 月后，Microsoft 将在现有租户中停止 SMTP AUTH 的密码登录。
advice-token-endpoint = 请检查令牌端点：服务商预设会自动填写（Microsoft 365：https://login.microsoftonline.com/{"{"}tenant{"}"}/oauth2/v2.0/token，租户处填写你的租户 ID 或域名）。
advice-token-endpoint-reach = 本服务器必须能通过 HTTPS（443 端口）访问服务商：请检查防火墙和代理。
advice-oauth-client = 请检查客户端 ID 和客户端密钥：要填写密钥的值（仅在创建时显示一次），而不是密钥 ID，并确认它未过期（Microsoft Entra 管理中心 › 应用注册 › 该应用 › 证书和密码）。
advice-oauth-tenant = 请检查租户：应用必须注册在该租户中。
advice-mailbox-refused = 服务商拒绝了该邮箱的登录：请确认应用可以申请这些权限范围（Microsoft 365：委托权限 SMTP.Send；Google：OAuth 同意屏幕上的 https://mail.google.com/），并且邮箱已同意授权。
advice-mailbox-scopes = 请检查权限范围：服务商预设会为邮箱自动填写；离线访问由 Mailroom 申请。
advice-mailbox-connect = 请连接邮箱：保存设置后，点击表单下方“已连接的邮箱”中的登录按钮，并以邮箱账号登录。
advice-mailbox-expired = 之前可用的连接会在邮箱密码更改、授权被撤销，或连续 90 天（Microsoft）或 6 个月（Google）未使用后失效：请重新登录。
advice-app-permission = 应用可能缺少权限或管理员同意：对于 Microsoft 365，请授予应用程序权限 SMTP.SendAsApp（Office 365 Exchange Online）并由管理员同意，再在 Exchange 中注册该应用的服务主体（New-ServicePrincipal，然后为邮箱执行 Add-MailboxPermission）。
advice-app-scopes = 请检查权限范围：Microsoft 365 的仅应用登录使用 https://outlook.office365.com/.default。
advice-auth-required = 此服务器只接受登录后发信：请将“身份验证”选为“密码”，并填写账号和密码。
advice-relay = 如果 { $host } 应当无需登录就为本服务器转发邮件，请联系其管理员放行本服务器的地址（中继通常在内网的 25 端口监听）。
advice-from-account = 很多服务商只接受账号本身作为发件人：请将发件人地址设为 { $account }。
advice-relay-from = 中继拒绝了这个发件人地址：请使用它所代发域名下的地址。
advice-recipient = 请检查收件人地址（“测试邮件收件人”）；服务器也可能不允许此账号发往外部收件人。
advice-not-a-mail-server = 请确认 { $host } 的 { $port } 端口是你的邮件服务器：没有邮件服务器会返回这么长的回复。
advice-authorization-code = 163、126、QQ 和新浪邮箱需要使用授权码（在邮箱的 SMTP 设置中生成），而不是登录密码。
advice-gmail-app-password = Gmail 需要应用专用密码（Google 账号 › 安全性 › 应用专用密码）。
advice-m365-basic-auth = Microsoft 365 可能为该邮箱或整个租户关闭了基本身份验证（SMTP AUTH）。

## 发生了什么：测试结果的一句话说明（发送队列中以英文保存）。{ $answer } 是服务器的回复
## （或出错的原因），{ $reason } 是程序库自己的说明。

summary-accepted = 服务器已在 { $seconds } 秒内接收；请检查 { $recipient } 的收件箱和垃圾邮件文件夹。
summary-no-answer = { $doing }时，{ $seconds } 秒内没有应答。
summary-reply-too-long = { $doing }时，服务器的回复超出了任何邮件服务器的长度（超过 { $kib } KiB、{ $lines } 行，或单行超过 1000 字节）。
summary-dns-failed = 无法解析主机名 { $host }（{ $reason }）。
summary-dns-no-address = 主机名 { $host } 没有地址。
summary-connection-refused = { $address } 拒绝了连接：该端口上没有邮件服务器。
summary-connect-timed-out = 连接 { $address } 超时。
summary-connect-failed = 无法连接 { $address }：{ $reason }。
summary-ssl-on-plain-port = 已开启 SSL，但 { $port } 端口以明文应答（它需要 STARTTLS 或普通 SMTP）。
summary-plain-on-ssl-port = { $port } 端口要求 SSL（隐式 TLS）：它等待加密，从不应答明文连接。
summary-certificate-expired = 服务器证书已过期。
summary-certificate-wrong-name = 服务器证书属于其他主机名。
summary-certificate-untrusted = 服务器证书不受信任（{ $reason }）。
summary-tls-handshake = TLS 握手失败：{ $reason }。
summary-tls-setup = 无法建立 TLS：{ $reason }
summary-ca-unreadable = 无法读取受信任的 CA 证书：{ $reason }
summary-no-greeting = 服务器没有及时发送欢迎信息。
summary-greeting-refused = 服务器拒绝了连接，回复：{ $answer }
summary-greeting-closed = 服务器未发送正确的欢迎信息就关闭了连接（{ $reason }）。
summary-ehlo-rejected = EHLO 被拒绝，服务器回复：{ $answer }
summary-starttls-not-offered = 已开启 STARTTLS，但服务器在此端口上不提供 STARTTLS。
summary-auth-not-offered = 服务器在此连接上不提供登录（AUTH）。
summary-auth-not-offered-plain = 服务器在加密之前不提供登录（AUTH）。
summary-no-plain-login = 服务器只提供 { $offered } 登录方式；Mailroom 支持 PLAIN 和 LOGIN。
summary-no-xoauth2 = 服务器只提供 { $offered } 登录方式；Mailroom 使用 OAuth2（XOAUTH2）登录。
summary-login-rejected = 登录被拒绝，服务器回复：{ $answer }
summary-sign-in-required = 服务器要求登录，回复：{ $answer }
summary-from-unusable = 无法使用该发件人地址：{ $reason }
summary-sender-rejected = 发件人被拒绝，服务器回复：{ $answer }
summary-recipient-rejected = 收件人 { $recipient } 被拒绝，服务器回复：{ $answer }
summary-address-unusable = 无法使用地址 { $address }：{ $reason }
summary-message-unbuilt = 无法生成测试邮件：{ $reason }
summary-message-rejected = 邮件被拒收，服务器回复：{ $answer }
summary-no-http-client = 无法为令牌端点创建 HTTP 客户端：{ $reason }。
summary-token-url-invalid = 令牌端点 { $endpoint } 不是有效的 URL：{ $reason }。
summary-token-refused = 令牌端点拒绝了请求：{ $reason }。
summary-token-unreachable = 无法访问令牌端点 { $endpoint }：{ $reason }。
summary-token-no-token = 令牌端点 { $endpoint } 没有返回令牌：{ $reason }。
summary-token-failed = 令牌端点 { $endpoint } 出错：{ $reason }。
summary-oauth-not-set-up = 已选择 OAuth2，但尚未设置。
summary-no-mailbox = 尚未连接邮箱：请先用服务商账号登录（表单下方的“已连接的邮箱”）。
summary-no-refresh-token = 服务商已登录，但没有返回刷新令牌：Mailroom 以后将无法发信。请确认权限范围允许离线访问。
summary-redirect-invalid = 重定向 URI 不是有效的 URL：{ $reason }。

## Mailroom 当时在做什么（上面的 { $doing }）

doing-token = 获取 OAuth2 令牌
doing-dns = 解析主机名
doing-connect = 连接服务器（可能被防火墙丢弃了连接）
doing-tls = 建立加密连接
doing-greeting = 等待服务器的欢迎信息
doing-ehlo = 向服务器发送 EHLO
doing-starttls = 向服务器发送 EHLO/STARTTLS
doing-auth = 登录
doing-mail-from = 发送发件人
doing-rcpt-to = 发送收件人
doing-data = 开始发送邮件（DATA）
doing-body = 发送邮件内容
