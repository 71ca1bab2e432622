#!/usr/bin/env python3
"""A real SMTP server on loopback for Mailroom's tests (aiosmtpd).

Starts several listeners, each showing one behaviour, and prints one JSON line on stdout with
their ports, the throwaway CA's PEM path and the spool directory, then serves until stdin closes
or SIGTERM arrives.

  plain        plain SMTP, AUTH allowed without TLS, no STARTTLS
  starttls     STARTTLS offered (not required); AUTH only after TLS
  ssl          implicit TLS; AUTH
  ssl_expired  implicit TLS with an expired certificate
  ssl_wrongname implicit TLS with a certificate for other.example only
  cram_only    plain, AUTH offered with CRAM-MD5 only
  refuse       greets with 554 and closes
  silent       accepts connections and never says anything
  ehlo_silent  greets, then never answers EHLO
  many_lines   greets with a 100 kB reply of short lines (hostile)
  no_newline   greets with a line that never ends (hostile: bytes until the client leaves)
  ssl_many_lines implicit TLS, then the 100 kB many-line greeting
  closed       a port nobody listens on
  auth_required  answers MAIL FROM before a login with 530 (a submission server)
  flaky        hangs up on its first two connections (a server that is down), then acts as plain
  counted      as plain; counts its connections ("connections:counted" in the stats below)
  one_per_session  as plain, but closes the connection after each accepted message (a server
               that ends idle sessions); counts its connections too
  oauth        an OAuth2 authorization server (HTTP): POST /{tenant}/oauth2/v2.0/token with the
               client_credentials, authorization_code (PKCE S256 checked) and refresh_token
               grants; GET /{tenant}/oauth2/v2.0/authorize, which approves at once (no login
               page) and redirects back with a code; POST /revoke (client_id) withdraws every
               refresh token of a client, as a revoked consent. Its access tokens are accepted
               by the SMTP listeners with AUTH XOAUTH2 (a mailbox's only for its own account).

OAuth2 clients (any id with these prefixes, so tests can use their own), secret app-secret:
app-* tokens for an hour; short-* tokens for one second (every send needs a new one); stale-*
its first token is refused by SMTP with 535, as a token revoked at the server would be; deny-*
the authorization endpoint answers access_denied (the user refused consent). Any other client
or secret is invalid_client (401, Microsoft's AADSTS7000215 text). A mailbox signs in as the
login_hint (else mailbox@example.com); the id token names it (email), the refresh token is
rotated on every use (the old one stays valid, as Microsoft's do). GET / answers how many tokens
each client id was issued, "code:ID" / "refresh:ID" how many by each grant, and
"connections:NAME" how many connections the counting listeners took.

Accounts: alerts@example.com / correct-password, apikey / correct-password, and
no-relay@example.com / correct-password, which may log in but not send outside example.com
(RCPT to another domain -> 550 5.7.1 relaying denied, as a mailbox without send rights);
smtp-off@example.com is refused with Microsoft 365's 535 5.7.139 (SMTP AUTH turned off).
Hooks: MAIL FROM not equal to the account -> 553; RCPT reject-rcpt@... -> 550;
RCPT reject-data@... -> accepted, then 554 after DATA; RCPT defer-once-*@... -> 451 the first
time that address is seen, accepted afterwards; RCPT quota@... -> accepted, then Gmail's daily
limit (550 5.4.5) after DATA; RCPT drop-after-dot@... -> the connection is closed after the
message's final dot, without an answer. Accepted messages land in the spool.
"""

import asyncio
import base64
import datetime
import hashlib
import http.server
import threading
import time
import urllib.parse
import ipaddress
import json
import os
import signal
import socket
import ssl
import sys
import tempfile
import uuid
import warnings

from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

warnings.filterwarnings("ignore", message=".*login_data is deprecated.*")

ACCOUNTS = {
    "alerts@example.com": "correct-password",
    "apikey": "correct-password",
    "no-relay@example.com": "correct-password",
}

