# 无需登录的页面：登录、创建首个管理员、忘记密码、重置密码。

auth-email = 邮箱
auth-password = 密码
auth-back-to-login = 返回登录

login-title = 登录
login-password-changed = 密码已修改，请用新密码登录。
login-button = 登录
login-forgot = 忘记密码？
login-failed = 邮箱或密码错误。

new-password = 新密码
new-password-hint = 至少 { $min } 个字符，且不能与邮箱地址相同。
new-password-repeat = 再次输入新密码

setup-title = 创建首个管理员
setup-once = 此链接只能使用一次。在这里创建的账号之后即可登录。
setup-button = 创建管理员
setup-invalid = 此初始化链接无效：已被使用过，或已存在管理员。
setup-how-before = 请使用服务器在没有管理员的情况下启动时写入日志的链接，或在服务器上运行{" "}
setup-how-after = 。

forgot-title = 忘记密码
forgot-lead = 输入管理员邮箱，Mailroom 会给你发送一个用于设置新密码的链接。
forgot-button = 发送重置链接

reset-title = 设置新密码
reset-dead = 此重置链接已使用过或已过期（每个链接只能使用一次，有效期 { $minutes } 分钟）。
reset-ask-again = 重新获取链接
reset-button = 设置新密码
forgot-sent = 如果该地址有对应的管理员账号，重置链接已发往该邮箱。链接只能使用一次，有效期 { $minutes } 分钟。
forgot-no-mail-server = 暂时无法通过邮件重置密码：尚未配置发信服务器。请让其他管理员在 设置 › 发信服务器 中配置，或在服务器上用 `mailroom admin create` 创建新的管理员。

# 邮箱 OAuth2 登录结束后显示的页面。
oauth-the-mailbox = 该邮箱
oauth-connected-title = 邮箱已连接
oauth-connected = {" "}已连接。Mailroom 现在用它的登录授权发信；请用“测试发信服务器”测试。
oauth-failed-title = 邮箱未能连接
oauth-back = 返回 设置 › 发信服务器

# 管理员自己的密码规则。
admin-password-short = 至少 { $min } 个字符（当前 { $now } 个）
admin-password-is-email = 密码不能与邮箱地址相同
admin-password-differ = 两次输入的密码不一致
setup-link-invalid = 此设置链接无效（可能已有管理员）。请直接登录。
setup-admin-exists = 已有管理员。请直接登录。
reset-link-invalid = 此重置链接无效、已过期或已使用：请重新申请。

# 邮箱登录未能连接的原因（登录结束页，使用浏览器的语言）。
oauth-cross-site = 登录必须从本站的“设置 › 发信服务器”开始。
oauth-unknown-sign-in = 此次登录未知、已被使用，或超过了 10 分钟。请从“设置 › 发信服务器”重新开始。
oauth-provider-refused = 服务商没有连接该邮箱：{ $error }。{ $advice }
oauth-access-denied = 登录已取消或授权被拒绝：请重新登录并接受 Mailroom 申请的权限，或请管理员代表组织同意授权。
oauth-check-registration = 请检查应用注册：设置页面上显示的重定向 URI 必须已登记，且应用必须被允许申请这些权限范围。
oauth-no-code = 服务商既没有返回授权码，也没有返回错误。请重新登录。
oauth-settings-changed = 登录期间发信设置已更改（换了应用，或不再以邮箱身份登录）。请从“设置 › 发信服务器”重新登录。
