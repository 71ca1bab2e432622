# Settings › Mail Server: the parts rendered on the server (the form itself is the island's).

mail-title = Mail Server
mail-lead = The SMTP server Mailroom uses to send alert notifications and forgotten-password emails.
mail-not-loaded = The settings could not be loaded:{" "}
mail-managed-title = Managed by configuration
mail-managed-lead = These settings come from the server's configuration and cannot be changed here: change them where Mailroom is deployed, then restart it. Test Email Server still sends a test with them; the fields not listed keep their defaults.
mail-managed-caption = What sets each field
mail-managed-field = Field
mail-managed-set-by = Set by
mail-queue-test-title = Test the way real mail goes
mail-queue-test-lead = Test Email Server sends at once with the values in the form. Alerts and forgotten-password emails go through the outbox with the saved settings: send a test that way to your own address, then follow it in Mail Activity.
mail-queue-test-button = Send a test through the queue

# The change history's lines (worded on the server). { $field } is the field's label.
change-created = created the mail settings
change-set = { $field }: “{ $from }” → “{ $to }”
change-replaced = { $field } changed
change-unchanged = saved without changes
change-token-created = created the API token “{ $name }”
change-token-revoked = revoked the API token “{ $name }”
change-mailbox-connected = connected the mailbox “{ $account }” (OAuth2)
change-mailbox-disconnected = disconnected the mailbox “{ $account }”
change-template-unchanged = saved the mail template “{ $mail }” ({ $lang }) without changes
change-template-saved = changed the mail template “{ $mail }” ({ $lang }): { $diff }
change-template-reset = put the mail template “{ $mail }” ({ $lang }) back to the default

# Refusals of the page's actions.
mail-managed-refused = These settings are managed by configuration ({ $source } and the others shown): change them there and restart Mailroom.
mail-queue-test-save-first = Save the mail settings first: the queue sends with the saved settings.
mail-sign-in-save-first = Save the mail settings first: the sign-in uses the saved app.
mail-sign-in-not-mailbox = The saved settings do not sign in as a mailbox: choose Authentication OAuth2 and Sign in as a mailbox, save, then sign in.

## Test Email Server's report, the test history, the change history and a refused save's notice: rendered on the server

diagnosis-dns-lookup = DNS lookup failed
diagnosis-connection-refused = Connection refused
diagnosis-connection-timed-out = Connection timed out
diagnosis-ssl-on-plain-port = SSL is on, but this port does not speak SSL
diagnosis-plain-on-ssl-port = This port expects SSL (implicit TLS)
diagnosis-certificate-untrusted = Certificate not trusted
diagnosis-certificate-expired = Certificate expired
diagnosis-certificate-wrong-name = Certificate is for another name
diagnosis-tls-handshake = TLS handshake failed
diagnosis-greeting = No or refused greeting
diagnosis-ehlo = EHLO rejected
diagnosis-start-tls-not-offered = STARTTLS not offered
diagnosis-auth-not-offered = Login (AUTH) not offered
diagnosis-no-supported-auth = No supported login method
diagnosis-auth-rejected = Login rejected
diagnosis-auth-required = The server asks for sign-in
diagnosis-token-endpoint = Token endpoint unreachable
diagnosis-oauth-client-rejected = App credentials rejected
diagnosis-oauth-refused = Token refused
diagnosis-mailbox-sign-in = Mailbox not signed in
diagnosis-sender-rejected = Sender rejected
diagnosis-recipient-rejected = Recipient rejected
diagnosis-message-rejected = Message rejected
diagnosis-reply-too-long = Reply too long
form-history-title = Change history
form-history-none = No saves yet.
form-last-failed = Last test failed: { $title } ({ $at }).
form-last-success = Last successful test: { $at } ({ $server }).
form-not-tested = Not tested yet.
form-no-success = No test has succeeded yet.
form-test-accepted = Test email accepted
form-test-failed = Test failed: { $title }
form-server-reply = Server reply:{" "}
form-at-fault = Most likely at fault:{" "}
form-details = { $server } with { $encryption }, to { $recipient }, in { $ms } ms.
form-transcript = SMTP transcript
form-conflict-not-saved = Not saved.{" "}
form-conflict-who = { $who } saved these settings at { $at } after you opened this page.
form-conflict-someone = Someone
form-conflict-you = You (in another tab or window)
form-conflict-changes = What changed: { $changes }.
form-conflict-no-field = no field