# OAuth2: client id -> (secret, token lifetime in seconds).
OAUTH_CLIENTS = {
    "app-": ("app-secret", 3600),
    "short-": ("app-secret", 1),
    "stale-": ("app-secret", 3600),
    "deny-": ("app-secret", 3600),
}
# Access token -> (client id, expiry as time.time(), the mailbox or None for an app); tokens
# issued per client; authorization codes -> (client, redirect_uri, code_challenge, mailbox);
# refresh tokens -> (client, mailbox).
TOKENS = {}
ISSUED = {}
CODES = {}
REFRESH = {}
TOKENS_LOCK = threading.Lock()


def known_client(client):
    return next((v for k, v in OAUTH_CLIENTS.items() if client.startswith(k)), None)


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def id_token(mailbox):
    """An unsigned id token naming the mailbox (Mailroom reads it from the token endpoint)."""
    head = b64url(json.dumps({"alg": "none", "typ": "JWT"}).encode())
    body = b64url(json.dumps({"iss": "mailroom-test-peer", "email": mailbox, "sub": mailbox}).encode())
    return f"{head}.{body}."


class TokenEndpoint(http.server.BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def answer(self, status, body):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        url = urllib.parse.urlsplit(self.path)
        if not url.path.endswith("/authorize"):
            with TOKENS_LOCK:
                return self.answer(200, dict(ISSUED))
        q = {k: v[0] for k, v in urllib.parse.parse_qs(url.query).items()}
        client, redirect = q.get("client_id", ""), q.get("redirect_uri", "")
        if not known_client(client) or not redirect.startswith("http"):
            # As providers do: an unknown app or redirect gets an error page, not a redirect.
            return self.answer(400, {"error": "invalid_request", "error_description": "unknown client or redirect_uri"})
        if q.get("response_type") != "code" or q.get("code_challenge_method") != "S256" or not q.get("code_challenge"):
            answer = {"error": "invalid_request", "error_description": "code with PKCE S256 expected"}
        elif client.startswith("deny-"):
            answer = {"error": "access_denied", "error_description": "The user declined to consent."}
        else:
            code = "code-" + uuid.uuid4().hex
            with TOKENS_LOCK:
                CODES[code] = (client, redirect, q["code_challenge"], q.get("login_hint") or "mailbox@example.com")
            answer = {"code": code}
        answer["state"] = q.get("state", "")
        self.send_response(302)
        self.send_header("Location", redirect + ("&" if "?" in redirect else "?") + urllib.parse.urlencode(answer))
        self.send_header("Content-Length", "0")
        self.end_headers()

    def do_POST(self):
        length = int(self.headers.get("Content-Length", "0"))
        form = urllib.parse.parse_qs(self.rfile.read(length).decode())
        one = lambda k: (form.get(k) or [""])[0]
        if self.path.endswith("/revoke"):
            with TOKENS_LOCK:
                for rt in [rt for rt, (c, _) in REFRESH.items() if c == one("client_id")]:
                    del REFRESH[rt]
            return self.answer(200, {})
        client, secret = one("client_id"), one("client_secret")
        auth = self.headers.get("Authorization", "")
        if auth.startswith("Basic "):
            client, _, secret = base64.b64decode(auth[6:]).decode().partition(":")
            client, secret = urllib.parse.unquote(client), urllib.parse.unquote(secret)
        grant = one("grant_type")
        if grant not in ("client_credentials", "authorization_code", "refresh_token"):
            return self.answer(400, {"error": "unsupported_grant_type"})
        known = known_client(client)
        if not known or known[0] != secret:
            return self.answer(401, {
                "error": "invalid_client",
                "error_description": "AADSTS7000215: Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID.",
            })
        mailbox, extra = None, {}
        with TOKENS_LOCK:
            if grant == "authorization_code":
                found = CODES.pop(one("code"), None)
                verifier = one("code_verifier").encode()
                challenge = b64url(hashlib.sha256(verifier).digest())
                if not found or found[0] != client or found[1] != one("redirect_uri") or found[2] != challenge:
                    return self.answer(400, {"error": "invalid_grant", "error_description": "code, redirect_uri or code_verifier wrong"})
                mailbox = found[3]
                extra["id_token"] = id_token(mailbox)
            elif grant == "refresh_token":
                if not one("scope"):
                    # As Microsoft's endpoint: the scopes say which resource the token is for.
                    return self.answer(400, {"error": "invalid_request", "error_description": "AADSTS90009: scope required"})
                found = REFRESH.get(one("refresh_token"))
                if not found or found[0] != client:
                    return self.answer(400, {
                        "error": "invalid_grant",
                        "error_description": "AADSTS70000: The provided grant has expired or was revoked.",
                    })
                mailbox = found[1]
            if mailbox:
                rt = "rt-" + uuid.uuid4().hex
                REFRESH[rt] = (client, mailbox)
                extra["refresh_token"] = rt
                key = ("code:" if grant == "authorization_code" else "refresh:") + client
                ISSUED[key] = ISSUED.get(key, 0) + 1
            token = "at-" + uuid.uuid4().hex
            ISSUED[client] = ISSUED.get(client, 0) + 1
            first = ISSUED[client] == 1
            # stale-*: its first token is known to be bad at the SMTP server.
            if not (client.startswith("stale-") and first):
                TOKENS[token] = (client, time.time() + known[1], mailbox)
        self.answer(200, {"token_type": "Bearer", "expires_in": known[1], "access_token": token, **extra})


def start_token_endpoint():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), TokenEndpoint)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server.server_address[1]


