//! Storm control: while an alert stays firing, each recipient hears of it at most once per
//! repeat interval (unless what fires changed: a digest of it differs), and once more when it
//! resolves. The rule only: the store applies it in the
//! transaction that queues the mails ([`crate::store::AlertStore::enqueue_alert`]).

use crate::store::AlertMemory;

/// What to do with an alert for one recipient.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Decision {
    Mail,
    /// Still firing and mailed recently: not before `until` (Unix seconds).
    Wait {
        until: u64,
    },
    /// A resolution for an alert this recipient was not told is firing.
    NotFiring,
}

/// `memory`: what the recipient last heard; `firing`: the alert's state now; `digest`: what
/// fires, summed up (a group's alerts: a new one joining it is news, the same ones again are
/// a repeat).
pub fn decide(memory: Option<AlertMemory>, firing: bool, digest: u64, repeat_secs: u64, now: u64) -> Decision {
    match (memory, firing) {
        (Some(m), true) if m.firing && m.digest == digest => {
            let until = m.mailed_at.saturating_add(repeat_secs);
            if now >= until {
                Decision::Mail
            } else {
                Decision::Wait { until }
            }
        }
        (_, true) => Decision::Mail,
        (Some(m), false) if m.firing => Decision::Mail,
        (_, false) => Decision::NotFiring,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOURS_4: u64 = 4 * 3600;

    fn firing(at: u64) -> Option<AlertMemory> {
        Some(AlertMemory {
            firing: true,
            mailed_at: at,
            digest: 7,
        })
    }

    #[tokio::test]
    async fn storm_control() {
        let resolved = Some(AlertMemory {
            firing: false,
            mailed_at: 100,
            digest: 7,
        });
        let cases = [
            ("first firing", None, true, 100, Decision::Mail),
            (
                "firing again at once",
                firing(100),
                true,
                101,
                Decision::Wait { until: 100 + HOURS_4 },
            ),
            (
                "still firing after the interval",
                firing(100),
                true,
                100 + HOURS_4,
                Decision::Mail,
            ),
            ("resolves", firing(100), false, 200, Decision::Mail),
            ("resolves twice", resolved, false, 300, Decision::NotFiring),
            ("resolves, never fired", None, false, 300, Decision::NotFiring),
            ("fires again after resolving", resolved, true, 101, Decision::Mail),
        ];
        for (name, memory, is_firing, now, expected) in cases {
            assert_eq!(decide(memory, is_firing, 7, HOURS_4, now), expected, "{name}");
        }
        assert_eq!(
            decide(firing(100), true, 8, HOURS_4, 101),
            Decision::Mail,
            "what fires changed within the interval"
        );
    }
}
