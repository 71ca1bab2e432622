//! One SMTP session: commands parsed by `smtp-proto` (RFC 5321, pipelined), replies written
//! with its `Response` and `EhloResponse`, STARTTLS with rustls, AUTH PLAIN and LOGIN with an
//! API token as the password, and the message read under its size bound and handed to the
//! outbox, durable before the `250`. Every read has its timeout; memory per session is a line,
//! or a message up to the size bound.

use super::message::{self, Arrival};
use super::SmtpConfig;
use app::api::server::ServerContext;
use app::outbox::{Origin, Priority};
use app::store::{MailBody, NewMessage, StoreError};
use base64::{engine::general_purpose::STANDARD, Engine};
use smtp_proto::request::receiver::{DataReceiver, DummyDataReceiver, RequestReceiver};
use smtp_proto::{EhloResponse, Error as ParseError, Request, Response};
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, ReadBuf};
use tokio::net::TcpStream;
use tokio::sync::watch;

pub struct Shared {
    pub config: SmtpConfig,
    pub ctx: ServerContext,
    pub hostname: String,
    /// What every session needs from the store for each message, read once for all of them.
    pub recent: Recent,
}

/// Copies of what sessions read from the store for each message or connection, shared by the
/// listener's sessions: current while this instance wrote nothing that changes them
/// ([`app::store::Store::local_changes`]) and for at most [`FRESH`], so an admin's change or
/// a pause on another instance reaches every session within it (a message taken meanwhile
/// waits in the outbox like any other).
#[derive(Default)]
pub struct Recent {
    /// The saved settings with the outbox's pause, or why mail is not taken.
    taking: std::sync::Mutex<Option<Copy<Result<Arc<app::domain::MailServer>, Refusal>>>>,
    /// The trusted networks' token, if it exists (id and name).
    trusted: std::sync::Mutex<Option<Copy<Option<(u64, String)>>>>,
}

struct Copy<T> {
    read: std::time::Instant,
    changes: u64,
    value: T,
}

/// How long a copy in [`Recent`] is used at most.
const FRESH: Duration = Duration::from_secs(1);

impl Recent {
    /// The copy in `slot` if it is current, else `read`'s answer, kept unless it failed.
    async fn get<T: Clone, F: std::future::Future<Output = Result<T, Refusal>>>(
        slot: &std::sync::Mutex<Option<Copy<T>>>,
        store: &app::store::SharedStore,
        read: impl FnOnce() -> F,
    ) -> Result<T, Refusal> {
        // Counted before the read: a change during it leaves the copy out of date at once.
        let changes = store.local_changes();
        if let Some(copy) = &*slot.lock().unwrap_or_else(|p| p.into_inner()) {
            if copy.changes == changes && copy.read.elapsed() < FRESH {
                return Ok(copy.value.clone());
            }
        }
        let value = read().await?;
        let copy = Copy { read: std::time::Instant::now(), changes, value: value.clone() };
        *slot.lock().unwrap_or_else(|p| p.into_inner()) = Some(copy);
        Ok(value)
    }
}

const TLS_HANDSHAKE: Duration = Duration::from_secs(30);
const READ_CHUNK: usize = 16 * 1024;
/// Syntax errors and refused commands before the session is ended.
const MAX_ERRORS: usize = 20;
/// An AUTH exchange's line at most.
const MAX_AUTH_LINE: usize = 4096;

/// The connection, plain or under TLS.
enum Conn {
    Plain(TcpStream),
    Tls(Box<tokio_rustls::server::TlsStream<TcpStream>>),
    /// Between the two, during STARTTLS.
    Gone,
}

impl AsyncRead for Conn {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<std::io::Result<()>> {
        match self.get_mut() {
            Conn::Plain(s) => Pin::new(s).poll_read(cx, buf),
            Conn::Tls(s) => Pin::new(s.as_mut()).poll_read(cx, buf),
            Conn::Gone => Poll::Ready(Ok(())),
        }
    }
}