def xoauth2_user(args):
    """The user of a valid XOAUTH2 initial response, or None."""
    if len(args) < 2:
        return None
    try:
        fields = base64.b64decode(args[1]).decode().split("\x01")
    except ValueError:
        return None
    user = next((f[5:] for f in fields if f.startswith("user=")), None)
    bearer = next((f[12:] for f in fields if f.startswith("auth=Bearer ")), None)
    with TOKENS_LOCK:
        known = TOKENS.get(bearer)
    # A mailbox's token signs in only as that mailbox.
    if user and known and known[1] > time.time() and known[2] in (None, user):
        return user
    return None


# Logins that are refused the way Microsoft 365 refuses a mailbox with SMTP AUTH turned off.
SMTP_AUTH_DISABLED = {"smtp-off@example.com"}


def make_ca():
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Mailroom Test CA")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(True, False, False, False, False, True, True, False, False), critical=True
        )
        .sign(key, hashes.SHA256())
    )
    return key, cert


def make_leaf(ca_key, ca_cert, names, expired=False):
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.datetime.now(datetime.timezone.utc)
    if expired:
        start, end = now - datetime.timedelta(days=60), now - datetime.timedelta(days=30)
    else:
        start, end = now - datetime.timedelta(days=1), now + datetime.timedelta(days=30)
    sans = []
    for n in names:
        try:
            sans.append(x509.IPAddress(ipaddress.ip_address(n)))
        except ValueError:
            sans.append(x509.DNSName(n))
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, names[0])]))
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(end)
        .add_extension(x509.SubjectAlternativeName(sans), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .sign(ca_key, hashes.SHA256())
    )
    return key, cert


def write_pair(directory, stem, key, cert):
    cert_path = os.path.join(directory, stem + ".pem")
    key_path = os.path.join(directory, stem + ".key")
    with open(cert_path, "wb") as f:
        f.write(cert.public_bytes(serialization.Encoding.PEM))
    with open(key_path, "wb") as f:
        f.write(
            key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )
    return cert_path, key_path


def server_context(cert_path, key_path):
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(cert_path, key_path)
    return ctx


def authenticator(server, session, envelope, mechanism, auth_data):
    if isinstance(auth_data, LoginPassword):
        user = auth_data.login.decode()
        if user in SMTP_AUTH_DISABLED:
            return AuthResult(
                success=False,
                handled=False,
                message="535 5.7.139 Authentication unsuccessful, SmtpClientAuthentication is disabled for the Tenant.",
            )
        if ACCOUNTS.get(user) == auth_data.password.decode():
            return AuthResult(success=True, auth_data=user)
    # handled=False lets aiosmtpd answer 535; True without a reply would hang the client.
    return AuthResult(success=False, handled=False)


