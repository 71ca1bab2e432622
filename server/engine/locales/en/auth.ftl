# The pages without a session: log in, the first admin, forgotten password, reset.

auth-email = Email
auth-password = Password
auth-back-to-login = Back to log in

login-title = Log in
login-password-changed = Your password was changed. Log in with the new one.
login-button = Log in
login-forgot = Forgot password?
login-failed = Wrong email or password.

new-password = New password
new-password-hint = At least { $min } characters, and not your email address.
new-password-repeat = Repeat the new password

setup-title = Create the first admin
setup-once = This link works once. The account you create here can log in afterwards.
setup-button = Create admin
setup-invalid = This setup link is not valid: it was already used, or an admin already exists.
setup-how-before = Use the link the server printed in its log when it started without an admin, or run{" "}
setup-how-after = {" "}on the server.

forgot-title = Forgot password
forgot-lead = Enter your admin email address; Mailroom mails you a link to choose a new password.
forgot-button = Send reset link

reset-title = Choose a new password
reset-dead = This reset link has already been used or has expired (a link works once, for { $minutes } minutes).
reset-ask-again = Ask for a new link
reset-button = Set new password
forgot-sent = If an admin account exists for that address, a reset link is on its way to it. It works once, for { $minutes } minutes.
forgot-no-mail-server = Password reset by email is not available yet: no mail server is configured. Ask another admin to set one up under Settings › Mail Server, or create a new admin on the server with `mailroom admin create`.

# The page a mailbox's OAuth2 sign-in ends on.
oauth-the-mailbox = The mailbox
oauth-connected-title = Mailbox connected
oauth-connected = {" "}is connected. Mailroom now sends with its sign-in; test it with Test Email Server.
oauth-failed-title = The mailbox was not connected
oauth-back = Back to Settings › Mail Server

# An admin's own password, as the rules say it.
admin-password-short = Use at least { $min } characters ({ $now } now)
admin-password-is-email = The password must not be the email address
admin-password-differ = The two passwords differ
setup-link-invalid = This setup link is not valid (an admin may already exist). Log in instead.
setup-admin-exists = An admin already exists. Log in instead.
reset-link-invalid = This reset link is invalid, expired or already used: ask for a new one.

# Why a mailbox's sign-in did not connect (the page it ends on, in the browser's language).
oauth-cross-site = A sign-in starts from Settings › Mail Server on this site.
oauth-unknown-sign-in = This sign-in is unknown, was already used, or took longer than 10 minutes. Start it again from Settings › Mail Server.
oauth-provider-refused = The provider did not connect the mailbox: { $error }. { $advice }
oauth-access-denied = The sign-in was cancelled or consent was refused: sign in again and accept the permissions Mailroom asks for, or ask an administrator to consent for the organisation.
oauth-check-registration = Check the app registration: the redirect URI shown on the settings page must be registered, and the app must be allowed to ask for the scopes.
oauth-no-code = The provider sent neither a code nor an error. Start the sign-in again.
oauth-settings-changed = The mail settings changed while signing in (another app, or no longer a mailbox). Sign in again from Settings › Mail Server.
