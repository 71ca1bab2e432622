//! What to do after a failed attempt: the outbox's classification of SMTP failures, with the
//! known exceptions of providers, and the retry schedule.
//!
//! The rule: a 4xx reply, or a connection, TLS or timeout failure before the message was sent,
//! is temporary (retry with back-off); a 5xx reply is permanent; a login refusal, or a refusal of
//! the sender (every message has the same From address), pauses the whole outbox (wrong settings
//! would otherwise burn through the queue); a break after the message's
//! final dot and before the answer is uncertain (the server may have it). Providers that answer
//! their quotas and rate limits with codes the rule would read wrongly are listed in
//! [`PROVIDER_RULES`].

use crate::mailer::{SendFailure, Step};
use crate::report::Diagnosis;

/// What the outbox does with a message after an attempt failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Temporary: try again after the back-off (or, if given, exactly this many seconds).
    Retry { after_secs: Option<u64> },
    /// Permanent: the message failed.
    Fail,
    /// The provider's quota or rate limit: the message waits and the mail server's lane pauses
    /// for `secs`.
    Throttled { secs: u64 },
    /// The login was refused: the whole outbox pauses until the settings change or an admin
    /// resumes it; the message goes back to the queue untouched.
    PauseOutbox,
    /// Broke after the final dot, before the answer: not sent again by itself.
    Uncertain,
}

/// A provider's answer that the general rule would misread.
pub struct ProviderRule {
    /// Who answers it, for the README and the logs.
    pub provider: &'static str,
    pub code: u16,
    /// Found in the enhanced status or the reply's text (ASCII case-insensitive).
    pub needle: &'static str,
    pub verdict: Verdict,
}

const HOUR: u64 = 60 * 60;
const DAY: u64 = 24 * HOUR;

/// The known exceptions, checked before the general rule.
pub const PROVIDER_RULES: &[ProviderRule] = &[
    // Gmail and Google Workspace: the daily sending limit.
    ProviderRule {
        provider: "Gmail",
        code: 550,
        needle: "5.4.5",
        verdict: Verdict::Throttled { secs: DAY },
    },
    // Microsoft 365: the mailbox's submission quota.
    ProviderRule {
        provider: "Microsoft 365",
        code: 554,
        needle: "SubmissionQuotaExceeded",
        verdict: Verdict::Throttled { secs: DAY },
    },
    // QQ Mail: "Mail sent denied: frequency limited".
    ProviderRule {
        provider: "QQ Mail",
        code: 550,
        needle: "frequency limited",
        verdict: Verdict::Throttled { secs: HOUR },
    },
    // 163.com / 126.com: sending too often, too many connections (4xx, but the whole lane
    // should wait, not each message on its own).
    ProviderRule {
        provider: "163.com",
        code: 451,
        needle: "MI:SFQ",
        verdict: Verdict::Throttled { secs: 10 * 60 },
    },
    ProviderRule {
        provider: "163.com",
        code: 421,
        needle: "HL:IFC",
        verdict: Verdict::Throttled { secs: 10 * 60 },
    },
    // 163.com asks to keep the message and retry suspected spam after two minutes.
    ProviderRule {
        provider: "163.com",
        code: 451,
        needle: "DT:SPM",
        verdict: Verdict::Retry {
            after_secs: Some(2 * 60),
        },
    },
];

/// The verdict on a failed attempt that ended in `step`.
pub fn classify(failure: &SendFailure, step: Step) -> Verdict {
    let summary = failure.summary_en();
    let text = failure.reply.as_deref().unwrap_or(&summary);
    if let Some(code) = failure.code {
        let lower = text.to_ascii_lowercase();
        if let Some(rule) = PROVIDER_RULES
            .iter()
            .find(|r| r.code == code && lower.contains(&r.needle.to_ascii_lowercase()))
        {
            return rule.verdict;
        }
    }
    if matches!(
        failure.diagnosis,
        Diagnosis::AuthRejected
            | Diagnosis::AuthRequired
            | Diagnosis::AuthNotOffered
            | Diagnosis::NoSupportedAuth
            | Diagnosis::SenderRejected
    ) && failure.code.is_none_or(|c| c >= 500)
    {
        return Verdict::PauseOutbox;
    }
    match failure.code {
        Some(400..=499) => Verdict::Retry { after_secs: None },
        Some(_) => Verdict::Fail,
        // No answer at all after the final dot: the server may have the message.
        None if step == Step::Body => Verdict::Uncertain,
        // A certificate the settings do not trust, or a From address that cannot be used, does
        // not get better by waiting.
        None if matches!(
            failure.diagnosis,
            Diagnosis::CertificateUntrusted
                | Diagnosis::CertificateExpired
                | Diagnosis::CertificateWrongName
                | Diagnosis::ReplyTooLong
                | Diagnosis::OAuthClientRejected
                | Diagnosis::OAuthRefused
                | Diagnosis::MailboxSignIn
        ) =>
        {
            Verdict::PauseOutbox
        }
        None => Verdict::Retry { after_secs: None },
    }
}

