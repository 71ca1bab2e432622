//! "Test Email Server" against a real SMTP server on loopback (aiosmtpd: plain, STARTTLS and
//! implicit-TLS listeners, a throwaway CA, AUTH, and hooks answering 535, 553, 550 and 554).
//! Each diagnosis the test can reach here is produced and must be reported as that, in time.
//! Each test function uses its own app: the limit is 5 tests per minute per admin session.

use crate::helpers::{client, peer, peer_form, spawn_app, TestApp, ADMIN, ADMIN_PASSWORD};
use app::{
    api::TestMailServer,
    domain::{Field, MailServerForm},
    error::AppError,
    report::{Diagnosis, TestReport},
};

async fn run(app: &TestApp, form: MailServerForm, send_to: &str) -> TestReport {
    let report = app
        .test_mail(&form, send_to)
        .await
        .unwrap_or_else(|e| panic!("test refused: {e:?}"));
    let shown = format!("{report:?}");
    assert!(
        !shown.contains("correct-password") && !shown.contains("wrong-password"),
        "password in the answer"
    );
    report
}

/// `diagnosis` (`None`: accepted) within `max_ms`.
fn assert_outcome(report: &TestReport, diagnosis: Option<Diagnosis>, max_ms: u64) {
    assert_eq!(report.diagnosis, diagnosis, "{report:#?}");
    assert!(
        report.elapsed_ms < max_ms,
        "{diagnosis:?} took {} ms (limit {max_ms}): {report:#?}",
        report.elapsed_ms
    );
}

fn transcript(report: &TestReport) -> String {
    report
        .transcript
        .iter()
        .map(|l| l.text.as_str())
        .collect::<Vec<_>>()
        .join("\n")
}

fn advice(report: &TestReport) -> String {
    report.advice.join("\n")
}

#[tokio::test]
async fn a_successful_test_delivers_a_message_with_the_right_headers() {
    let app = spawn_app().await;
    let ca = peer().ca_pem.clone();
    for (listener, starttls, ssl) in [
        ("plain", false, false),
        ("starttls", true, false),
        ("ssl", false, true),
    ] {
        let form = MailServerForm {
            starttls,
            ssl,
            ca_pem: ca.clone(),
            reply_to: "ops@example.com".into(),
            ..peer_form(listener)
        };
        let report = run(&app, form, "").await;
        assert_outcome(&report, None, 5_000);
        assert_eq!(report.code, Some(250));
        assert_eq!(report.enhanced_status.as_deref(), Some("2.0.0"));
        assert!(report.summary.contains("check the inbox and spam folder"));
        let reply = report.server_reply.as_deref().unwrap();
        let message = peer().message(reply.rsplit(' ').next().unwrap());
        for header in [
            "From: \"Mailroom Alerts\" <alerts@example.com>",
            "To: alerts@example.com",
            "Reply-To: ops@example.com",
            "Subject: Mailroom test email",
            "Date: ",
            "Message-ID: <",
        ] {
            assert!(
                message.contains(header),
                "{listener}: {header:?} missing in\n{message}"
            );
        }
        assert!(
            message.contains(&format!("port {}", peer().port(listener))),
            "body names the port"
        );
        let t = transcript(&report);
        assert!(
            t.contains("AUTH PLAIN <credentials hidden>") || t.contains("AUTH LOGIN <credentials hidden>"),
            "{t}"
        );
        assert!(t.contains("queued as"), "{t}");
        if listener == "starttls" {
            assert!(t.contains("STARTTLS"), "{t}");
        }
    }
    // The last test is stored and loaded with the settings.
    let load = app.load().await.unwrap();
    assert!(
        load.tests.last_success.as_ref().is_some_and(|t| t.success()),
        "{load:?}"
    );
}

#[tokio::test]
async fn a_wrong_password_is_an_auth_rejection_with_advice_and_no_secret_in_the_transcript() {
    let app = spawn_app().await;
    let report = run(
        &app,
        MailServerForm {
            password: "wrong-password".into(),
            ..peer_form("plain")
        },
        "",
    )
    .await;
    assert_outcome(&report, Some(Diagnosis::AuthRejected), 5_000);
    assert_eq!(report.code, Some(535));
    assert_eq!(report.enhanced_status.as_deref(), Some("5.7.8"));
    assert_eq!(report.field(), Some(Field::Password));
    let advice = advice(&report);
    assert!(
        advice.contains("SMTP address, port, account, and password"),
        "{advice}"
    );
    assert!(advice.contains("authorization code"), "{advice}");
    let t = transcript(&report);
    assert!(!t.contains("d3JvbmctcGFzc3dvcmQ"), "base64 password leaked: {t}"); // "wrong-password"
    let load = app.load().await.unwrap();
    assert_eq!(load.tests.last.unwrap().diagnosis, Some(Diagnosis::AuthRejected));
}

