//! How many messages the mail server takes: a rate limit per mail server, per minute and per
//! day, from the provider's published limits where the settings match a preset. Part of the
//! daily budget is kept for security mail (password resets), so a flood of alerts cannot lock
//! an admin out.

use crate::domain::Preset;
use crate::outbox::Priority;
use std::collections::VecDeque;

/// A mail server's limits; `None`: no limit known.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SendLimits {
    pub per_minute: Option<u32>,
    pub per_day: Option<u32>,
}

/// The published limits of the providers among the presets, by the settings' host.
pub fn limits_for(host: &str) -> SendLimits {
    let (per_minute, per_day) = match Preset::matching(host).map(|(p, _)| p.id) {
        // Gmail: 500 recipients a day for a consumer account.
        Some("gmail") => (None, Some(500)),
        // Microsoft 365: 30 messages a minute, 10,000 recipients a day.
        Some("m365") => (Some(30), Some(10_000)),
        // Outlook.com: 300 recipients a day.
        Some("outlook") => (None, Some(300)),
        // Yahoo: about 500 a day.
        Some("yahoo") => (None, Some(500)),
        _ => (None, None),
    };
    SendLimits { per_minute, per_day }
}

/// The share of the daily budget that only security mail may use.
pub const SECURITY_RESERVE_PERCENT: u32 = 10;

const MINUTE: u64 = 60;
const DAY: u64 = 24 * 60 * 60;

/// What may be sent now.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Allowance {
    pub messages: usize,
    /// The lowest priority that may go (only `Security` when the rest of the day is reserved).
    pub lowest: Priority,
}

/// The sends of the last day, to check the limits against: kept in the outbox's control record
/// (every instance counts against the same limits, and a restart forgets nothing). The last
/// minute by the second, the rest of the day by the minute, so it stays small (at most about
/// 1,500 entries) however much is sent.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Budget {
    /// (Unix seconds, messages), oldest first. An entry older than a minute stands for its
    /// whole minute and carries the latest second in it, so it leaves the day no earlier than
    /// its last send.
    sent: VecDeque<(u64, u32)>,
}

impl Budget {
    /// What may go at `now` under `limits`, at most `max` messages.
    pub fn allowance(&self, now: u64, limits: SendLimits, max: usize) -> Allowance {
        let within = |secs: u64| -> usize {
            self.sent
                .iter()
                .rev()
                .take_while(|(t, _)| *t + secs > now)
                .map(|(_, n)| *n as usize)
                .sum()
        };
        let mut messages = max;
        if let Some(per_minute) = limits.per_minute {
            messages = messages.min((per_minute as usize).saturating_sub(within(MINUTE)));
        }
        let mut lowest = Priority::Normal;
        if let Some(per_day) = limits.per_day {
            let today = within(DAY);
            let reserve = (per_day * SECURITY_RESERVE_PERCENT).div_ceil(100) as usize;
            let open = (per_day as usize).saturating_sub(reserve);
            if today >= open {
                lowest = Priority::Security;
                messages = messages.min((per_day as usize).saturating_sub(today));
            } else {
                messages = messages.min(open - today);
            }
        }
        Allowance { messages, lowest }
    }

    /// `n` messages were sent (or tried) at `now`.
    pub fn record(&mut self, now: u64, n: usize) {
        while self.sent.front().is_some_and(|(t, _)| *t + DAY <= now) {
            self.sent.pop_front();
        }
        // Entries older than a minute merge into one per minute.
        let mut merged: VecDeque<(u64, u32)> = VecDeque::with_capacity(self.sent.len() + 1);
        for (t, count) in self.sent.drain(..) {
            match merged.back_mut() {
                Some((last, c)) if *last / MINUTE == t / MINUTE && t + MINUTE <= now => {
                    *last = (*last).max(t);
                    *c = c.saturating_add(count);
                }
                _ => merged.push_back((t, count)),
            }
        }
        self.sent = merged;
        let n = u32::try_from(n).unwrap_or(u32::MAX);
        match self.sent.back_mut() {
            Some((t, c)) if *t == now => *c = c.saturating_add(n),
            _ => self.sent.push_back((now, n)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: u64 = 1_800_000_000;

    #[tokio::test]
    async fn the_presets_carry_their_providers_limits() {
        assert_eq!(limits_for("smtp.office365.com").per_minute, Some(30));
        assert_eq!(limits_for("smtp.gmail.com").per_day, Some(500));
        assert_eq!(limits_for("mail.example.com"), SendLimits::default());
    }

    #[tokio::test]
    async fn no_limits_let_everything_go() {
        let mut b = Budget::default();
        b.record(NOW, 10_000);
        let a = b.allowance(NOW, SendLimits::default(), 8);
        assert_eq!(
            a,
            Allowance {
                messages: 8,
                lowest: Priority::Normal
            }
        );
    }

    #[tokio::test]
    async fn thirty_a_minute() {
        let mut b = Budget::default();
        let limits = SendLimits {
            per_minute: Some(30),
            per_day: None,
        };
        b.record(NOW, 28);
        assert_eq!(b.allowance(NOW + 10, limits, 8).messages, 2);
        b.record(NOW + 10, 2);
        assert_eq!(b.allowance(NOW + 59, limits, 8).messages, 0, "the minute is full");
        assert_eq!(
            b.allowance(NOW + 60, limits, 8).messages,
            8,
            "the first 28 left the window; 2 of 30 are in it"
        );
        assert_eq!(b.allowance(NOW + 70, limits, 8).messages, 8);
    }

    #[tokio::test]
    async fn a_day_of_sends_stays_small_and_counts_every_message() {
        let mut b = Budget::default();
        let limits = SendLimits {
            per_minute: None,
            per_day: Some(1_000_000),
        };
        // A send every 7 seconds for a day.
        for i in 0..(DAY / 7) {
            b.record(NOW + i * 7, 2);
        }
        let end = NOW + (DAY / 7 - 1) * 7;
        assert!(b.sent.len() <= 1_500, "{} entries", b.sent.len());
        let spent = (DAY / 7 * 2) as usize;
        let open = 1_000_000 - 100_000;
        assert_eq!(b.allowance(end, limits, usize::MAX).messages, open - spent);
        // An hour after the last send, the first hour's sends (and a little more) have left.
        let later = b.allowance(end + 3600, limits, usize::MAX).messages;
        assert!(
            later > open - spent && later <= open - spent + 2 * 3600 / 7 + 20,
            "{later}"
        );
    }

    #[tokio::test]
    async fn the_last_tenth_of_the_day_is_kept_for_security_mail() {
        let mut b = Budget::default();
        let limits = SendLimits {
            per_minute: None,
            per_day: Some(500),
        };
        b.record(NOW, 449);
        assert_eq!(
            b.allowance(NOW, limits, 8),
            Allowance {
                messages: 1,
                lowest: Priority::Normal
            }
        );
        b.record(NOW, 1);
        assert_eq!(
            b.allowance(NOW, limits, 8),
            Allowance {
                messages: 8,
                lowest: Priority::Security
            }
        );
        b.record(NOW, 49);
        assert_eq!(
            b.allowance(NOW, limits, 8),
            Allowance {
                messages: 1,
                lowest: Priority::Security
            }
        );
        b.record(NOW, 1);
        assert_eq!(b.allowance(NOW, limits, 8).messages, 0, "the day is spent");
        assert_eq!(
            b.allowance(NOW + DAY, limits, 8),
            Allowance {
                messages: 8,
                lowest: Priority::Normal
            }
        );
    }
}
