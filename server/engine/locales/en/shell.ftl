# The admin panel around every page: the menu, the language switch, the health banner.
# The product name, Mailroom, is never translated.

brand = Mailroom
menu-label = Main menu
menu-settings = Settings
# "Mail " is hidden on phones, so the menu fits: "Server", "Activity", "Templates".
menu-mail-prefix = Mail{" "}
menu-server = Server
menu-activity = Activity
menu-templates = Templates
menu-api-tokens = API Tokens
log-out = Log out
# The switch shows the other language, in that language.
language-switch-label = Language
language-name-en = English
language-name-zh-CN = 简体中文

health-paused-title = Mail delivery is paused
health-paused = The mail server refused Mailroom: { $reason }. Nothing is sent until the settings are fixed and saved, or delivery is resumed in Mail Activity.
health-disk-title = The disk is nearly full: new mail and changes are refused
health-disk = { $reason } Mail already queued is still sent, and logins and pages still work.
health-failing-title = Mail is failing to go out
health-failing-before = Every delivery since{" "}
health-failing-after = {" "}has failed; the last: { $last }.
health-check-settings = Check Settings › Mail Server
health-see-activity = See Mail Activity

not-found-title = Not found
not-found-heading = Page not found
not-found-before = There is nothing at this address. Open{" "}
not-found-link = Settings › Mail Server
not-found-after = .