/// The kind of a refusal that paused the outbox (the metrics' label).
pub fn pause_cause(diagnosis: Diagnosis) -> crate::store::PauseCause {
    use crate::store::PauseCause;
    match diagnosis {
        Diagnosis::AuthRejected | Diagnosis::AuthRequired | Diagnosis::AuthNotOffered | Diagnosis::NoSupportedAuth => {
            PauseCause::LoginRefused
        }
        Diagnosis::SenderRejected => PauseCause::SenderRefused,
        Diagnosis::OAuthClientRejected | Diagnosis::OAuthRefused | Diagnosis::MailboxSignIn => PauseCause::OAuthRefused,
        Diagnosis::CertificateUntrusted | Diagnosis::CertificateExpired | Diagnosis::CertificateWrongName => {
            PauseCause::Certificate
        }
        _ => PauseCause::Other,
    }
}

/// When to try again, and when to give up.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RetrySchedule {
    /// The wait after the first failure; it doubles after each.
    pub first_secs: u64,
    pub max_secs: u64,
    /// A message still failing this long after it was queued fails for good.
    pub give_up_secs: u64,
}

impl Default for RetrySchedule {
    fn default() -> Self {
        Self {
            first_secs: 60,
            max_secs: HOUR,
            give_up_secs: DAY,
        }
    }
}

impl RetrySchedule {
    /// The wait before the try after `failures` failed ones (1 = the first failed), with
    /// `jitter` in 0..1 spreading it by ±20% so that messages failed together do not retry
    /// together.
    pub fn wait_secs(&self, failures: u32, jitter: f64) -> u64 {
        let doublings = failures.saturating_sub(1).min(32);
        let base = self
            .first_secs
            .saturating_mul(1u64 << doublings)
            .min(self.max_secs);
        let spread = 0.8 + 0.4 * jitter.clamp(0.0, 1.0);
        ((base as f64) * spread).round() as u64
    }

