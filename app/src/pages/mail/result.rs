//! The outcome of "Test Email Server": progress, the report card with its actions, and the line
//! that says whether the values in the form are the ones that passed.

use super::browser::{self, Time};
use super::fields::apply_fix;
use super::state::FormState;
use crate::api::TestMailServer;
use crate::domain;
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

/// Whether the values in the form passed a test on this page, and the stored test history.
#[component]
pub fn TestedStatus(state: FormState, history: RwSignal<TestHistory>) -> impl IntoView {
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
            (None, _) => (
                "",
                "These values have not been tested on this page yet.",
                None,
                "",
            ),
        };
        view! { <span class=class>{before} {at.map(|at| view! { <Time at /> })} {after}</span> }
    };
    let stored = move || {
        let h = history.get();
        {
            let success = h.last_success.clone().map(|t| {
                view! { "Last successful test: " <Time at=t.finished_at /> {format!(" ({}).", t.server)} }
            });
            let failed = h.last.clone().and_then(|t| {
                let d = t.diagnosis?;
                Some(view! { {format!(" Last test failed: {} (", d.title())} <Time at=t.finished_at /> ")." })
            });
            let none = (success.is_none() && failed.is_none()).then_some("Not tested yet.");
            let no_success = (success.is_none() && failed.is_some()).then_some("No successful test yet.");
            view! { {none} {no_success} {success} {failed} }
        }
    };
    view! {
        <p class="muted" data-testid="tested-status">{this_page}</p>
        <p class="muted" data-testid="last-test">{stored}</p>
    }
}

/// The outcome of "Test Email Server", or its progress. Refused by the rate limit, the last
/// report stays in view (the button counts down).
#[component]
pub fn TestResult(
    test: ServerAction<TestMailServer>,
    state: FormState,
    last_report: RwSignal<Option<TestReport>>,
) -> impl IntoView {
    let kept = move || {
        let limited = matches!(test.value().get(), Some(Err(AppError::RateLimited { .. })));
        limited
            .then(|| last_report.get())
            .flatten()
            .map(|report| view! { <ReportView report state /> })
    };
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
    let report = move || {
        answer()
            .and_then(Result::ok)
            .map(|report| view! { <ReportView report state /> })
    };
    let refused = move || answer().and_then(Result::err).map(error_view);
    view! {
        {progress}
        {report}
        {refused}
        {kept}
    }
}

#[component]
fn ReportView(report: TestReport, state: FormState) -> impl IntoView {
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
        <section class=class aria-labelledby="test-result-heading" data-testid="test-result">
            <h2 id="test-result-heading" tabindex="-1">{heading}</h2>
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
            {success.then(|| view! {
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
