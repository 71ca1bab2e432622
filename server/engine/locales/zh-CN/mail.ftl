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