impl AsyncWrite for Conn {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<std::io::Result<usize>> {
        match self.get_mut() {
            Conn::Plain(s) => Pin::new(s).poll_write(cx, buf),
            Conn::Tls(s) => Pin::new(s.as_mut()).poll_write(cx, buf),
            Conn::Gone => Poll::Ready(Err(std::io::ErrorKind::NotConnected.into())),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        match self.get_mut() {
            Conn::Plain(s) => Pin::new(s).poll_flush(cx),
            Conn::Tls(s) => Pin::new(s.as_mut()).poll_flush(cx),
            Conn::Gone => Poll::Ready(Ok(())),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        match self.get_mut() {
            Conn::Plain(s) => Pin::new(s).poll_shutdown(cx),
            Conn::Tls(s) => Pin::new(s.as_mut()).poll_shutdown(cx),
            Conn::Gone => Poll::Ready(Ok(())),
        }
    }
}

/// Too many sessions (in all or from this address): said once, then closed.
pub async fn refuse_busy(mut stream: TcpStream, implicit_tls: bool, shared: &Shared) {
    if !implicit_tls {
        let line = format!("421 4.7.0 {} Too many connections; try again later\r\n", shared.hostname);
        let _ = tokio::time::timeout(Duration::from_secs(5), stream.write_all(line.as_bytes())).await;
    }
}

pub async fn run(stream: TcpStream, peer: SocketAddr, implicit_tls: bool, shared: Arc<Shared>, stopped: watch::Receiver<bool>) {
    let conn = if implicit_tls {
        let Some(tls) = shared.config.tls.clone() else { return };
        match tokio::time::timeout(TLS_HANDSHAKE, tokio_rustls::TlsAcceptor::from(tls).accept(stream)).await {
            Ok(Ok(tls)) => Conn::Tls(Box::new(tls)),
            _ => return,
        }
    } else {
        Conn::Plain(stream)
    };
    let mut session = Session {
        conn,
        tls: implicit_tls,
        peer,
        shared,
        helo: None,
        signed_in: None,
        transaction: None,
        commands: 0,
        errors: 0,
        out: Vec::with_capacity(512),
        pending: Vec::new(),
        chunk: vec![0u8; READ_CHUNK],
    };
    let id = session.shared.hostname.clone();
    session.reply(220, [0, 0, 0], &format!("{id} ESMTP Mailroom"));
    if let Err(end) = session.serve(stopped).await {
        tracing::debug!(client = %peer.ip(), ?end, "SMTP session ended");
    }
}

/// Why a session ended early (read through `Debug` by the session's log line).
#[derive(Debug)]
#[allow(dead_code)]
enum End {
    Closed,
    TimedOut,
    Io(std::io::ErrorKind),
    Quit,
}

impl From<std::io::Error> for End {
    fn from(e: std::io::Error) -> Self {
        End::Io(e.kind())
    }
}

/// The signed-in token.
struct SignedIn {
    id: u64,
    name: String,
    /// By its address (the trusted networks), not by a sign-in.
    trusted: bool,
}

/// A mail transaction: MAIL FROM given, recipients so far.
struct Transaction {
    recipients: Vec<String>,
}

struct Session {
    conn: Conn,
    tls: bool,
    peer: SocketAddr,
    shared: Arc<Shared>,
    helo: Option<String>,
    signed_in: Option<SignedIn>,
    transaction: Option<Transaction>,
    commands: usize,
    errors: usize,
    /// Replies not yet written (pipelining: written when the client's input is used up).
    out: Vec<u8>,
    /// Input read and not yet used.
    pending: Vec<u8>,
    /// Where each read lands (one buffer for the session).
    chunk: Vec<u8>,
}

/// What a command leads to.
enum Next {
    Go,
    Data,
    StartTls,
    Quit,
}

impl Session {
    fn reply(&mut self, code: u16, esc: [u8; 3], text: &str) {
        if esc == [0, 0, 0] {
            self.out.extend_from_slice(format!("{code} {text}\r\n").as_bytes());
        } else {
            let _ = Response::new(code, esc[0], esc[1], esc[2], text).write(&mut self.out);
        }
    }

    async fn flush(&mut self) -> Result<(), End> {
        if self.out.is_empty() {
            return Ok(());
        }
        let out = std::mem::take(&mut self.out);
        match tokio::time::timeout(self.shared.config.command_timeout, async {
            self.conn.write_all(&out).await?;
            self.conn.flush().await
        })
        .await
        {
            Ok(result) => Ok(result?),
            Err(_) => Err(End::TimedOut),
        }
    }