class Handler:
    def __init__(self, spool):
        self.spool = spool
        self.deferred_once = set()

    async def handle_MAIL(self, server, session, envelope, address, mail_options):
        login = session.auth_data if isinstance(session.auth_data, str) else None
        if login and "@" in login and address.lower() != login.lower():
            return "553 5.7.1 Sender address rejected: From must equal the authenticated account"
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 2.1.0 Ok"

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        login = session.auth_data if isinstance(session.auth_data, str) else None
        if login == "no-relay@example.com" and not address.lower().endswith("@example.com"):
            return "550 5.7.1 Relaying denied: no-relay@example.com may not send outside example.com"
        if address.lower().startswith("reject-rcpt@"):
            return "550 5.1.1 Recipient address rejected: User unknown in virtual mailbox table"
        if address.lower().startswith("defer-once-") and address.lower() not in self.deferred_once:
            self.deferred_once.add(address.lower())
            return "451 4.3.0 Temporary lookup failure, try again later"
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 Ok"

    async def handle_DATA(self, server, session, envelope):
        if any(r.lower().startswith("reject-data@") for r in envelope.rcpt_tos):
            return "554 5.7.1 Message rejected: content policy"
        if any(r.lower().startswith("quota@") for r in envelope.rcpt_tos):
            return "550 5.4.5 Daily user sending limit exceeded. For more information on Gmail sending limits, go to https://support.google.com/a/answer/166852"
        if any(r.lower().startswith("drop-after-dot@") for r in envelope.rcpt_tos):
            server.transport.close()
            return "250 2.0.0 never heard"
        if getattr(server, "one_per_session", False):
            # Closed once the reply below is written (close() flushes what is buffered).
            asyncio.get_running_loop().call_soon(server.transport.close)
        queue_id = uuid.uuid4().hex[:12].upper()
        path = os.path.join(self.spool, queue_id + ".eml")
        with open(path + ".tmp", "wb") as f:
            f.write(envelope.original_content or envelope.content)
        os.replace(path + ".tmp", path)
        with open(os.path.join(self.spool, queue_id + ".json"), "w") as f:
            json.dump({"mail_from": envelope.mail_from, "rcpt_tos": envelope.rcpt_tos}, f)
        return f"250 2.0.0 Ok: queued as {queue_id}"


    async def auth_XOAUTH2(self, server, args):
        user = xoauth2_user(args)
        if user is None:
            return AuthResult(success=False, handled=False, message="535 5.7.3 Authentication unsuccessful")
        return AuthResult(success=True, auth_data=user)


class CramOnlyHandler(Handler):
    async def auth_CRAM__MD5(self, server, args):
        await server.push("535 5.7.8 CRAM-MD5 is advertised for tests only")
        return None


class Hangup(asyncio.Protocol):
    """A server that is down: the connection closes before any greeting."""

    def connection_made(self, transport):
        transport.close()


def flaky(factory, failures=2):
    seen = {"connections": 0}

    def make():
        seen["connections"] += 1
        return Hangup() if seen["connections"] <= failures else factory()

    return make


