# Settings › Mail Templates.

templates-title = Mail Templates
templates-lead-before = What each mail Mailroom sends says, in each language. The values in{" "}
templates-lead-after = {" "}are filled in when the mail is sent; the preview shows them with sample values. A template is checked before it is saved.
templates-not-loaded = The templates could not be loaded:{" "}
templates-choices = Mails and languages
templates-saved = Template saved. The next mail of this kind uses it.
templates-is-default = This is the default that ships with Mailroom.
templates-is-own = Saved by an admin; “Reset to default” brings the default back.
templates-subject = Subject
templates-text = Plain-text body
templates-html = HTML body
templates-html-hint = Optional. Every value is escaped; leave it empty to send plain text only.
templates-save = Save
templates-send-preview = Send this preview to me
templates-reset = Reset to default
templates-variables = Variables
templates-variables-write = Write
templates-variables-what = What it is
templates-variables-sample = Sample
templates-variables-list = (a list: see the preview)
templates-preview = Preview, with the sample values
templates-preview-subject = Subject:{" "}
templates-preview-html = HTML body

# The mails, by their id.
mail-test-mail = Test Email Server
mail-queue-test = Test through the queue
mail-password-reset = Forgotten password
mail-alert = Alert (firing or resolved)
mail-alert-group = Alerting tool notification (firing or resolved)

# What each variable is (beside the editor).
var-host = the mail server's Host Name
var-port = its Port
var-encryption = "none", "starttls" or "ssl"
var-account = the Email Account signed in with; empty without sign-in
var-email = the admin's address
var-reset-link = the single-use link
var-valid-minutes = how long the link works, in minutes
var-firing = true while the alert fires, false once it resolved
var-title = what fired, in the sender's words (one line)
var-severity = "critical", "warning" or "info"
var-value = the measured value; may be empty
var-threshold = the threshold it crossed; may be empty
var-link = an http(s) address with the details; may be empty
var-description = what happened and what to do, in the sender's words; may be empty
var-repeat = how often a firing alert is mailed again, in words
var-key = the alert's key (storm control)
var-group-firing = true while any alert of the group fires
var-group-title = the group: its labels' values, or the tool's title (one line)
var-source = the tool: Alertmanager, Grafana, Uptime Kuma or Zabbix
var-firing-count = how many of its alerts fire
var-resolved-count = how many resolved
var-message = the tool's message for the whole notification; may be empty
var-alerts = the alerts, each with firing, name, summary, description, started, ended, values, labels (name, value) and links (label, url)
var-left-out = how many alerts were left out of the mail (too many in one notification)
var-external = the tool's own address; may be empty
var-group-repeat = how often an unchanged group is mailed again, in words

# Said by the page's script when a save does not go through.
templates-js-conflict = This template was saved elsewhere after you opened this page, so yours was not saved. Copy your text, reload the page, and apply it again.
templates-js-session-ended = Your session has ended: log in again (copy your text first).
templates-js-refused = Not saved: the server refused it. Your text is still here.
templates-js-unreachable = The server could not be reached; your text is still here. Try again.

# A template's problems, where they are: "Plain-text body, line 2: Syntax error (…)."
problem-at-line = { $part }, line { $line }: { $problem }
problem-in = { $part }: { $problem }
problem-subject-lines = A subject is one line; remove the line break.
problem-subject-empty = The subject is empty; write one.
problem-text-empty = The plain-text body is empty; every mail has one.
problem-too-long = Too long: at most { $kb } KB.
problem-syntax = Syntax error{ $detail }.
problem-unknown = Unknown variable{ $detail }: use one of those listed beside the editor.
problem-work = It does too much work (a loop too long?); simplify it.
problem-large = The mail would be larger than { $kb } KB; shorten it.
problem-include = Other templates cannot be included; write the text here.
problem-unavailable = Not available in mail templates{ $detail }.
problem-not-text = The result is not text.
templates-nothing-saved = Nothing was saved:{" "}
templates-nothing-sent = Nothing was sent:{" "}