    /// Reads more input, within `limit`; a stop asked for meanwhile ends the session with 421.
    async fn read_more(&mut self, limit: Duration, stopped: Option<&mut watch::Receiver<bool>>) -> Result<(), End> {
        let read = {
            let (conn, chunk) = (&mut self.conn, &mut self.chunk);
            let read = async {
                match tokio::time::timeout(limit, conn.read(chunk)).await {
                    Ok(Ok(0)) => Err(End::Closed),
                    Ok(Ok(n)) => Ok(n),
                    Ok(Err(e)) => Err(End::from(e)),
                    Err(_) => Err(End::TimedOut),
                }
            };
            match stopped {
                Some(stopped) if !*stopped.borrow() => tokio::select! {
                    n = read => n,
                    _ = stopped.changed() => Err(End::Quit),
                },
                Some(_) => Err(End::Quit),
                None => read.await,
            }
        };
        match read {
            Ok(n) => {
                self.pending.extend_from_slice(&self.chunk[..n]);
                Ok(())
            }
            Err(End::Quit) => {
                self.reply(421, [4, 3, 2], "Mailroom is shutting down; try again later");
                self.flush().await?;
                Err(End::Quit)
            }
            Err(End::TimedOut) => {
                self.reply(421, [4, 4, 2], "Timed out waiting for the client");
                let _ = self.flush().await;
                Err(End::TimedOut)
            }
            Err(e) => Err(e),
        }
    }

    async fn serve(&mut self, mut stopped: watch::Receiver<bool>) -> Result<(), End> {
        let mut receiver = RequestReceiver::default();
        loop {
            if self.pending.is_empty() {
                self.flush().await?;
                let limit = self.shared.config.command_timeout;
                self.read_more(limit, Some(&mut stopped)).await?;
            }
            let input = std::mem::take(&mut self.pending);
            let mut bytes = input.iter();
            loop {
                let request = match receiver.ingest(&mut bytes) {
                    Ok(request) => request.into_owned(),
                    Err(ParseError::NeedsMoreData { .. }) => break,
                    Err(e) => {
                        self.refuse_syntax(e);
                        if self.errors > MAX_ERRORS {
                            self.reply(421, [4, 7, 0], "Too many errors; closing");
                            self.flush().await?;
                            return Err(End::Quit);
                        }
                        continue;
                    }
                };
                self.commands += 1;
                if self.commands > self.shared.config.max_commands {
                    self.reply(421, [4, 7, 0], "Too many commands in one session; open another");
                    self.flush().await?;
                    return Err(End::Quit);
                }
                // What follows a command that takes over the input (DATA, AUTH's lines) or
                // ends it (STARTTLS: anything sent before the handshake is dropped).
                self.pending = bytes.as_slice().to_vec();
                match self.command(request).await? {
                    Next::Go => {}
                    Next::Quit => {
                        self.flush().await?;
                        return Ok(());
                    }
                    Next::Data => self.data().await?,
                    Next::StartTls => {
                        self.pending.clear();
                        self.flush().await?;
                        self.start_tls().await?;
                        receiver = RequestReceiver::default();
                    }
                }
                break;
            }
        }
    }

    fn refuse_syntax(&mut self, e: ParseError) {
        self.errors += 1;
        match e {
            ParseError::UnknownCommand => self.reply(500, [5, 5, 1], "Command not recognised"),
            ParseError::ResponseTooLong => self.reply(500, [5, 5, 6], "Line too long"),
            ParseError::InvalidSenderAddress => self.reply(501, [5, 1, 7], "Invalid sender address"),
            ParseError::InvalidRecipientAddress => self.reply(501, [5, 1, 3], "Invalid recipient address"),
            ParseError::SyntaxError { syntax } => self.reply(501, [5, 5, 4], &format!("Syntax: {syntax}")),
            ParseError::InvalidParameter { param } => self.reply(501, [5, 5, 4], &format!("Invalid parameter {param}")),
            ParseError::UnsupportedParameter { param } => {
                self.reply(504, [5, 5, 4], &format!("Unsupported parameter {param}"))
            }
            _ => self.reply(501, [5, 5, 2], "Syntax error"),
        }
    }

    /// Sign-in is offered under TLS, or to a client on this machine.
    fn may_sign_in(&self) -> bool {
        self.tls || self.peer.ip().is_loopback()
    }

