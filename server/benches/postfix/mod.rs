//! Postfix's `smtp-sink` and `smtp-source`, the benchmarks' reference peers (installed by
//! `scripts/bootstrap.sh --bench`).

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// `smtp-sink` on a free loopback port, accepting everything.
pub fn start_sink() -> (std::process::Child, u16) {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let mut args = vec!["-c".to_string()];
    // As root, smtp-sink wants a user to run as.
    if std::env::var("USER").as_deref() == Ok("root")
        || Command::new("id").arg("-u").output().is_ok_and(|o| o.stdout.starts_with(b"0"))
    {
        args.extend(["-u".into(), "nobody".into()]);
    }
    args.extend([format!("127.0.0.1:{port}"), "256".into()]);
    let child = Command::new("smtp-sink")
        .args(&args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("smtp-sink (postfix) is installed: scripts/bootstrap.sh --bench");
    let deadline = Instant::now() + Duration::from_secs(10);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "smtp-sink did not start");
        std::thread::sleep(Duration::from_millis(10));
    }
    (child, port)
}

/// Runs `smtp-source ARGS` into `port` (from alerts@example.com to ops@example.com) and
/// returns its rate: `messages` over the time it took.
pub fn smtp_source(port: u16, args: &[&str], messages: usize) -> f64 {
    let started = Instant::now();
    let status = Command::new("smtp-source")
        .args(args)
        .args(["-f", "alerts@example.com", "-t", "ops@example.com", &format!("127.0.0.1:{port}")])
        .status()
        .expect("smtp-source (postfix)");
    assert!(status.success());
    messages as f64 / started.elapsed().as_secs_f64()
}
