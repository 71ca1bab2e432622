//! "Test Email Server" duration against the local SMTP peer, beside Debian's swaks doing the same
//! dialog (EHLO, AUTH, MAIL, RCPT, DATA, QUIT on the plain listener). Prints medians and the ratio.
//!
//! Run: `make bench`. Needs swaks (`apt-get install swaks`) and `scripts/bootstrap.sh --test`.

#[path = "../tests/api/helpers.rs"]
#[allow(dead_code)]
mod helpers;

use app::domain::{MailServer, MailServerForm, MailServerSettings};
use app::mailer::test_send;
use std::time::{Duration, Instant};

const ROUNDS: usize = 30;

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort_unstable();
    v[v.len() / 2]
}

#[tokio::main]
async fn main() {
    let peer = helpers::peer();
    let port = peer.port("plain");
    let form = MailServerForm {
        host: "127.0.0.1".into(),
        port: port.clone(),
        account: "alerts@example.com".into(),
        password: "correct-password".into(),
        from_address: "alerts@example.com".into(),
        from_name: "Mailroom Alerts".into(),
        helo_name: "bench.local".into(),
        ..MailServerForm::default()
    };
    let server = |form: &MailServerForm| {
        MailServer::from_form(
            MailServerSettings::parse(form, None).expect("valid bench form"),
            None,
        )
        .unwrap()
    };
    let target = server(&form);
    let to: lettre::Address = "alerts@example.com".parse().unwrap();
    let texts = app::templates::default(app::templates::Kind::TestMail, app::templates::Lang::En);

    let mut ours = Vec::with_capacity(ROUNDS);
    for _ in 0..ROUNDS {
        let start = Instant::now();
        let report = test_send(&target, &to, (&texts, app::templates::Lang::En), app::templates::Lang::En, &app::mailer::Tokens::unkept()).await;
        ours.push(start.elapsed());
        assert!(report.success(), "test send failed: {}", report.summary);
    }

    let mut swaks = Vec::with_capacity(ROUNDS);
    for _ in 0..ROUNDS {
        let start = Instant::now();
        let out = std::process::Command::new("swaks")
            .args(["--server", &format!("127.0.0.1:{port}"), "--helo", "bench.local"])
            .args([
                "--auth",
                "PLAIN",
                "--auth-user",
                "alerts@example.com",
                "--auth-password",
                "correct-password",
            ])
            .args([
                "--from",
                "alerts@example.com",
                "--to",
                "alerts@example.com",
                "--header",
                "Subject: Mailroom test email",
            ])
            .output()
            .expect("swaks is installed (apt-get install swaks)");
        swaks.push(start.elapsed());
        assert!(
            out.status.success(),
            "swaks failed: {}",
            String::from_utf8_lossy(&out.stdout)
        );
    }

    // The same test over implicit TLS (lettre opens that socket itself).
    let ssl_form = MailServerForm {
        host: "localhost".into(),
        port: peer.port("ssl"),
        ssl: true,
        ca_pem: peer.ca_pem.clone(),
        ..form.clone()
    };
    let ssl_target = server(&ssl_form);
    let mut ours_ssl = Vec::with_capacity(ROUNDS);
    for _ in 0..ROUNDS {
        let start = Instant::now();
        let report = test_send(&ssl_target, &to, (&texts, app::templates::Lang::En), app::templates::Lang::En, &app::mailer::Tokens::unkept()).await;
        ours_ssl.push(start.elapsed());
        assert!(report.success(), "ssl test send failed: {}", report.summary);
    }
    println!(
        "test send over implicit TLS: Mailroom median {:.2} ms",
        median(ours_ssl).as_secs_f64() * 1e3
    );

    let (m_ours, m_swaks) = (median(ours), median(swaks));
    println!(
        "test send over {ROUNDS} rounds: Mailroom median {:.2} ms, swaks median {:.2} ms, ratio Mailroom/swaks {:.2} \
         (swaks includes its process start)",
        m_ours.as_secs_f64() * 1e3,
        m_swaks.as_secs_f64() * 1e3,
        m_ours.as_secs_f64() / m_swaks.as_secs_f64()
    );
}
