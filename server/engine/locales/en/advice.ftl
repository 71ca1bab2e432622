# What to do about a failed test (Settings › Mail Server, the test's result). The first five are
# the product's troubleshooting table, word for word.

advice-verify-server = Verify that the SMTP address, port, account, and password are correct.
advice-firewall = Ensure the server is not blocked by a firewall.
advice-third-party = Ensure the SMTP account allows third-party application access and try using an authorization code instead of a password.
advice-ports = Try using 25 / 465 / 587 or check the email provider’s documentation.
advice-tls = Enable or disable TLS/SSL as required by the email provider.

advice-dns = Check the spelling of { $host }.
advice-refused = Nothing accepts connections on port { $port }.
advice-ssl-on-plain-port = Turn off “Use SSL”: port { $port } answers unencrypted. Use STARTTLS (usually port 587), or SSL on port 465.
advice-plain-on-ssl-port = Turn on “Use SSL” (and off STARTTLS): port { $port } expects encryption from the first byte.
advice-private-ca = If the server uses a private CA, paste that CA’s certificate under Advanced › Trusted CA certificate (PEM).
advice-skip-verify = “Skip certificate verification” makes the test pass but lets anyone on the network read the password: use it only to diagnose.
advice-certificate-expired = The server’s certificate has expired: ask the mail server’s administrator to renew it.
advice-certificate-wrong-name = The certificate does not name { $host }: use the host name written on the certificate (often the provider’s documented SMTP host).
advice-helo = Set a HELO name under Advanced that the server accepts, such as this machine’s public DNS name.
advice-starttls-not-offered = Turn off STARTTLS and use SSL on port 465 if the provider offers it; use no encryption only if the provider documents that.
advice-auth-needs-encryption = Many servers offer login only over an encrypted connection: turn on STARTTLS (port 587) or SSL (port 465).
advice-no-known-auth = The server offers no login method Mailroom knows; Mailroom logs in with PLAIN or LOGIN. Ask the provider for SMTP AUTH PLAIN/LOGIN access.
advice-unsupported-auth = The server offers { $offered }; Mailroom logs in with PLAIN or LOGIN. Ask the provider for SMTP AUTH PLAIN/LOGIN access.
advice-m365-smtp-auth-off = Microsoft 365 has SMTP AUTH turned off (535 5.7.139): in the Microsoft 365 admin center open Users › Active users › this mailbox › Mail › Manage email apps and tick “Authenticated SMTP”.
advice-m365-tenant-smtp-auth = If it is off for the whole tenant, an Exchange admin turns it on with Set-TransportConfig -SmtpClientAuthenticationDisabled $false (Exchange admin center › Settings › Mail flow: “Turn off SMTP AUTH protocol for your organization” unticked). Security defaults must also allow it.
advice-m365-basic-auth-ends = Microsoft ends password sign-in for SMTP AUTH in existing tenants after December 2026.
advice-token-endpoint = Check the token endpoint: the provider preset fills it (Microsoft 365: https://login.microsoftonline.com/{"{"}tenant{"}"}/oauth2/v2.0/token, with your tenant ID or domain as Tenant).
advice-token-endpoint-reach = This server must reach the provider over HTTPS (port 443): check the firewall and any proxy.
advice-oauth-client = Check Client ID and Client secret: use the secret’s value (shown once when it was created), not its ID, and check that it has not expired (Microsoft Entra admin center › App registrations › the app › Certificates & secrets).
advice-oauth-tenant = Check Tenant: the app must be registered in that tenant.
advice-mailbox-refused = The provider refused the mailbox's sign-in: check that the app may ask for the scopes (Microsoft 365: the delegated permission SMTP.Send; Google: https://mail.google.com/ on the OAuth consent screen) and that the mailbox consented.
advice-mailbox-scopes = Check Scopes: the provider preset fills them for a mailbox; offline access is asked for by Mailroom.
advice-mailbox-connect = Connect the mailbox: save the settings, then use “Sign in” under Connected mailbox, below the form, and sign in as the Email Account.
advice-mailbox-expired = A connection that worked before ends when the mailbox's password changes, consent is revoked, or it goes unused for 90 days (Microsoft) or 6 months (Google): sign in again.
advice-app-permission = The app may lack the permission or its consent: for Microsoft 365 grant the application permission SMTP.SendAsApp (Office 365 Exchange Online) with admin consent, and register the app's service principal in Exchange (New-ServicePrincipal, then Add-MailboxPermission for the mailbox).
advice-app-scopes = Check Scopes: Microsoft 365 app-only sign-in uses https://outlook.office365.com/.default.
advice-auth-required = This server accepts mail only after sign-in: choose Authentication “Password” and enter the account and its password.
advice-relay = If { $host } should relay for this server without sign-in, ask its admin to allow this server's address (relays usually listen on port 25 inside the network).
advice-from-account = Many providers accept only the account itself as From: set Email “From” Address to { $account }.
advice-relay-from = The relay refuses this From address: use an address of a domain it sends for.
advice-recipient = Check the recipient address (“Send test to”); the server may also refuse outside recipients for this account.
advice-not-a-mail-server = Check that { $host }, port { $port }, is your mail server: no mail server answers at such length.
advice-authorization-code = 163, 126, QQ and Sina mail need an authorization code (generated in the mailbox’s SMTP settings), not the login password.
advice-gmail-app-password = Gmail needs an app password (Google Account › Security › App passwords).
advice-m365-basic-auth = Microsoft 365 may have basic authentication (SMTP AUTH) turned off for the mailbox or the whole tenant.

## What happened: a test's one sentence (the outbox keeps it in English). { $answer } is the
## server's reply (or what went wrong instead), { $reason } a library's own words.

summary-accepted = Accepted by the server in { $seconds } s; check the inbox and spam folder of { $recipient }.
summary-no-answer = No answer within { $seconds } seconds while { $doing }.
summary-reply-too-long = The server's reply was longer than any mail server's (over { $kib } KiB, { $lines } lines, or a line over 1000 bytes) while { $doing }.
summary-dns-failed = The host name { $host } could not be resolved ({ $reason }).
summary-dns-no-address = The host name { $host } has no address.
summary-connection-refused = { $address } refused the connection: no mail server listens on that port.
summary-connect-timed-out = Connecting to { $address } timed out.
summary-connect-failed = Could not connect to { $address }: { $reason }.
summary-ssl-on-plain-port = SSL is on, but port { $port } answered without encryption (it expects STARTTLS or plain SMTP).
summary-plain-on-ssl-port = Port { $port } expects SSL (implicit TLS): it waits for encryption and never greets a plain connection.
summary-certificate-expired = The server's certificate has expired.
summary-certificate-wrong-name = The server's certificate is for a different host name.
summary-certificate-untrusted = The server's certificate is not trusted ({ $reason }).
summary-tls-handshake = The TLS handshake failed: { $reason }.
summary-tls-setup = TLS could not be set up: { $reason }
summary-ca-unreadable = The trusted CA certificate could not be read: { $reason }
summary-no-greeting = The server did not greet in time.
summary-greeting-refused = The server refused the connection: the server answered { $answer }
summary-greeting-closed = The server closed the connection without a proper greeting ({ $reason }).
summary-ehlo-rejected = EHLO was rejected: the server answered { $answer }
summary-starttls-not-offered = STARTTLS is on, but the server does not offer STARTTLS on this port.
summary-auth-not-offered = The server does not offer login (AUTH) on this connection.
summary-auth-not-offered-plain = The server does not offer login (AUTH) before encryption.
summary-no-plain-login = The server offers only { $offered } for login; Mailroom supports PLAIN and LOGIN.
summary-no-xoauth2 = The server offers only { $offered } for login; Mailroom signs in with OAuth2 by XOAUTH2.
summary-login-rejected = The login was rejected: the server answered { $answer }
summary-sign-in-required = The server asks for sign-in: the server answered { $answer }
summary-from-unusable = The From address cannot be used: { $reason }
summary-sender-rejected = The sender was rejected: the server answered { $answer }
summary-recipient-rejected = The recipient { $recipient } was rejected: the server answered { $answer }
summary-address-unusable = The address { $address } cannot be used: { $reason }
summary-message-unbuilt = The test message could not be built: { $reason }
summary-message-rejected = The message was rejected: the server answered { $answer }
summary-no-http-client = No HTTP client for the token endpoint: { $reason }.
summary-token-url-invalid = The token endpoint { $endpoint } is not a URL: { $reason }.
summary-token-refused = The token endpoint refused the request: { $reason }.
summary-token-unreachable = The token endpoint { $endpoint } could not be reached: { $reason }.
summary-token-no-token = The token endpoint { $endpoint } did not answer with a token: { $reason }.
summary-token-failed = The token endpoint { $endpoint } failed: { $reason }.
summary-oauth-not-set-up = OAuth2 is chosen but not set up.
summary-no-mailbox = No mailbox is connected: sign in with the provider first (Connected mailbox, under the form).
summary-no-refresh-token = The provider signed in but sent no refresh token: Mailroom could not send later. Check that the scopes allow offline access.
summary-redirect-invalid = The redirect URI is not a URL: { $reason }.

## What Mailroom was doing (the { $doing } above)

doing-token = getting an OAuth2 token
doing-dns = looking up the host name
doing-connect = connecting (a firewall may be dropping the connection)
doing-tls = setting up encryption
doing-greeting = waiting for the server's greeting
doing-ehlo = introducing Mailroom (EHLO)
doing-starttls = introducing Mailroom (EHLO/STARTTLS)
doing-auth = logging in
doing-mail-from = giving the sender
doing-rcpt-to = giving the recipient
doing-data = starting the message (DATA)
doing-body = sending the message