    /// Whether a message queued at `created_at` is past retrying at `next_try`.
    pub fn gives_up(&self, created_at: u64, next_try: u64) -> bool {
        next_try.saturating_sub(created_at) >= self.give_up_secs
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reply(code: u16, text: &str, diagnosis: Diagnosis) -> SendFailure {
        SendFailure {
            code: Some(code),
            reply: Some(text.into()),
            ..SendFailure::new(diagnosis, crate::domain::Said::new("summary-message-rejected").with("answer", text))
        }
    }

    fn broken(diagnosis: Diagnosis) -> SendFailure {
        SendFailure::new(diagnosis, crate::domain::Said::new("summary-greeting-closed").with("reason", "connection lost"))
    }

    const RETRY: Verdict = Verdict::Retry { after_secs: None };

    /// The classification table, a row each.
    #[tokio::test]
    async fn every_row_of_the_table() {
        let rows: Vec<(SendFailure, Step, Verdict)> = vec![
            (
                reply(451, "4.3.0 try again later", Diagnosis::MessageRejected),
                Step::Body,
                RETRY,
            ),
            (
                reply(421, "4.7.0 too busy", Diagnosis::Greeting),
                Step::Greeting,
                RETRY,
            ),
            (broken(Diagnosis::ConnectionRefused), Step::Connect, RETRY),
            (broken(Diagnosis::ConnectionTimedOut), Step::Connect, RETRY),
            (broken(Diagnosis::TlsHandshake), Step::StartTls, RETRY),
            (broken(Diagnosis::DnsLookup), Step::Dns, RETRY),
            (broken(Diagnosis::TokenEndpoint), Step::Token, RETRY),
            (broken(Diagnosis::OAuthClientRejected), Step::Token, Verdict::PauseOutbox),
            (broken(Diagnosis::OAuthRefused), Step::Token, Verdict::PauseOutbox),
            (broken(Diagnosis::MailboxSignIn), Step::Token, Verdict::PauseOutbox),
            (
                reply(550, "5.1.1 user unknown", Diagnosis::RecipientRejected),
                Step::RcptTo,
                Verdict::Fail,
            ),
            (
                reply(554, "5.7.1 rejected: policy", Diagnosis::MessageRejected),
                Step::Body,
                Verdict::Fail,
            ),
            (
                reply(553, "5.7.1 sender rejected", Diagnosis::SenderRejected),
                Step::MailFrom,
                Verdict::PauseOutbox,
            ),
            (
                reply(535, "5.7.8 bad credentials", Diagnosis::AuthRejected),
                Step::Auth,
                Verdict::PauseOutbox,
            ),
            (
                reply(535, "5.7.139 SMTP AUTH is disabled", Diagnosis::AuthRejected),
                Step::Auth,
                Verdict::PauseOutbox,
            ),
            (
                broken(Diagnosis::AuthNotOffered),
                Step::Auth,
                Verdict::PauseOutbox,
            ),
            (
                broken(Diagnosis::CertificateUntrusted),
                Step::StartTls,
                Verdict::PauseOutbox,
            ),
            // A temporary refusal of the login is temporary.
            (
                reply(454, "4.7.0 too many logins", Diagnosis::AuthRejected),
                Step::Auth,
                RETRY,
            ),
            (broken(Diagnosis::MessageRejected), Step::Body, Verdict::Uncertain),
            (broken(Diagnosis::MessageRejected), Step::Data, RETRY),
            // The providers' exceptions.
            (
                reply(
                    550,
                    "5.4.5 Daily user sending limit exceeded.",
                    Diagnosis::MessageRejected,
                ),
                Step::Body,
                Verdict::Throttled { secs: DAY },
            ),
            (
                reply(
                    554,
                    "5.2.0 STOREDRV.Submission.Exception:SubmissionQuotaExceededException",
                    Diagnosis::MessageRejected,
                ),
                Step::Body,
                Verdict::Throttled { secs: DAY },
            ),
            (
                reply(
                    550,
                    "Mail sent denied: frequency limited",
                    Diagnosis::SenderRejected,
                ),
                Step::MailFrom,
                Verdict::Throttled { secs: HOUR },
            ),
            (
                reply(451, "MI:SFQ sending too often", Diagnosis::MessageRejected),
                Step::Body,
                Verdict::Throttled { secs: 600 },
            ),
            (
                reply(421, "HL:IFC too many connections", Diagnosis::Greeting),
                Step::Greeting,
                Verdict::Throttled { secs: 600 },
            ),
            (
                reply(
                    451,
                    "DT:SPM suspected spam, retry later",
                    Diagnosis::MessageRejected,
                ),
                Step::Body,
                Verdict::Retry {
                    after_secs: Some(120),
                },
            ),
        ];
        for (failure, step, verdict) in rows {
            assert_eq!(
                classify(&failure, step),
                verdict,
                "{:?} at {step:?}",
                failure.reply.clone().or_else(|| Some(failure.summary_en()))
            );
        }
    }

    #[tokio::test]
    async fn the_wait_doubles_from_a_minute_to_an_hour_with_jitter_and_gives_up_after_a_day() {
        let s = RetrySchedule::default();
        let waits: Vec<u64> = (1..=8).map(|n| s.wait_secs(n, 0.5)).collect();
        assert_eq!(waits, [60, 120, 240, 480, 960, 1920, 3600, 3600]);
        assert_eq!(s.wait_secs(1, 0.0), 48);
        assert_eq!(s.wait_secs(1, 1.0), 72);
        assert_eq!(s.wait_secs(u32::MAX, 1.0), 4320, "no overflow");
        assert!(!s.gives_up(1000, 1000 + DAY - 1));
        assert!(s.gives_up(1000, 1000 + DAY));
    }
}