    async fn command(&mut self, request: Request<String>) -> Result<Next, End> {
        match request {
            Request::Ehlo { host } => {
                let mut ehlo = EhloResponse::new(self.shared.hostname.as_str());
                ehlo.capabilities = smtp_proto::EXT_PIPELINING
                    | smtp_proto::EXT_8BIT_MIME
                    | smtp_proto::EXT_SMTP_UTF8
                    | smtp_proto::EXT_SIZE
                    | smtp_proto::EXT_ENHANCED_STATUS_CODES;
                ehlo.size = self.shared.config.max_message_bytes;
                if self.shared.config.tls.is_some() && !self.tls {
                    ehlo.capabilities |= smtp_proto::EXT_START_TLS;
                }
                if self.may_sign_in() && self.signed_in.is_none() {
                    ehlo.capabilities |= smtp_proto::EXT_AUTH;
                    ehlo.auth_mechanisms = smtp_proto::AUTH_PLAIN | smtp_proto::AUTH_LOGIN;
                }
                let _ = ehlo.write(&mut self.out);
                self.helo = Some(host);
                self.transaction = None;
            }
            Request::Helo { host } | Request::Lhlo { host } => {
                self.reply(250, [0, 0, 0], &self.shared.hostname.clone());
                self.helo = Some(host);
                self.transaction = None;
            }
            Request::StartTls => {
                if self.tls || self.shared.config.tls.is_none() {
                    self.errors += 1;
                    self.reply(502, [5, 5, 1], "STARTTLS is not offered here");
                } else {
                    self.reply(220, [2, 0, 0], "Ready to start TLS");
                    return Ok(Next::StartTls);
                }
            }
            Request::Auth { mechanism, initial_response } => self.auth(mechanism, initial_response).await?,
            Request::Mail { from } => self.mail_from(from.size).await,
            Request::Rcpt { to } => self.rcpt_to(to.address),
            Request::Data => {
                match &self.transaction {
                    None => self.reply(503, [5, 5, 1], "MAIL FROM first"),
                    Some(t) if t.recipients.is_empty() => self.reply(554, [5, 5, 1], "No valid recipients"),
                    Some(_) => {
                        self.reply(354, [0, 0, 0], "Start mail input; end with <CRLF>.<CRLF>");
                        return Ok(Next::Data);
                    }
                }
                self.errors += 1;
            }
            Request::Rset => {
                self.transaction = None;
                self.reply(250, [2, 0, 0], "Reset");
            }
            Request::Noop { .. } => self.reply(250, [2, 0, 0], "OK"),
            Request::Vrfy { .. } => self.reply(252, [2, 5, 0], "Cannot VRFY; send the mail and it will be tried"),
            Request::Quit => {
                self.reply(221, [2, 0, 0], "Bye");
                return Ok(Next::Quit);
            }
            Request::Help { .. } => self.reply(214, [2, 0, 0], "Mailroom takes mail from programs signed in with an API token"),
            Request::Bdat { .. } | Request::Expn { .. } | Request::Etrn { .. } | Request::Atrn { .. } | Request::Burl { .. } => {
                self.errors += 1;
                self.reply(502, [5, 5, 1], "Command not implemented");
            }
        }
        Ok(Next::Go)
    }

    async fn start_tls(&mut self) -> Result<(), End> {
        let Some(tls) = self.shared.config.tls.clone() else { return Err(End::Closed) };
        let Conn::Plain(stream) = std::mem::replace(&mut self.conn, Conn::Gone) else { return Err(End::Closed) };
        match tokio::time::timeout(TLS_HANDSHAKE, tokio_rustls::TlsAcceptor::from(tls).accept(stream)).await {
            Ok(Ok(tls)) => {
                self.conn = Conn::Tls(Box::new(tls));
                self.tls = true;
                // RFC 3207: everything known before is forgotten.
                self.helo = None;
                self.signed_in = None;
                self.transaction = None;
                Ok(())
            }
            Ok(Err(e)) => Err(End::from(e)),
            Err(_) => Err(End::TimedOut),
        }
    }

    /// One line of an AUTH exchange (bounded), without its line break.
    async fn auth_line(&mut self) -> Result<String, End> {
        loop {
            if let Some(at) = self.pending.iter().position(|b| *b == b'\n') {
                let line: Vec<u8> = self.pending.drain(..=at).collect();
                return Ok(String::from_utf8_lossy(&line).trim_end_matches(['\r', '\n']).to_string());
            }
            if self.pending.len() > MAX_AUTH_LINE {
                self.reply(500, [5, 5, 6], "Line too long");
                self.flush().await?;
                return Err(End::Quit);
            }
            self.flush().await?;
            let limit = self.shared.config.command_timeout;
            self.read_more(limit, None).await?;
        }
    }

