# Settings › Mail Activity.

activity-title = Mail Activity
activity-lead = Every message Mailroom was asked to send (alerts, forgotten-password emails, mail from other services) and what became of it.
activity-not-loaded = The messages could not be loaded:{" "}
activity-live = The list updates every { $seconds } seconds.
# How the notes name a message.
activity-named = to { $to } “{ $subject }”
activity-nothing-to-cancel = Message { $message } is { $state } now: there is nothing to cancel.
activity-cancel-question = Cancel the message { $message }?
activity-cancel-consequence = It will not be sent. Until it expires it can be queued again from this page.
activity-keep-queued = Keep it queued
activity-cancel-this = Cancel this message
activity-cancelled = Message { $message } cancelled: it will not be sent.
activity-undo = Undo: queue it again
activity-retried-before = Message { $message } queued again; it is now under{" "}
activity-retried-after = .
activity-all = All ({ $count })
activity-state-count = { $state } ({ $count })
activity-newest = Newest messages
activity-older = Older messages
activity-by-state = Messages by state
activity-find = Find by recipient or subject
activity-search = Search
activity-retry-failed = Retry all failed ({ $count })
activity-resume = Resume delivery
activity-none = No messages here yet.
activity-no-match = No message matches this search.
activity-list = Messages, newest first
activity-transcript = Transcript of the last attempt
activity-transcript-note = C: Mailroom, S: the mail server. Passwords and the message itself are left out.
activity-asked-by = Asked by
activity-source = Source
activity-group = Alert group
activity-queued = Queued
activity-next-try = Next try
activity-message-id = Message id
activity-queue-id = Server's queue id
activity-not-tried = Not tried yet.
activity-attempts = Attempts
activity-when = When
activity-step = Step
activity-code = Code
activity-server-said = The server said
activity-means = What this means:{" "}
activity-retry-now = Retry now
activity-cancel-sending = Cancel sending…

# A message's state.
state-queued = Queued
state-sending = Sending
state-sent = Sent
state-deferred = Deferred
state-failed = Failed
state-uncertain = Uncertain
state-expired = Expired
state-cancelled = Cancelled

# Who asked for a message ("Asked by").
origin-system = the system
origin-password-reset = Forgot password
origin-token = API token “{ $name }”
origin-queue-test = Test through the queue, by { $admin }
origin-template-preview = Preview of the template { $mail }, by { $admin }
origin-webhook = { $source } webhook, API token “{ $name }”
origin-smtp = SMTP from { $client }, API token “{ $name }”
origin-smtp-message-id = SMTP from { $client }, API token “{ $name }”, Message-ID { $id }

# What a refusal means ("What this means:"), by its enhanced status code or reply code.
meaning-no-mailbox = The recipient’s mailbox does not exist at that server: check the address for a typo. Sending it again will not help.
meaning-no-domain = The recipient’s domain does not exist or takes no mail: check the part after the @.
meaning-bad-recipient = The server finds the recipient’s address malformed: check it.
meaning-bad-sender = The server refuses the sender: set Email “From” Address to the account’s own address (or one it may send as).
meaning-mailbox-disabled = The recipient’s mailbox is disabled or not accepting mail.
meaning-mailbox-full = The recipient’s mailbox is full.
meaning-too-large = The message is larger than the server accepts.
meaning-smtp-auth-off = SMTP sign-in (SMTP AUTH) is turned off for this mailbox or tenant: an administrator of the mail service has to turn it on, or use OAuth2.
meaning-login-refused = The mail server refused the login: check Email Account and Password (many providers want an app password or authorization code).
meaning-login-needed = The server wants a login before it takes mail: set Email Account and Password.
meaning-relaying-denied = The server refuses to pass the mail on (relaying denied): this account may not send to that recipient, or it needs to log in first.
meaning-policy = The server refuses the message by its policy (sender, recipient or content).
meaning-unauthenticated-domain = The receiving side found the sender’s domain unauthenticated (SPF, DKIM or DMARC): the From address’s domain has to allow this server.
meaning-unreachable = The server could not be reached or closed the connection: a temporary problem, Mailroom tries again.
meaning-temporary = A temporary refusal: Mailroom tries again later by itself.

# Refusals of Mail Activity's actions.
activity-refused-expired = Message { $id } has expired: it is too late to send it, so it stays cancelled.
activity-refused-not-retryable = Message { $id } is “{ $state }” and cannot be retried now.
activity-refused-no-body = The text of message { $id } was removed after the retention period; it cannot be sent again.
activity-no-such-message = There is no message { $id }.
activity-refused-not-waiting = Message { $id } is not waiting to be sent, so there is nothing to cancel.
