//! Every metric Mailroom records, named and described in one place. The engine and the server
//! record through these functions (the `metrics` facade: nothing is kept until the server
//! installs its Prometheus recorder, `server::metrics`). Names follow Prometheus' conventions:
//! a `mailroom_` prefix, base units in the name (`_seconds`, `_bytes`), `_total` for counters;
//! every label's values come from a fixed set (no address, no id, no free text).

use crate::outbox::State;
use crate::store::PauseCause;

pub const ATTEMPTS: &str = "mailroom_delivery_attempts_total";
pub const SEND_SECONDS: &str = "mailroom_smtp_send_duration_seconds";
pub const RESCUED: &str = "mailroom_outbox_rescued_leases_total";
pub const MESSAGES: &str = "mailroom_outbox_messages";
pub const OLDEST_DUE: &str = "mailroom_outbox_oldest_due_age_seconds";
pub const PAUSED: &str = "mailroom_outbox_paused";
pub const LOGIN_FAILURES: &str = "mailroom_login_failures_total";
pub const HTTP_REQUESTS: &str = "mailroom_http_requests_total";
pub const HTTP_SECONDS: &str = "mailroom_http_request_duration_seconds";
pub const RSS: &str = "mailroom_process_resident_memory_bytes";
pub const BUILD_INFO: &str = "mailroom_build_info";

/// The histograms' buckets, in seconds: an SMTP send takes from milliseconds on a local relay
/// to the mailer's deadline.
pub const SEND_BUCKETS: &[f64] = &[0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0];
pub const HTTP_BUCKETS: &[f64] = &[0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0];

/// Help text for every metric (the `# HELP` lines).
pub fn describe() {
    use metrics::{describe_counter, describe_gauge, describe_histogram, Unit};
    describe_counter!(
        ATTEMPTS,
        "Delivery attempts by the outbox's workers in this instance, by result (sent, deferred, failed, uncertain, held) and the SMTP step it ended at."
    );
    describe_histogram!(
        SEND_SECONDS,
        Unit::Seconds,
        "Time to send one message to the mail server, opening the connection when the worker had none."
    );
    describe_counter!(
        RESCUED,
        "Messages put back in the queue by this instance because the lease of the worker holding them ended (a worker that died)."
    );
    describe_gauge!(
        MESSAGES,
        "Messages in the outbox by state, as the store holds them (the same on every instance: aggregate with max, not sum)."
    );
    describe_gauge!(
        OLDEST_DUE,
        Unit::Seconds,
        "How long the message that has been due the longest has waited to be sent (0 when none is due); from the store."
    );
    describe_gauge!(
        PAUSED,
        "1 for the reason the outbox is paused (until the settings change or an admin resumes it), 0 for the others; all 0 when not paused."
    );
    describe_counter!(
        LOGIN_FAILURES,
        "Admin logins refused by this instance: a wrong email or password, or a client that must wait (the back-off)."
    );
    describe_counter!(
        HTTP_REQUESTS,
        "Requests to the HTTP API and the alerting tools' webhooks answered by this instance, by route and status."
    );
    describe_histogram!(
        HTTP_SECONDS,
        Unit::Seconds,
        "Time to answer a request to the HTTP API or a webhook, by route."
    );
    describe_gauge!(RSS, Unit::Bytes, "Resident memory of this process.");
    describe_gauge!(BUILD_INFO, "Always 1; the version of Mailroom this instance runs as a label.");
}

/// A delivery attempt ended: `result` is the outcome's kind, `step` the step's name as the
/// attempt's record has it.
pub fn attempt(result: &'static str, step: &'static str) {
    metrics::counter!(ATTEMPTS, "result" => result, "step" => step).increment(1);
}

pub fn send_duration(seconds: f64) {
    metrics::histogram!(SEND_SECONDS).record(seconds);
}

pub fn rescued(messages: usize) {
    metrics::counter!(RESCUED).increment(messages as u64);
}

/// Why a login was refused.
#[derive(Clone, Copy, Debug)]
pub enum LoginFailure {
    WrongPassword,
    BackOff,
}

pub fn login_failed(why: LoginFailure) {
    let reason = match why {
        LoginFailure::WrongPassword => "wrong_password",
        LoginFailure::BackOff => "back_off",
    };
    metrics::counter!(LOGIN_FAILURES, "reason" => reason).increment(1);
}

/// The store's figures at a scrape.
pub fn outbox_figures(counts: &[(State, usize)], oldest_due_age_secs: u64, paused: Option<PauseCause>) {
    for state in std::iter::once(State::Sending).chain(State::SHOWN) {
        let n = counts.iter().find(|(s, _)| *s == state).map_or(0, |(_, n)| *n);
        metrics::gauge!(MESSAGES, "state" => state.name()).set(n as f64);
    }
    metrics::gauge!(OLDEST_DUE).set(oldest_due_age_secs as f64);
    for cause in PauseCause::ALL {
        let on = paused == Some(cause);
        metrics::gauge!(PAUSED, "reason" => cause.label()).set(if on { 1.0 } else { 0.0 });
    }
}
