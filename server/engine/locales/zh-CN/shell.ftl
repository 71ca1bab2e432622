# 每个管理页面外围：菜单、语言切换、运行状态横幅。
# 产品名 Mailroom 不翻译。

brand = Mailroom
menu-label = 主菜单
menu-settings = 设置
# 手机上隐藏“邮件”二字：中文菜单本身已很短，前缀留空。
menu-mail-prefix = {""}
menu-server = 发信服务器
menu-activity = 邮件记录
menu-templates = 邮件模板
menu-api-tokens = API 令牌
log-out = 退出登录
language-switch-label = 语言
language-name-en = English
language-name-zh-CN = 简体中文

health-paused-title = 邮件发送已暂停
health-paused = 发信服务器拒绝了 Mailroom：{ $reason }。在修正并保存设置，或在“邮件记录”中恢复发送之前，不会发出任何邮件。
health-disk-title = 磁盘空间即将用尽：新邮件和设置修改会被拒绝
health-disk = { $reason } 已在队列中的邮件仍会发送，登录和页面仍可使用。
health-failing-title = 邮件一直发送失败
health-failing-before = 自{" "}
health-failing-after = {" "}以来每次发送都失败了；最近一次：{ $last }。
health-check-settings = 检查 设置 › 发信服务器
health-see-activity = 查看邮件记录

not-found-title = 页面不存在
not-found-heading = 页面不存在
not-found-before = 这个地址没有内容。请打开{" "}
not-found-link = 设置 › 发信服务器
not-found-after = 。
