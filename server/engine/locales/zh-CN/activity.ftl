# 设置 › 邮件记录。

activity-title = 邮件记录
activity-lead = Mailroom 受托发送的每封邮件（告警、找回密码邮件、其他服务的邮件）及其结果。
activity-not-loaded = 无法加载邮件记录：
activity-live = 列表每 { $seconds } 秒更新一次。
activity-named = 发往 { $to } 的“{ $subject }”
activity-nothing-to-cancel = 邮件 { $message } 现在的状态是“{ $state }”：没有可取消的内容。
activity-cancel-question = 取消邮件 { $message }？
activity-cancel-consequence = 取消后不会发送。在过期之前，仍可在此页面重新加入队列。
activity-keep-queued = 保留在队列中
activity-cancel-this = 取消这封邮件
activity-cancelled = 邮件 { $message } 已取消，不会发送。
activity-undo = 撤销：重新加入队列
activity-retried-before = 邮件 { $message } 已重新加入队列，现在位于{" "}
activity-retried-after = 。
activity-all = 全部（{ $count }）
activity-state-count = { $state }（{ $count }）
activity-newest = 最新邮件
activity-older = 更早的邮件
activity-by-state = 按状态查看邮件
activity-find = 按收件人或主题查找
activity-search = 搜索
activity-retry-failed = 重试所有失败邮件（{ $count }）
activity-resume = 恢复发送
activity-none = 这里还没有邮件。
activity-no-match = 没有符合搜索条件的邮件。
activity-list = 邮件列表，最新的在前
activity-transcript = 最近一次尝试的会话记录
activity-transcript-note = C：Mailroom，S：发信服务器。密码和邮件内容已略去。
activity-asked-by = 请求方
activity-source = 来源
activity-group = 告警组
activity-queued = 入队时间
activity-next-try = 下次尝试
activity-message-id = 邮件编号
activity-queue-id = 服务器队列编号
activity-not-tried = 尚未尝试发送。
activity-attempts = 发送尝试
activity-when = 时间
activity-step = 步骤
activity-code = 代码
activity-server-said = 服务器回复
activity-means = 含义：
activity-retry-now = 立即重试
activity-cancel-sending = 取消发送…

state-queued = 排队中
state-sending = 发送中
state-sent = 已发送
state-deferred = 稍后重试
state-failed = 失败
state-uncertain = 结果不明
state-expired = 已过期
state-cancelled = 已取消

# 邮件的请求方（“请求方”一栏）。
origin-system = 系统
origin-password-reset = 找回密码
origin-token = API 令牌“{ $name }”
origin-queue-test = 通过发送队列测试，由 { $admin } 发起
origin-template-preview = 模板 { $mail } 的预览，由 { $admin } 发起
origin-webhook = { $source } Webhook，API 令牌“{ $name }”
origin-smtp = 来自 { $client } 的 SMTP，API 令牌“{ $name }”
origin-smtp-message-id = 来自 { $client } 的 SMTP，API 令牌“{ $name }”，Message-ID { $id }

# 拒绝原因的含义（“含义：”），依据增强状态码或回复码。
meaning-no-mailbox = 该服务器上不存在收件人的邮箱：请检查地址是否有拼写错误。重新发送也不会成功。
meaning-no-domain = 收件人的域名不存在或不接收邮件：请检查 @ 后面的部分。
meaning-bad-recipient = 服务器认为收件人地址格式有误：请检查。
meaning-bad-sender = 服务器拒绝了发件人：请把“发件人地址”设为该账号自己的地址（或允许它代发的地址）。
meaning-mailbox-disabled = 收件人的邮箱已停用或不接收邮件。
meaning-mailbox-full = 收件人的邮箱已满。
meaning-too-large = 邮件超过了服务器接受的大小。
meaning-smtp-auth-off = 该邮箱或租户关闭了 SMTP 登录（SMTP AUTH）：需要邮件服务的管理员开启，或改用 OAuth2。
meaning-login-refused = 发信服务器拒绝了登录：请检查邮箱账号和密码（很多服务商要求使用应用专用密码或授权码）。
meaning-login-needed = 服务器要求先登录才接收邮件：请填写邮箱账号和密码。
meaning-relaying-denied = 服务器拒绝转发这封邮件（relaying denied）：该账号不能发给这个收件人，或需要先登录。
meaning-policy = 服务器按其策略拒绝了这封邮件（发件人、收件人或内容）。
meaning-unauthenticated-domain = 收件方认为发件人的域名未通过认证（SPF、DKIM 或 DMARC）：发件人地址所在的域名需要允许这台服务器发信。
meaning-unreachable = 无法连接服务器，或服务器关闭了连接：这是临时问题，Mailroom 会自动重试。
meaning-temporary = 临时拒绝：Mailroom 稍后会自动重试。

# 邮件记录中操作的拒绝原因。
activity-refused-expired = 邮件 { $id } 已过期：现在发送已经太晚，它将保持取消状态。
activity-refused-not-retryable = 邮件 { $id } 当前状态为“{ $state }”，现在不能重试。
activity-refused-no-body = 邮件 { $id } 的正文已在保留期后删除，不能再次发送。
activity-no-such-message = 没有编号为 { $id } 的邮件。
activity-refused-not-waiting = 邮件 { $id } 不在等待发送，没有可取消的内容。
