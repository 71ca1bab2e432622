# 设置 › 邮件模板。

templates-title = 邮件模板
templates-lead-before = Mailroom 发出的每封邮件在各语言下的内容。{" "}
templates-lead-after = {" "}中的值在发送时填入；预览用示例值显示。模板保存前会先检查。
templates-not-loaded = 无法加载模板：
templates-choices = 邮件与语言
templates-saved = 模板已保存，此类邮件的下一封将使用它。
templates-is-default = 这是 Mailroom 自带的默认模板。
templates-is-own = 由管理员保存；“恢复默认”可换回默认模板。
templates-subject = 主题
templates-text = 纯文本正文
templates-html = HTML 正文
templates-html-hint = 选填。所有值都会被转义；留空则只发送纯文本。
templates-save = 保存
templates-send-preview = 把此预览发给我
templates-reset = 恢复默认
templates-variables = 变量
templates-variables-write = 写法
templates-variables-what = 含义
templates-variables-sample = 示例
templates-variables-list = （列表：见预览）
templates-preview = 预览（使用示例值）
templates-preview-subject = 主题：
templates-preview-html = HTML 正文

# 各封邮件，按其 id。
mail-test-mail = 测试发信服务器
mail-queue-test = 通过发送队列测试
mail-password-reset = 找回密码
mail-alert = 告警通知（触发或恢复）
mail-alert-group = 告警工具通知（触发或恢复）

# 每个变量的含义（显示在编辑框旁）。
var-host = 发信服务器的主机名
var-port = 端口
var-encryption = "none"、"starttls" 或 "ssl"
var-account = 登录所用的邮箱账号；不登录时为空
var-email = 管理员的邮箱地址
var-reset-link = 一次性链接
var-valid-minutes = 链接有效时长（分钟）
var-firing = 告警触发中为 true，恢复后为 false
var-title = 触发了什么，沿用发送方的说法（一行）
var-severity = "critical"、"warning" 或 "info"
var-value = 测量值；可能为空
var-threshold = 超过的阈值；可能为空
var-link = 查看详情的 http(s) 地址；可能为空
var-description = 发生了什么、该怎么处理，沿用发送方的说法；可能为空
var-repeat = 告警持续期间多久重发一次，文字表述
var-key = 告警标识（用于告警风暴控制）
var-group-firing = 组内有任一告警触发时为 true
var-group-title = 告警组：其标签值，或告警工具给出的标题（一行）
var-source = 告警工具：Alertmanager、Grafana、Uptime Kuma 或 Zabbix
var-firing-count = 触发中的告警数
var-resolved-count = 已恢复的告警数
var-message = 告警工具对整条通知的说明；可能为空
var-alerts = 告警列表，每条含 firing、name、summary、description、started、ended、values、labels（name、value）和 links（label、url）
var-left-out = 未列入邮件的告警数（单次通知中告警过多）
var-external = 告警工具自身的地址；可能为空
var-group-repeat = 告警组不变时多久重发一次，文字表述

# 保存未成功时由页面脚本显示。
templates-js-conflict = 你打开此页面后，这个模板已在别处被保存，所以你的修改没有保存。请先复制你的内容，刷新页面后再改一次。
templates-js-session-ended = 登录已失效：请重新登录（请先复制你的内容）。
templates-js-refused = 未保存：服务器拒绝了此次保存。你的内容仍在页面上。
templates-js-unreachable = 无法连接服务器；你的内容仍在页面上，请重试。

# 模板的问题及其位置：“纯文本正文第 2 行：语法错误（…）。”
problem-at-line = { $part }第 { $line } 行：{ $problem }
problem-in = { $part }：{ $problem }
problem-subject-lines = 主题只能有一行，请删除换行。
problem-subject-empty = 主题为空，请填写。
problem-text-empty = 纯文本正文为空；每封邮件都必须有纯文本正文。
problem-too-long = 太长：最多 { $kb } KB。
problem-syntax = 语法错误{ $detail }。
problem-unknown = 未知变量{ $detail }：请使用编辑框旁列出的变量。
problem-work = 计算量过大（循环太长？），请简化。
problem-large = 生成的邮件会超过 { $kb } KB，请缩短。
problem-include = 不能引用其他模板，请直接在这里写内容。
problem-unavailable = 邮件模板中不可用{ $detail }。
problem-not-text = 结果不是文本。
templates-nothing-saved = 未保存：
templates-nothing-sent = 未发送：