#[tokio::test]
async fn a_wrong_tls_mode_is_reported_in_under_two_seconds() {
    let app = spawn_app().await;
    let ca = peer().ca_pem.clone();
    let ssl_on_starttls = run(
        &app,
        MailServerForm {
            ssl: true,
            ca_pem: ca.clone(),
            ..peer_form("starttls")
        },
        "",
    )
    .await;
    assert_outcome(&ssl_on_starttls, Some(Diagnosis::SslOnPlainPort), 2_000);
    assert_eq!(ssl_on_starttls.field(), Some(Field::Encryption));
    let starttls_on_ssl = run(
        &app,
        MailServerForm {
            starttls: true,
            ca_pem: ca,
            ..peer_form("ssl")
        },
        "",
    )
    .await;
    assert_outcome(&starttls_on_ssl, Some(Diagnosis::PlainOnSslPort), 2_000);
    let plain_on_ssl = run(&app, peer_form("ssl"), "").await;
    assert_outcome(&plain_on_ssl, Some(Diagnosis::PlainOnSslPort), 2_000);
    assert!(advice(&plain_on_ssl).contains("Turn on"), "{plain_on_ssl:?}");
}

#[tokio::test]
async fn certificate_problems_are_told_apart() {
    let app = spawn_app().await;
    let ca = peer().ca_pem.clone();
    let ssl = |listener: &str, ca_pem: &str| MailServerForm {
        ssl: true,
        ca_pem: ca_pem.into(),
        ..peer_form(listener)
    };
    assert_outcome(
        &run(&app, ssl("ssl", ""), "").await,
        Some(Diagnosis::CertificateUntrusted),
        3_000,
    );
    assert_outcome(
        &run(&app, ssl("ssl_expired", &ca), "").await,
        Some(Diagnosis::CertificateExpired),
        3_000,
    );
    let wrong = run(&app, ssl("ssl_wrongname", &ca), "").await;
    assert_outcome(&wrong, Some(Diagnosis::CertificateWrongName), 3_000);
    assert_eq!(wrong.field(), Some(Field::Host));
    // Skipping verification gets past an untrusted certificate (the page warns why it is dangerous).
    let skip = MailServerForm {
        skip_verify: true,
        ..ssl("ssl", "")
    };
    assert_outcome(&run(&app, skip, "").await, None, 5_000);
}

#[tokio::test]
async fn connection_failures_dns_refused_greeting_and_silence() {
    let app = spawn_app().await;
    let dns = run(
        &app,
        MailServerForm {
            host: "no-such-host.invalid".into(),
            ..peer_form("plain")
        },
        "",
    )
    .await;
    assert_outcome(&dns, Some(Diagnosis::DnsLookup), 5_000);
    assert_eq!(dns.field(), Some(Field::Host));
    assert_outcome(
        &run(&app, peer_form("closed"), "").await,
        Some(Diagnosis::ConnectionRefused),
        2_000,
    );
    let refused = run(&app, peer_form("refuse"), "").await;
    assert_outcome(&refused, Some(Diagnosis::Greeting), 2_000);
    assert_eq!(refused.code, Some(554));
    // A server that never greets is not mistaken for an SSL port; the deadline (2 s) ends it.
    let silent = run(
        &app,
        MailServerForm {
            timeout: "2".into(),
            ..peer_form("silent")
        },
        "",
    )
    .await;
    assert_outcome(&silent, Some(Diagnosis::Greeting), 2_500);
    assert!(silent.elapsed_ms >= 2_000, "{silent:?}");
    assert!(
        silent.summary.contains("No answer within 2 seconds"),
        "{silent:?}"
    );
}

