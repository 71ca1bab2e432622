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
