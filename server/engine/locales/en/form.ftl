# Settings › Mail Server's form: the island's own words, and what the rules say about each field.
# These travel to the browser with the page (for the page's language only), so keep each one
# plain: text and { $values }, no selectors. A literal brace is written {"{"}.

## The fields, as the product names them

field-host = Host Name (SMTP)
field-port = Port
field-authentication = Authentication
field-account = Email Account
field-password = Password
field-oauth-grant = Sign in as
field-oauth-token-url = Token endpoint
field-oauth-auth-url = Authorization endpoint
field-oauth-tenant = Tenant
field-oauth-client-id = Client ID
field-oauth-client-secret = Client secret
field-oauth-scopes = Scopes
field-server-type = Server Type
field-from-address = Email “From” Address
field-from-name = Email “From” Name
field-encryption = Encryption
field-helo-name = HELO name
field-timeout = Timeout (seconds)
field-reply-to = Reply-To Address
field-ca-pem = Trusted CA certificate (PEM)
field-skip-verify = Skip certificate verification
field-send-to = Send test to

authentication-password = Password
authentication-oauth2 = OAuth2 (Microsoft 365, Google or another provider)
authentication-none = None (a relay that accepts this server without sign-in)
grant-app = The app (client credentials, e.g. Microsoft 365 SMTP.SendAsApp)
grant-mailbox = A mailbox that signs in (Sign in with Microsoft or Google)
encryption-none = no encryption
encryption-starttls = STARTTLS
encryption-ssl = SSL (implicit TLS)

## What the rules say about a value

too-long = At most { $max } characters ({ $now } now)
host-empty = Enter the SMTP server's host name, e.g. smtp.163.com
host-scheme = Enter only the host name, without “{ $scheme }://”: type { $host }
host-spaces = A host name has no spaces, e.g. { $example }
host-path = Enter only the host name, without a path: type { $host }
host-address = That is an email address; enter the SMTP server's host name instead, e.g. { $host }
host-port = Put the port ({ $port }) in the Port field and type only { $host } here
host-colon = A host name has no “:”, e.g. { $example }
host-ipv4 = { $host } is not a valid IPv4 address (four numbers 0–255, e.g. 192.0.2.10)
host-invalid = { $host } is not a valid host name: use letters, digits, hyphens and dots, e.g. { $example }
address-brackets = Enter only the address, e.g. alerts@example.com (the name has its own field)
address-invalid = “{ $input }” is not an email address; it looks like name@example.com
name-line-break = The name must be on one line
name-control = The name contains a control character; remove it
account-empty = Enter the email account the server knows you by, e.g. alerts@example.com
account-spaces = The account has no spaces or line breaks
password-line-break = The password cannot contain a line break
password-empty = Enter the password (some providers want an authorization code instead)
password-login-changed = The host or account changed: enter the password for this account again
port-empty = Enter the port: 587 (STARTTLS), 465 (SSL) or 25
port-not-number = The port is a whole number such as 587, not “{ $input }”
port-range = Ports run from 1 to 65535; common ones are 25, 465 and 587
encryption-both = Choose one: STARTTLS (usually port 587) or SSL (usually port 465), not both
server-type-unsupported = “{ $input }” is not supported; select SMTP
timeout-range = A whole number of seconds from 1 to { $max } (default { $default })
ca-not-pem = Paste the CA certificate in PEM form, from -----BEGIN CERTIFICATE----- to -----END CERTIFICATE-----
ca-unreadable = This certificate could not be read ({ $reason }); paste the whole PEM block
authentication-unknown = Choose Password, OAuth2, or None for a relay without sign-in
grant-unknown = Choose the app or a mailbox that signs in
oauth-token-url-empty = Enter the token endpoint (the provider preset fills it)
oauth-token-url-https = The token endpoint is an https:// address (http:// only on this machine)
oauth-auth-url-empty = Enter the authorization endpoint (the provider preset fills it)
oauth-auth-url-https = The authorization endpoint is an https:// address (http:// only on this machine)
oauth-tenant-empty = Enter the tenant (directory) ID or domain, e.g. contoso.onmicrosoft.com
oauth-tenant-invalid = A tenant is an ID or a domain: letters, digits, dots and dashes
oauth-client-id-empty = Enter the client (application) ID of the app registration
oauth-client-id-invalid = A client ID has no spaces and at most { $max } characters
oauth-scopes-needed = { $brand } needs the scopes “{ $scopes }” for this sign-in (its preset fills them)
oauth-scopes-invalid = Scopes are one line, separated by spaces
oauth-invalid = The OAuth2 settings are incomplete
from-empty = Enter the address mail is sent from, usually the same as Email Account
helo-invalid = The HELO name is a host name such as mail.example.com, or blank
client-secret-line-break = The client secret is one line
client-secret-app-changed = The client ID or token endpoint changed: enter the client secret for this app
client-secret-empty = Enter the client secret (the value, not its ID) of the app registration
send-to-empty = Enter who should receive the test mail
send-to-account-not-address = Email Account is not an address: enter who should receive the test mail