#[tokio::test]
async fn starttls_and_auth_offers() {
    let app = spawn_app().await;
    let no_starttls = run(
        &app,
        MailServerForm {
            starttls: true,
            ..peer_form("plain")
        },
        "",
    )
    .await;
    assert_outcome(&no_starttls, Some(Diagnosis::StartTlsNotOffered), 3_000);
    let auth_before_tls = run(&app, peer_form("starttls"), "").await;
    assert_outcome(&auth_before_tls, Some(Diagnosis::AuthNotOffered), 3_000);
    assert!(
        advice(&auth_before_tls).contains("turn on STARTTLS"),
        "{auth_before_tls:?}"
    );
    let cram = run(&app, peer_form("cram_only"), "").await;
    assert_outcome(&cram, Some(Diagnosis::NoSupportedAuth), 3_000);
    assert!(cram.summary.contains("CRAM-MD5"), "{cram:?}");
}

#[tokio::test]
async fn sender_recipient_and_message_rejections() {
    let app = spawn_app().await;
    let sender = run(
        &app,
        MailServerForm {
            from_address: "other@example.com".into(),
            ..peer_form("plain")
        },
        "",
    )
    .await;
    assert_outcome(&sender, Some(Diagnosis::SenderRejected), 3_000);
    assert_eq!(sender.code, Some(553));
    assert_eq!(sender.field(), Some(Field::FromAddress));
    assert!(advice(&sender).contains("alerts@example.com"), "{sender:?}");
    let rcpt = run(&app, peer_form("plain"), "reject-rcpt@example.com").await;
    assert_outcome(&rcpt, Some(Diagnosis::RecipientRejected), 3_000);
    assert_eq!(rcpt.code, Some(550));
    let data = run(&app, peer_form("plain"), "reject-data@example.com").await;
    assert_outcome(&data, Some(Diagnosis::MessageRejected), 3_000);
    assert_eq!(data.code, Some(554));
    // The transcript ends with the body's size (never the body) and the server's refusal.
    let tail: Vec<&str> = data.transcript.iter().rev().take(2).map(|l| l.text.as_str()).collect();
    assert!(tail[0].starts_with("554 ") && tail[0].contains("content policy"), "{tail:?}");
    assert!(tail[1].starts_with("<message, ") && tail[1].ends_with(" bytes>"), "{tail:?}");
}

#[tokio::test]
async fn a_non_address_account_needs_a_recipient_and_a_sixth_test_in_a_minute_is_refused() {
    let app = spawn_app().await;
    let apikey = MailServerForm {
        account: "apikey".into(),
        ..peer_form("plain")
    };
    let Err(AppError::Invalid { errors, .. }) = app.test_mail(&apikey, "").await else {
        panic!("tested without a recipient")
    };
    assert_eq!(errors.first(), Some(Field::SendTo));
    assert_outcome(&run(&app, apikey, "ops@example.com").await, None, 5_000);
    for _ in 0..3 {
        run(&app, peer_form("plain"), "").await;
    }
    let limited = app.test_mail(&peer_form("plain"), "").await;
    assert!(
        matches!(limited, Err(AppError::RateLimited { limit: 5, .. })),
        "{limited:?}"
    );
    // The limit belongs to the admin: logging in anew (a fresh session) does not reset it.
    let other = client(&app.url);
    let login = app::api::Login {
        email: ADMIN.into(),
        password: ADMIN_PASSWORD.into(),
        next: None,
    };
    app.call_as(&other, login).await.unwrap();
    let again = app
        .call_as(
            &other,
            TestMailServer {
                form: peer_form("plain"),
                send_to: String::new(),
            },
        )
        .await;
    assert!(matches!(again, Err(AppError::RateLimited { .. })), "{again:?}");
}

/// Authentication None: a relay that takes mail without sign-in.
fn relay(listener: &str) -> MailServerForm {
    MailServerForm {
        authentication: "none".into(),
        account: String::new(),
        password: String::new(),
        from_address: "alerts@example.com".into(),
        ..peer_form(listener)
    }
}

#[tokio::test]
async fn a_relay_without_sign_in_sends_without_auth_and_a_server_that_wants_it_says_so() {
    let app = spawn_app().await;
    let sent = run(&app, relay("plain"), "ops@example.com").await;
    assert_outcome(&sent, None, 3_000);
    assert!(
        !sent.transcript.iter().any(|l| l.client && l.text.starts_with("AUTH")),
        "no AUTH: {:?}",
        sent.transcript
    );
    peer().wait_for_mail("without signing in", "ops@example.com").await;

    let refused = run(&app, relay("auth_required"), "ops@example.com").await;
    assert_outcome(&refused, Some(Diagnosis::AuthRequired), 3_000);
    assert_eq!(refused.code, Some(530));
    assert_eq!(refused.field(), Some(Field::Authentication));
    assert!(advice(&refused).contains("choose Authentication \u{201c}Password\u{201d}"), "{refused:?}");

    // Without an account, the test needs a recipient.
    let Err(AppError::Invalid { errors, .. }) = app.test_mail(&relay("plain"), "").await else {
        panic!("tested without a recipient")
    };
    assert_eq!(errors.first(), Some(Field::SendTo));
}