    async fn auth(&mut self, mechanism: u64, initial: String) -> Result<(), End> {
        if self.signed_in.as_ref().is_some_and(|s| !s.trusted) {
            self.errors += 1;
            self.reply(503, [5, 5, 1], "Already signed in");
            return Ok(());
        }
        if !self.may_sign_in() {
            self.errors += 1;
            self.reply(538, [5, 7, 11], "Sign-in needs TLS: STARTTLS first");
            return Ok(());
        }
        if self.transaction.is_some() {
            self.errors += 1;
            self.reply(503, [5, 5, 1], "Not during a mail transaction");
            return Ok(());
        }
        let decode = |text: &str| STANDARD.decode(text.trim()).ok();
        let password = if mechanism == smtp_proto::AUTH_PLAIN {
            let response = if initial.is_empty() {
                self.out.extend_from_slice(b"334 \r\n");
                self.auth_line().await?
            } else {
                initial
            };
            // authzid NUL authcid NUL password
            decode(&response).and_then(|b| {
                let mut parts = b.split(|c| *c == 0);
                let (_, _, password) = (parts.next()?, parts.next()?, parts.next()?);
                Some(String::from_utf8_lossy(password).into_owned())
            })
        } else if mechanism == smtp_proto::AUTH_LOGIN {
            // The user name is not checked: the token alone signs in (any name will do).
            if initial.is_empty() {
                self.out.extend_from_slice(b"334 VXNlcm5hbWU6\r\n");
                let user = self.auth_line().await?;
                if user.trim() == "*" {
                    self.reply(501, [5, 0, 0], "Sign-in cancelled");
                    return Ok(());
                }
            }
            self.out.extend_from_slice(b"334 UGFzc3dvcmQ6\r\n");
            let response = self.auth_line().await?;
            if response.trim() == "*" {
                self.reply(501, [5, 0, 0], "Sign-in cancelled");
                return Ok(());
            }
            decode(&response).map(|b| String::from_utf8_lossy(&b).into_owned())
        } else {
            self.errors += 1;
            self.reply(504, [5, 5, 4], "Only AUTH PLAIN and LOGIN");
            return Ok(());
        };
        let Some(password) = password else {
            self.errors += 1;
            self.reply(501, [5, 5, 2], "Not base64, or not as the mechanism has it");
            return Ok(());
        };
        self.check_token(password).await;
        Ok(())
    }

    /// The token behind the password, throttled per client address like the login page; a
    /// wrong one says nothing about the name.
    async fn check_token(&mut self, password: String) {
        let store = self.shared.ctx.store.clone();
        let keys = vec![format!("smtp:{}", app::ratelimit::address_key(self.peer.ip()))];
        match store.backoff_attempt(&keys, app::clock::now_unix_ms()).await {
            Ok(Ok(())) => {}
            Ok(Err(retry_after_secs)) => {
                self.errors += 1;
                self.reply(454, [4, 7, 0], &format!("Too many failed sign-ins from here; try again in {retry_after_secs} seconds"));
                return;
            }
            Err(e) => {
                self.reply(454, [4, 7, 0], &format!("Sign-in is unavailable now: {}", unavailable(&e)));
                return;
            }
        }
        match store.token_by_hash(&app::auth::token_hash(&password)).await {
            Ok(Some(token)) if !token.scope.smtp() => {
                let _ = store.backoff_succeeded(&keys).await;
                self.errors += 1;
                self.reply(535, [5, 7, 8], "This token is for the HTTP API only; make one for SMTP");
            }
            Ok(Some(token)) => {
                let _ = store.backoff_succeeded(&keys).await;
                let _ = store.touch_token(&app::auth::token_hash(&password), app::clock::now_unix()).await;
                tracing::info!(client = %self.peer.ip(), token = %token.name, "SMTP sign-in");
                self.signed_in = Some(SignedIn { id: token.id, name: token.name, trusted: false });
                self.reply(235, [2, 7, 0], "Signed in");
            }
            Ok(None) => {
                self.errors += 1;
                tracing::warn!(client = %self.peer.ip(), "SMTP sign-in refused");
                self.reply(535, [5, 7, 8], "Authentication credentials invalid");
            }
            Err(e) => self.reply(454, [4, 7, 0], &format!("Sign-in is unavailable now: {}", unavailable(&e))),
        }
    }