## Warnings (legal but probably wrong) and their one-click fixes

warn-submission-port-without-sign-in = Port { $port } is a submission port: servers there almost always ask for sign-in. Relays that accept servers without sign-in usually listen on port 25
warn-465-needs-ssl = Port 465 expects SSL (implicit TLS); without it the connection will fail
warn-port-expects-starttls = Port { $port } normally starts unencrypted and upgrades with STARTTLS, not SSL
warn-token-unencrypted = Neither STARTTLS nor SSL is on: the access token would travel unencrypted
warn-password-unencrypted = Neither STARTTLS nor SSL is on: the password would travel unencrypted
warn-skip-verify = Certificates are not checked: anyone between Mailroom and the server could read the password. Use only to diagnose.
warn-account-not-address = “{ $account }” is not an email address (like SendGrid’s “apikey”): test mails will need a recipient
warn-from-must-equal-account = { $host } rejects mail whose From address differs from the account ({ $account })
fix-use-ssl = Use SSL
fix-use-starttls = Use STARTTLS
fix-from-equals-account = Use the account as From address

## The providers' names

preset-name-gmail = Gmail
preset-name-outlook = Outlook.com
preset-name-m365 = Microsoft 365
preset-name-yahoo = Yahoo
preset-name-163 = 163.com
preset-name-126 = 126.com
preset-name-qq = QQ Mail
preset-name-sina = Sina Mail
preset-name-exmail = Tencent Exmail
preset-name-aliyun = Aliyun enterprise mail
preset-name-ses = Amazon SES
preset-name-sendgrid = SendGrid
preset-name-mailgun = Mailgun
preset-name-postmark = Postmark
preset-name-zoho = Zoho Mail

## The providers' notes (shown when a preset matches the host)

preset-gmail = Gmail: sign in with Google as a mailbox (OAuth2: an OAuth client of type Web application in Google Cloud, with the redirect URI shown under Sign in as), or choose Password with an app password; Google refuses the normal password for third-party apps since May 2025.
preset-outlook = Outlook.com: use the full address as the account; with two-step verification, an app password.
preset-m365 = Microsoft 365: OAuth2 as an app (permission SMTP.SendAsApp, admin consent) or as a mailbox that signs in (delegated SMTP.Send); Microsoft turns off password sign-in (basic SMTP AUTH) for existing tenants after December 2026.
preset-yahoo = Yahoo needs an app password generated under Account security.
preset-163 = 163.com needs an authorization code (授权码), not your login password: Settings › POP3/SMTP/IMAP, turn on SMTP and add one. The From address must equal the account.
preset-126 = 126.com needs an authorization code (授权码), not your login password: Settings › POP3/SMTP/IMAP, turn on SMTP and add one. The From address must equal the account.
preset-qq = QQ Mail needs its 16-character authorization code (授权码), not your QQ password: Settings › Account, turn on the SMTP service and generate one. Port 465 with SSL, or 587 with STARTTLS; the From address must equal the account.
preset-sina = Sina Mail needs an authorization code, not your login password: turn on SMTP in the mailbox settings and generate one there.
preset-exmail = Tencent Exmail: the full address is the account; with secure login on, use a client-specific password.
preset-aliyun = Aliyun enterprise mail: the full address is the account, and the password is a third-party client password. Third-party clients are off by default for new accounts: the mail administrator allows them, then you set the password in the web mail's settings.
preset-ses = Amazon SES: use SMTP credentials created in the SES console (not AWS access keys); the From address must be verified in SES, and the account is not an address, so test mails need a recipient.
preset-sendgrid = SendGrid: the Email Account is literally “apikey” and the password is your API key.
preset-mailgun = Mailgun: use the SMTP credentials of your sending domain (EU region: smtp.eu.mailgun.org).
preset-postmark = Postmark: the account and the password are both your Server API token.
preset-zoho = Zoho: organisation accounts use smtppro.zoho.com; with two-factor authentication, an application-specific password.

