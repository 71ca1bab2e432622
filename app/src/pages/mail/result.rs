//! The outcome of "Test Email Server": progress, the report card with its actions, and the line
//! that says whether the values in the form are the ones that passed.

use super::browser;
use crate::pages::Time;
use super::fields::apply_fix;
use super::state::FormState;
use crate::api::TestMailServer;
use crate::domain::{self, Field, MailServerForm};
use crate::error::AppError;
use crate::history::TestHistory;
use crate::report::TestReport;
use leptos::prelude::*;

/// An error of a save or a test, in words; an ended session offers the way back in.
pub fn error_view(e: AppError) -> impl IntoView {
    let login = (e == AppError::NotAuthenticated).then(|| {
        let href = format!("{}?next=%2Fsettings%2Fmail", crate::routes::LOGIN);
        view! { " " <a href=href>"Log in again"</a> }
    });
    let text = match e {
        AppError::Invalid { .. } => "Not done: correct the fields marked above.".to_string(),
        other => other.to_string(),
    };
    view! { <p class="error">{text} {login}</p> }
}

/// One line: whether the values in the form passed a test on this page or, before any did,
/// what the stored test history says (the last test, unless its card is in view; the last
/// success).
#[component]
pub fn TestedStatus(state: FormState, history: RwSignal<TestHistory>, shown_report: Signal<bool>) -> impl IntoView {
    // One view whatever the case (no type-erased branches: each costs the wasm several KB).
    let this_page = move || {
        let (class, before, at, after) = match (state.tested.get(), state.tested_now()) {
            (Some(t), true) => ("ok", "\u{2713} These values passed a test at ", Some(t.at), "."),
            (Some(t), false) => (
                "warning",
                "These values changed since they passed a test at ",
                Some(t.at),
                ": test again before saving.",
            ),
            (None, _) => ("", "", None, ""),
        };
        view! { <span class=class>{before} {at.map(|at| view! { <Time at /> })} {after}</span> }
    };
    let stored = move || {
        if state.tested.read().is_some() {
            return None;
        }
        let h = history.get();
        let failed = h.last.clone().filter(|_| !shown_report.get()).and_then(|t| {
            let d = t.diagnosis?;
            Some(view! { {format!("Last test failed: {} (", d.title())} <Time at=t.finished_at /> ")." })
        });
        let success = h.last_success.clone().map(|t| {
            let before = if failed.is_some() { " Last successful test: " } else { "Last successful test: " };
            view! { {before} <Time at=t.finished_at /> {format!(" ({}).", t.server)} }
        });
        let tried = h.last.is_some();
        let none = (!tried).then_some("Not tested yet.");
        let no_success = (success.is_none() && tried).then_some(" No test has succeeded yet.");
        Some(view! { {none} {failed} {no_success} {success} })
    };
    view! { <p class="muted" data-testid="tested-status">{this_page} {stored}</p> }
}

/// The outcome of "Test Email Server", or its progress. The last report stays in view (also
/// when the next test is refused by the rate limit, while the button counts down); once the form
/// holds other values it says so.
#[component]
pub fn TestResult(
    test: ServerAction<TestMailServer>,
    state: FormState,
    last_report: RwSignal<Option<(TestReport, MailServerForm)>>,
) -> impl IntoView {
    let progress = move || {
        test.pending().get().then(|| {
            let (server, secs) = {
                let f = state.form.read_untracked();
                let secs = domain::Timeout::parse(&f.timeout)
                    .map(|t| t.secs())
                    .unwrap_or(domain::DEFAULT_TIMEOUT_SECS);
                (format!("{}:{}", f.host.trim(), f.port.trim()), secs)
            };
            view! {
                <p class="muted">
                    {format!("Sending a test mail through {server}\u{2026} (at most {secs} s)")}
                </p>
            }
        })
    };
    let answer = move || (!test.pending().get()).then(|| test.value().get()).flatten();
    let refused = move || answer().and_then(Result::err);
    let report = move || {
        let shown = !test.pending().get()
            && refused().is_none_or(|e| matches!(e, AppError::RateLimited { .. }));
        shown
            .then(|| last_report.get())
            .flatten()
            .map(|(report, tested)| view! { <ReportView report tested state /> })
    };
    view! {
        {progress}
        {move || refused().map(error_view)}
        {report}
    }
}

