//! What the mails say in words rather than by template: intervals, times and link names,
//! in the mail's language. The templates receive them ready ("4 hours", "4 小时").

use super::Lang;

/// "4 hours", "1 hour 30 minutes", "5 seconds"; "4 小时", "1 小时 30 分钟".
pub fn interval(secs: u64, lang: Lang) -> String {
    let (h, m) = (secs / 3600, secs % 3600 / 60);
    let unit = |n: u64, unit: Unit| unit.say(n, lang);
    match (h, m) {
        (0, 0) => unit(secs, Unit::Second),
        (0, m) => unit(m, Unit::Minute),
        (h, 0) => unit(h, Unit::Hour),
        (h, m) => format!("{} {}", unit(h, Unit::Hour), unit(m, Unit::Minute)),
    }
}

#[derive(Clone, Copy)]
enum Unit {
    Second,
    Minute,
    Hour,
    Day,
}

impl Unit {
    fn say(self, n: u64, lang: Lang) -> String {
        let (one, many, zh) = match self {
            Unit::Second => ("second", "seconds", "秒"),
            Unit::Minute => ("minute", "minutes", "分钟"),
            Unit::Hour => ("hour", "hours", "小时"),
            Unit::Day => ("day", "days", "天"),
        };
        match lang {
            Lang::En => format!("{n} {}", if n == 1 { one } else { many }),
            Lang::ZhCn => format!("{n} {zh}"),
        }
    }
}

/// A time in UTC and how long before `now` it was: `2026-12-04 18:30 UTC (12 minutes before
/// this mail)`, `2026-12-04 18:30 UTC（本邮件发出前 12 分钟）`. Under a minute, the time alone.
pub fn when(at: i64, now: i64, lang: Lang) -> String {
    let stamp = time::OffsetDateTime::from_unix_timestamp(at).map_or_else(
        |_| at.to_string(),
        |t| {
            format!(
                "{}-{:02}-{:02} {:02}:{:02} UTC",
                t.year(),
                u8::from(t.month()),
                t.day(),
                t.hour(),
                t.minute()
            )
        },
    );
    let ago = now - at;
    if ago < 60 {
        return stamp;
    }
    let ago = ago as u64;
    let span = if ago >= 2 * 86_400 { Unit::Day.say(ago / 86_400, lang) } else { interval(ago - ago % 60, lang) };
    match lang {
        Lang::En => format!("{stamp} ({span} before this mail)"),
        Lang::ZhCn => format!("{stamp}（本邮件发出前 {span}）"),
    }
}

/// What an alert's link opens, as its mail names it.
pub fn link_label(label: &str, lang: Lang) -> &str {
    match (lang, label) {
        (Lang::ZhCn, "Source") => "来源",
        (Lang::ZhCn, "Dashboard") => "仪表盘",
        (Lang::ZhCn, "Panel") => "面板",
        (Lang::ZhCn, "Silence") => "静默",
        (Lang::ZhCn, "Runbook") => "处理手册",
        (_, label) => label,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn intervals_read_as_words_in_each_language() {
        assert_eq!(interval(4 * 3600, Lang::En), "4 hours");
        assert_eq!(interval(3600 + 1800, Lang::En), "1 hour 30 minutes");
        assert_eq!(interval(60, Lang::En), "1 minute");
        assert_eq!(interval(5, Lang::En), "5 seconds");
        assert_eq!(interval(4 * 3600, Lang::ZhCn), "4 小时");
        assert_eq!(interval(3600 + 1800, Lang::ZhCn), "1 小时 30 分钟");
    }

    #[test]
    fn times_say_how_long_before_the_mail() {
        let at = 1_796_408_400; // 2026-12-04 18:20 UTC
        assert_eq!(when(at, at + 30, Lang::En), "2026-12-04 18:20 UTC");
        assert_eq!(when(at, at + 12 * 60 + 5, Lang::En), "2026-12-04 18:20 UTC (12 minutes before this mail)");
        assert_eq!(when(at, at + 12 * 60, Lang::ZhCn), "2026-12-04 18:20 UTC（本邮件发出前 12 分钟）");
        assert_eq!(when(at, at + 3 * 86_400, Lang::ZhCn), "2026-12-04 18:20 UTC（本邮件发出前 3 天）");
    }
}