## The form's own words. A { $at } is a time the page shows in the reader's time zone.

form-legend-settings = Settings
form-section-server = Server
form-section-authentication = Authentication
form-section-sender = Sender
form-advanced = Advanced
form-eg = e.g. { $example }
form-required = required
form-warning = Warning:{" "}
form-field-said = { $field }: { $message }
form-fault-note = The last test points here.
form-provider = Provider
form-custom = Custom
form-region = Region
form-password-saved-hint = A password is saved. Leave blank to keep it.
form-password-hint = Some providers (163, 126, QQ, Sina) want an authorization code here, Gmail an app password.
form-grant-app-hint = The app gets its tokens itself, with its client ID and secret (client credentials): nobody signs in in the browser.
form-grant-mailbox-hint = A mailbox signs in once in the browser. Register this redirect URI with the app, save, then use Sign in under Connected mailbox:{" "}
form-tenant-hint = The directory (tenant) ID or domain; it goes where the endpoint says {"{"}tenant{"}"}.
form-client-secret-saved-hint = A client secret is saved. Leave blank to keep it.
form-client-secret-hint = The secret's value (shown once when it was created), not its ID.
form-scopes-needed-hint = This provider needs the scopes its preset fills in.
form-scopes-optional-hint = Optional: blank asks for the provider's default.
form-from-hint = Usually the same as Email Account.
form-helo-hint = Blank: this machine's host name.
form-ca-hint = For a server whose certificate comes from a private CA. Used for tests and real mail.
form-encryption-legend = Encryption (optional)
form-use-starttls = Use STARTTLS
form-use-ssl = Use SSL
form-switch-note = STARTTLS and SSL cannot both be on, so { $off } is now off.
form-port-note = Port { $port } usually means { $encryption }, so it is now on under Encryption. Change it there if your server differs.
form-send-to-placeholder = Blank: the Email Account
form-test = Test Email Server
form-testing = Testing…
form-test-again = Test again in { $seconds } s
form-save = Save
form-unsaved = Unsaved changes
form-confirm-text = These values have not passed a test: alert and password-reset mail may fail with them.
form-confirm-test = Test Email Server first
form-confirm-save = Save without testing
form-saving = Saving…
form-saved = Saved at { $at } (version { $version }).
form-last-saved = Last saved { $at } (version { $version }).
form-signed-in-as = Signed in as { $admin }
form-not-done = Not done: correct the fields marked above.
form-log-in-again = Log in again
form-conflict-keep = Keep my edits on top of that version
form-conflict-discard = Discard my edits
form-note-kept = Your edits now apply on top of version { $version }. Check them, then save.
form-note-taken = The form now shows version { $version }.
form-mailbox-heading = Connected mailbox
form-mailbox-unsaved = Save the settings with Sign in as a mailbox, then sign in here.
form-mailbox-connected = Connected:{" "}
form-mailbox-connected-by = , by { $by } { $at }
form-mailbox-unnamed = a mailbox (the provider did not name it)
form-disconnect = Disconnect
form-mailbox-mismatch = Warning: Email Account differs from the connected mailbox { $mailbox }: the server refuses a token for another account. Use { $mailbox }, or sign in as the Email Account.
form-mailbox-none = No mailbox connected: Mailroom cannot send until one signs in.
form-sign-in-with = Sign in with { $brand }
form-the-provider = the provider
form-mailbox-dirty = The sign-in uses the saved settings: save your changes first.
form-tested-ok = ✓ These values passed a test at { $at }.
form-tested-changed = These values changed since they passed a test at { $at }: test again before saving.
form-sending = Sending a test mail through { $server }… (at most { $seconds } s)
form-stale = Old result:{" "}
form-stale-text = for the values at { $at } ({ $changed }). The form holds other values now: test again.
form-then-test-again = {" "}then test again.
form-save-these = Save these settings
