# 设置 › 发信服务器：由服务器渲染的部分（表单本身属于交互组件）。

mail-title = 发信服务器
mail-lead = Mailroom 用来发送告警通知和找回密码邮件的 SMTP 服务器。
mail-not-loaded = 无法加载设置：
mail-managed-title = 由配置管理
mail-managed-lead = 这些设置来自服务器的配置，不能在此修改：请在部署 Mailroom 的地方修改后重启。“测试发信服务器”仍会用这些设置发送测试邮件；未列出的字段保持默认值。
mail-managed-caption = 各字段的来源
mail-managed-field = 字段
mail-managed-set-by = 设置来源
mail-queue-test-title = 按真实邮件的路径测试
mail-queue-test-lead = “测试发信服务器”会立即用表单中的值发信。告警和找回密码邮件则经发送队列、用已保存的设置发出：用这种方式给自己的邮箱发一封测试邮件，然后在“邮件记录”中跟踪它。
mail-queue-test-button = 通过发送队列发送测试邮件

# 修改记录中的一行（由服务器生成）。{ $field } 是字段名称。
change-created = 创建了发信设置
change-set = { $field }：“{ $from }” → “{ $to }”
change-replaced = 修改了{ $field }
change-unchanged = 保存（无修改）
change-token-created = 创建了 API 令牌“{ $name }”
change-token-revoked = 吊销了 API 令牌“{ $name }”
change-mailbox-connected = 连接了邮箱“{ $account }”（OAuth2）
change-mailbox-disconnected = 断开了邮箱“{ $account }”
change-template-unchanged = 保存了邮件模板“{ $mail }”（{ $lang }），无修改
change-template-saved = 修改了邮件模板“{ $mail }”（{ $lang }）：{ $diff }
change-template-reset = 将邮件模板“{ $mail }”（{ $lang }）恢复为默认

# 本页操作的拒绝原因。
mail-managed-refused = 这些设置由配置管理（{ $source } 及页面上列出的其他项）：请在配置中修改后重启 Mailroom。
mail-queue-test-save-first = 请先保存发信设置：发送队列使用已保存的设置发信。
mail-sign-in-save-first = 请先保存发信设置：登录使用已保存的应用。
mail-sign-in-not-mailbox = 已保存的设置不是以邮箱身份登录：请将身份验证选为 OAuth2、登录身份选为登录的邮箱，保存后再登录。

## 测试报告、测试记录、变更记录与保存冲突提示（在服务器上呈现）

diagnosis-dns-lookup = 域名解析失败
diagnosis-connection-refused = 连接被拒绝
diagnosis-connection-timed-out = 连接超时
diagnosis-ssl-on-plain-port = 已开启 SSL，但此端口不支持 SSL
diagnosis-plain-on-ssl-port = 此端口要求 SSL（隐式 TLS）
diagnosis-certificate-untrusted = 证书不受信任
diagnosis-certificate-expired = 证书已过期
diagnosis-certificate-wrong-name = 证书不属于此主机名
diagnosis-tls-handshake = TLS 握手失败
diagnosis-greeting = 服务器无欢迎信息或拒绝连接
diagnosis-ehlo = EHLO 被拒绝
diagnosis-start-tls-not-offered = 服务器不支持 STARTTLS
diagnosis-auth-not-offered = 服务器不提供登录（AUTH）
diagnosis-no-supported-auth = 没有支持的登录方式
diagnosis-auth-rejected = 登录被拒绝
diagnosis-auth-required = 服务器要求登录
diagnosis-token-endpoint = 无法访问令牌端点
diagnosis-oauth-client-rejected = 应用凭据被拒绝
diagnosis-oauth-refused = 令牌申请被拒绝
diagnosis-mailbox-sign-in = 邮箱尚未登录
diagnosis-sender-rejected = 发件人被拒绝
diagnosis-recipient-rejected = 收件人被拒绝
diagnosis-message-rejected = 邮件被拒收
diagnosis-reply-too-long = 服务器回复过长
form-history-title = 修改记录
form-history-none = 尚未保存过。
form-last-failed = 上次测试失败：{ $title }（{ $at }）。
form-last-success = 上次成功测试：{ $at }（{ $server }）。
form-not-tested = 尚未测试。
form-no-success = 还没有成功的测试。
form-test-accepted = 测试邮件已被接收
form-test-failed = 测试失败：{ $title }
form-server-reply = 服务器回复：
form-at-fault = 最可能出错的字段：
form-details = { $server }，{ $encryption }，收件人 { $recipient }，用时 { $ms } 毫秒。
form-transcript = SMTP 会话记录
form-conflict-not-saved = 未保存。
form-conflict-who = { $who }在你打开此页面后，于 { $at } 保存了这些设置。
form-conflict-someone = 有人
form-conflict-you = 你（在另一个标签页或窗口中）
form-conflict-changes = 修改内容：{ $changes }。
form-conflict-no-field = 无字段变化
