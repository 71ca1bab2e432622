# 各页面可能显示的错误（服务器函数的拒绝原因）。

error-conflict = 你打开此页面后，这些设置已在别处保存（{ $saved_at }），所以你的修改没有保存。请刷新页面查看较新的版本。
error-invalid = 未保存：请修改下方标出的字段。
error-session-ended = 登录已失效，请重新登录。
error-too-many-logins = 登录失败次数过多：请等待 { $seconds } 秒后再试。
error-rate-limited = 此操作每分钟最多 { $limit } 次：请等待 { $seconds } 秒后再试。
error-busy = 服务器繁忙：请 { $seconds } 秒后再试。
error-bad-request = 无法读取请求：{ $reason }
error-too-large = 请求太大。