/// The fields whose values differ from `then`, with the values they had (secrets named only):
/// "Port 1, Password".
fn changed_since(then: &MailServerForm, now: &MailServerForm) -> String {
    Field::SETTINGS
        .into_iter()
        .filter(|f| then.value(*f) != now.value(*f))
        .map(|f| {
            let old = then.value(f);
            if f.is_secret() || old.is_empty() {
                f.label().to_string()
            } else {
                format!("{} {old}", f.label())
            }
        })
        .collect::<Vec<_>>()
        .join(", ")
}

#[component]
fn ReportView(report: TestReport, tested: MailServerForm, state: FormState) -> impl IntoView {
    // Once the form holds other values: an old result, for the values it names.
    let finished = report.finished_at.clone();
    let old = Memo::new(move |_| {
        let changed = changed_since(&tested, &state.form.read());
        (!changed.is_empty()).then_some(changed)
    });
    let stale = move || {
        old.get().map(|changed| {
            view! {
                <p class="stale-note" data-testid="stale-result">
                    <strong>"Old result: "</strong>
                    "for the values at " <Time at=finished.clone() /> {format!(" ({changed}). The form holds other values now: test again.")}
                </p>
            }
        })
    };
    let reply = match (report.code, &report.server_reply) {
        (Some(c), Some(r)) => Some(format!("{c} {r}")),
        (Some(c), None) => Some(c.to_string()),
        _ => None,
    };
    let class = if report.success() {
        "test-result ok"
    } else {
        "test-result failed"
    };
    let heading = match report.diagnosis {
        None => "Test email accepted".to_string(),
        Some(d) => format!("Test failed: {}", d.title()),
    };
    let at_fault = report.field();
    let success = report.success();
    let diagnosis = report.diagnosis;
    // The one-click fix for this failure, while it still changes the form.
    let fix = move || diagnosis.and_then(|d| d.fix(&state.form.read()));
    let transcript = report
        .transcript
        .iter()
        .map(|l| {
            format!(
                "{} {}",
                if l.client { "C:" } else { "S:" },
                l.text.replace('\n', "\n   ")
            )
        })
        .collect::<Vec<_>>()
        .join("\n");
    let details = format!(
        "{} with {}, to {}, in {} ms.",
        report.server,
        report.encryption.describe(),
        report.recipient,
        report.elapsed_ms
    );
    let advice = report.advice.clone();
    view! {
        <section class=class class:stale=move || old.get().is_some() aria-labelledby="test-result-heading" data-testid="test-result">
            <h2 id="test-result-heading" tabindex="-1">{heading}</h2>
            {stale}
            <p>{report.summary.clone()}</p>
            {reply.map(|r| view! { <p class="reply">"Server reply: " <code>{r}</code></p> })}
            {at_fault.map(|f| view! {
                <p>
                    "Most likely at fault: "
                    <button type="button" class="link" on:click=move |_| {
                        browser::focus(browser::field_selector(f))
                    }>{f.label()}</button>
                </p>
            })}
            {move || fix().map(|fix| view! {
                <p>
                    <button type="button" class="secondary" on:click=move |_| apply_fix(state, fix)>
                        {fix.label()}
                    </button>
                    " then test again."
                </p>
            })}
            {move || (success && old.get().is_none()).then(|| view! {
                <p><button type="submit">"Save these settings"</button></p>
            })}
            {(!advice.is_empty())
                .then(|| {
                    view! {
                        <ul class="advice">
                            {advice.into_iter().map(|a| view! { <li>{a}</li> }).collect_view()}
                        </ul>
                    }
                })}
            <p class="muted">{details}</p>
            <details class="transcript">
                <summary>"SMTP transcript"</summary>
                <pre>{transcript}</pre>
            </details>
        </section>
    }
}