    async fn mail_from(&mut self, size: usize) {
        if self.signed_in.is_none() {
            self.trust().await;
        }
        if self.signed_in.is_none() {
            self.errors += 1;
            // Never an open relay.
            self.reply(530, [5, 7, 0], "Authentication required: sign in with an API token");
            return;
        }
        if self.transaction.is_some() {
            self.errors += 1;
            self.reply(503, [5, 5, 1], "A mail transaction is under way; RSET first");
            return;
        }
        if size > self.shared.config.max_message_bytes {
            self.reply(552, [5, 3, 4], &format!("Message too large: at most {} bytes", self.shared.config.max_message_bytes));
            return;
        }
        // Said now, before the client sends the message: no settings, or the outbox paused.
        if let Err((code, esc, why)) = self.not_taking().await {
            self.reply(code, esc, &why);
            return;
        }
        self.transaction = Some(Transaction { recipients: Vec::new() });
        self.reply(250, [2, 1, 0], "OK");
    }

    /// A client in the trusted networks submits as the trusted token, while it exists.
    async fn trust(&mut self) {
        let Some(trusted) = self.shared.config.trusted.as_ref().filter(|t| t.contains(self.peer.ip())) else { return };
        let store = self.shared.ctx.store.clone();
        let found = Recent::get(&self.shared.recent.trusted, &store, || async {
            match store.tokens().await {
                Ok(tokens) => Ok(tokens.into_iter().find(|t| t.name == trusted.token && t.scope.smtp()).map(|t| (t.id, t.name))),
                Err(e) => Err(unavailable_now(&e)),
            }
        })
        .await;
        match found {
            Ok(Some((id, name))) => self.signed_in = Some(SignedIn { id, name, trusted: true }),
            Ok(None) => {}
            Err(_) => tracing::warn!("SMTP: the trusted token could not be read"),
        }
    }

    /// Why mail is not taken now (the client keeps it and tries again), if it is not: no
    /// settings saved, or the outbox paused. Asked at MAIL FROM: a pause that starts while the
    /// message comes holds it in the outbox instead.
    async fn not_taking(&mut self) -> Result<(), Refusal> {
        self.settings().await.map(drop)
    }

    /// The saved mail settings (their From goes on every message), or why mail is not taken
    /// (through [`Recent`]: not read and unsealed for each message).
    async fn settings(&mut self) -> Result<Arc<app::domain::MailServer>, Refusal> {
        let ctx = self.shared.ctx.clone();
        Recent::get(&self.shared.recent.taking, &ctx.store, || async {
            // A store that fails is asked again at the next command; what it said is kept.
            let mail = ctx.store.load_mail().await.map_err(|e| unavailable_now(&e))?;
            let control = ctx.outbox.control().await.map_err(|e| unavailable_now(&e))?;
            Ok(match (mail, control.paused) {
                (None, _) => Err((451, [4, 3, 0], "Mailroom has no mail settings yet; try again later".into())),
                (Some(_), Some(p)) => Err((451, [4, 3, 0], format!("Mailroom's outbox is paused: {}", one_line(&p.reason)))),
                (Some(saved), None) => Ok(Arc::new(saved.value)),
            })
        })
        .await?
    }

    fn rcpt_to(&mut self, address: String) {
        let max = self.shared.config.max_recipients;
        let Some(transaction) = self.transaction.as_mut() else {
            self.errors += 1;
            self.reply(503, [5, 5, 1], "MAIL FROM first");
            return;
        };
        if transaction.recipients.len() >= max {
            self.reply(452, [4, 5, 3], &format!("Too many recipients: at most {max} per message"));
            return;
        }
        match domain_address(&address) {
            Some(address) => {
                transaction.recipients.push(address);
                self.reply(250, [2, 1, 5], "OK");
            }
            None => {
                self.errors += 1;
                self.reply(501, [5, 1, 3], "Not an address Mailroom can send to");
            }
        }
    }

