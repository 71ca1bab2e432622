//! Storm control: while an alert stays firing, each recipient hears of it at most once per
//! repeat interval, and once more when it resolves. The rule only: the store applies it in the
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

/// `memory`: what the recipient last heard; `firing`: the alert's state now.
pub fn decide(memory: Option<AlertMemory>, firing: bool, repeat_secs: u64, now: u64) -> Decision {
    match (memory, firing) {
        (Some(m), true) if m.firing => {
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
        })
    }

    #[tokio::test]
    async fn storm_control() {
        let resolved = Some(AlertMemory {
            firing: false,
            mailed_at: 100,
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
            assert_eq!(decide(memory, is_firing, HOURS_4, now), expected, "{name}");
        }
    }
}