#[tokio::test]
async fn microsoft_365_with_smtp_auth_off_gets_the_setting_to_change() {
    let app = spawn_app().await;
    let off = MailServerForm {
        account: "smtp-off@example.com".into(),
        from_address: "smtp-off@example.com".into(),
        ..peer_form("plain")
    };
    let report = run(&app, off, "ops@example.com").await;
    assert_outcome(&report, Some(Diagnosis::AuthRejected), 3_000);
    assert_eq!(report.code, Some(535));
    assert_eq!(report.enhanced_status.as_deref(), Some("5.7.139"));
    let said = advice(&report);
    assert!(said.contains("Authenticated SMTP") && said.contains("SmtpClientAuthenticationDisabled"), "{said}");
}

/// OAuth2 with the peer's token endpoint, as app `client` (see scripts/smtp_peer.py).
fn oauth(listener: &str, client: &str, secret: &str) -> MailServerForm {
    MailServerForm {
        authentication: "oauth2".into(),
        password: String::new(),
        oauth_token_url: format!("http://127.0.0.1:{}/{{tenant}}/oauth2/v2.0/token", peer().port("oauth")),
        oauth_tenant: "contoso.onmicrosoft.com".into(),
        oauth_client_id: client.into(),
        oauth_client_secret: secret.into(),
        oauth_scopes: "https://outlook.office365.com/.default".into(),
        ..peer_form(listener)
    }
}


#[tokio::test]
async fn oauth2_client_credentials_sign_in_with_xoauth2_and_reuse_the_token() {
    let app = spawn_app().await;
    let report = run(&app, oauth("plain", "app-success", "app-secret"), "ops@example.com").await;
    assert_outcome(&report, None, 3_000);
    assert!(
        report.transcript.iter().any(|l| l.client && l.text == "AUTH XOAUTH2 <credentials hidden>"),
        "{:?}",
        report.transcript
    );
    let shown = format!("{report:?}");
    assert!(!shown.contains("at-") && !shown.contains("app-secret"), "no token or secret: {shown}");
    let again = run(&app, oauth("plain", "app-success", "app-secret"), "ops@example.com").await;
    assert_outcome(&again, None, 3_000);
    assert_eq!(peer().tokens_issued("app-success").await, 1, "the token is cached");
    assert!(again.transcript[0].text.starts_with("# OAuth2: access token for the app from the cache"), "{:?}", again.transcript[0]);

    // A token about to expire is fetched anew for each send.
    for _ in 0..2 {
        assert_outcome(&run(&app, oauth("plain", "short-lived", "app-secret"), "ops@example.com").await, None, 3_000);
    }
    assert_eq!(peer().tokens_issued("short-lived").await, 2);
}

#[tokio::test]
async fn oauth2_failures_name_the_token_step_and_a_refused_token_is_fetched_again_once() {
    let app = spawn_app().await;
    let wrong = run(&app, oauth("plain", "app-wrong", "not-the-secret"), "ops@example.com").await;
    assert_outcome(&wrong, Some(Diagnosis::OAuthClientRejected), 3_000);
    assert_eq!(wrong.field(), Some(Field::OAuthClientSecret));
    assert!(wrong.summary.contains("AADSTS7000215"), "{wrong:?}");
    assert!(advice(&wrong).contains("Client secret"), "{wrong:?}");

    let unreachable = MailServerForm {
        oauth_token_url: format!("http://127.0.0.1:{}/token", peer().port("closed")),
        ..oauth("plain", "app-x", "app-secret")
    };
    let down = run(&app, unreachable, "ops@example.com").await;
    assert_outcome(&down, Some(Diagnosis::TokenEndpoint), 3_000);
    assert_eq!(down.field(), Some(Field::OAuthTokenUrl));

    // The server refuses the first token (535): a fresh one, and the send goes through.
    let stale = run(&app, oauth("plain", "stale-first", "app-secret"), "ops@example.com").await;
    assert_outcome(&stale, None, 3_000);
    assert_eq!(peer().tokens_issued("stale-first").await, 2);
}