def counted(name, factory, one_per_session=False):
    """Counts the listener's connections in the stats that GET / answers."""

    def make():
        with TOKENS_LOCK:
            ISSUED[f"connections:{name}"] = ISSUED.get(f"connections:{name}", 0) + 1
        protocol = factory()
        protocol.one_per_session = one_per_session
        return protocol

    return make


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def main():
    work = tempfile.mkdtemp(prefix="mailroom-smtp-")
    spool = os.path.join(work, "spool")
    os.makedirs(spool)
    ca_key, ca_cert = make_ca()
    ca_path, _ = write_pair(work, "ca", ca_key, ca_cert)
    good = write_pair(work, "good", *make_leaf(ca_key, ca_cert, ["localhost", "127.0.0.1"]))
    expired = write_pair(work, "expired", *make_leaf(ca_key, ca_cert, ["localhost", "127.0.0.1"], expired=True))
    wrong = write_pair(work, "wrong", *make_leaf(ca_key, ca_cert, ["other.example"]))

    loop = asyncio.get_running_loop()
    handler = Handler(spool)
    ports = {}

    async def listen(name, factory, ssl_ctx=None):
        srv = await loop.create_server(factory, "127.0.0.1", 0, ssl=ssl_ctx)
        ports[name] = srv.sockets[0].getsockname()[1]
        return srv

    def smtp(h=handler, **kw):
        return lambda: SMTP(h, authenticator=authenticator, hostname="peer.test", **kw)

    servers = [
        await listen("plain", smtp(auth_require_tls=False)),
        # Mail only after sign-in: MAIL FROM before AUTH is answered 530.
        await listen("auth_required", smtp(auth_require_tls=False, auth_required=True)),
        await listen("flaky", flaky(smtp(auth_require_tls=False))),
        await listen("counted", counted("counted", smtp(auth_require_tls=False))),
        await listen("one_per_session", counted("one_per_session", smtp(auth_require_tls=False), True)),
        await listen("starttls", smtp(tls_context=server_context(*good), require_starttls=False)),
        await listen("ssl", smtp(auth_require_tls=False), server_context(*good)),
        await listen("ssl_expired", smtp(auth_require_tls=False), server_context(*expired)),
        await listen("ssl_wrongname", smtp(auth_require_tls=False), server_context(*wrong)),
        await listen(
            "cram_only",
            smtp(CramOnlyHandler(spool), auth_require_tls=False, auth_exclude_mechanism=["LOGIN", "PLAIN", "XOAUTH2"]),
        ),
    ]

    class Refuse(asyncio.Protocol):
        def connection_made(self, transport):
            transport.write(b"554 5.3.2 peer.test No SMTP service here\r\n")
            transport.close()

    class Silent(asyncio.Protocol):
        pass

    servers.append(await listen("refuse", Refuse))
    servers.append(await listen("silent", Silent))

    async def serve_raw(name, talk, ssl_ctx=None):
        async def on_client(reader, writer):
            try:
                await talk(reader, writer)
            except (ConnectionError, asyncio.IncompleteReadError, ssl.SSLError):
                pass
            finally:
                writer.close()

        srv = await asyncio.start_server(on_client, "127.0.0.1", 0, ssl=ssl_ctx)
        ports[name] = srv.sockets[0].getsockname()[1]
        servers.append(srv)

    async def ehlo_silent(reader, writer):
        writer.write(b"220 peer.test ESMTP\r\n")
        await writer.drain()
        await reader.read()  # never answers; waits for the client to leave

    many = b"".join(b"220-x\r\n" for _ in range(100_000 // 7)) + b"220 peer.test\r\n"

    async def many_lines(reader, writer):
        for i in range(0, len(many), 4096):
            writer.write(many[i : i + 4096])
            await writer.drain()
        await reader.read()

    async def no_newline(reader, writer):
        writer.write(b"220 ")
        chunk = b"A" * 65536
        while True:
            writer.write(chunk)
            await writer.drain()

    await serve_raw("ehlo_silent", ehlo_silent)
    await serve_raw("many_lines", many_lines)
    await serve_raw("no_newline", no_newline)
    await serve_raw("ssl_many_lines", many_lines, server_context(*good))
    ports["closed"] = free_port()
    ports["oauth"] = start_token_endpoint()

    print(json.dumps({"ports": ports, "ca_pem": ca_path, "spool": spool}), flush=True)

    stop = asyncio.Event()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    loop.add_signal_handler(signal.SIGINT, stop.set)
    loop.add_reader(sys.stdin.fileno(), lambda: sys.stdin.read(1) or stop.set())
    await stop.wait()
    for s in servers:
        s.close()


if __name__ == "__main__":
    asyncio.run(main())