    /// The message, up to the final dot: read within the size bound (beyond it, read and
    /// dropped, then 552), then queued.
    async fn data(&mut self) -> Result<(), End> {
        let max = self.shared.config.max_message_bytes;
        let mut receiver = DataReceiver::new();
        let mut discard: Option<DummyDataReceiver> = None;
        let mut message = Vec::new();
        loop {
            if self.pending.is_empty() {
                self.flush().await?;
                let limit = self.shared.config.data_timeout;
                self.read_more(limit, None).await?;
            }
            let input = std::mem::take(&mut self.pending);
            let mut bytes = input.iter();
            let done = match discard.as_mut() {
                Some(dummy) => dummy.ingest(&mut bytes),
                None => {
                    let done = receiver.ingest(&mut bytes, &mut message);
                    if !done && message.len() > max {
                        discard = Some(DummyDataReceiver::new_data(&receiver));
                        message = Vec::new();
                    }
                    done
                }
            };
            self.pending = bytes.as_slice().to_vec();
            if done {
                break;
            }
        }
        let transaction = self.transaction.take();
        if discard.is_some() || message.len() > max {
            self.reply(552, [5, 3, 4], &format!("Message too large: at most {max} bytes"));
            return Ok(());
        }
        let recipients = transaction.map(|t| t.recipients).unwrap_or_default();
        let (code, esc, text) = self.queue(message, recipients).await;
        self.reply(code, esc, &text);
        Ok(())
    }

    /// The message through the outbox, one per recipient; the answer once it is durable.
    async fn queue(&mut self, data: Vec<u8>, recipients: Vec<String>) -> (u16, [u8; 3], String) {
        let server = match self.settings().await {
            Ok(server) => server,
            Err(refusal) => return refusal,
        };
        let ctx = self.shared.ctx.clone();
        let id = app::auth::random_token()[..12].to_string();
        let helo = self.helo.clone().unwrap_or_else(|| "unknown".into());
        let arrival = Arrival {
            helo: &helo,
            client: self.peer.ip(),
            hostname: &self.shared.hostname,
            // RFC 3848's names: S for TLS, A for a sign-in.
            with: match (self.tls, self.signed_in.as_ref().is_some_and(|s| s.trusted)) {
                (true, false) => "ESMTPSA",
                (false, false) => "ESMTPA",
                (true, true) => "ESMTPS",
                (false, true) => "ESMTP",
            },
            id: &id,
        };
        let prepared = match message::prepare(&data, &server, self.shared.config.from_rule, &arrival) {
            Ok(p) => p,
            Err(message::Refused(code, esc, why)) => return (code, esc, why.to_string()),
        };
        drop(data);
        let Some(signed_in) = self.signed_in.as_ref() else {
            return (530, [5, 7, 0], "Authentication required".into());
        };
        let origin = Origin::Smtp {
            id: signed_in.id,
            name: signed_in.name.clone(),
            client: self.peer.ip().to_string(),
            message_id: prepared.message_id.chars().take(200).collect(),
        };
        let messages: Vec<NewMessage> = recipients
            .into_iter()
            .map(|to| NewMessage {
                to,
                subject: prepared.subject.clone(),
                body: MailBody { text: prepared.text.clone(), html: None, thread: None, raw: Some(prepared.raw.clone()) },
                priority: Priority::Normal,
                expires_at: None,
                origin: origin.clone(),
            })
            .collect();
        match ctx.outbox.submit(messages, None, app::clock::now_unix()).await {
            Ok(queued) => {
                let ids: Vec<String> = queued.ids().iter().map(u64::to_string).collect();
                (250, [2, 0, 0], format!("Queued as {}", ids.join(",")))
            }
            Err(StoreError::OutboxFull { .. }) => (452, [4, 3, 1], "Mailroom's outbox is full; try again later".into()),
            Err(e) => (451, [4, 3, 0], format!("Mailroom cannot take mail now: {}", unavailable(&e))),
        }
    }
}

/// A refusal: the code, its enhanced status and the text.
type Refusal = (u16, [u8; 3], String);

fn unavailable_now(e: &StoreError) -> Refusal {
    (451, [4, 3, 0], format!("Mailroom cannot take mail now: {}", unavailable(e)))
}

/// A store error as a client may read it: what, never a detail of the database.
fn unavailable(e: &StoreError) -> &'static str {
    match e {
        StoreError::NoSpace { .. } => "its disk is nearly full",
        StoreError::Unavailable(_) => "its database is unavailable",
        _ => "its database failed (see Mailroom's log)",
    }
}

fn one_line(text: &str) -> String {
    text.chars().map(|c| if c.is_control() { ' ' } else { c }).take(300).collect()
}

/// A recipient Mailroom can send to, as lettre reads addresses.
fn domain_address(address: &str) -> Option<String> {
    address.parse::<lettre::Address>().ok().map(|a| a.to_string())
}
