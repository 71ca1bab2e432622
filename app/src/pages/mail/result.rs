//! The outcome of "Test Email Server": progress, the report card with its actions, and the line
//! that says whether the values in the form are the ones that passed.

use super::browser;
use crate::pages::Time;
use super::fields::apply_fix;
use super::state::FormState;
use crate::api::TestMailServer;
use crate::domain::{self, Field, MailServerForm, Said};
use crate::error::AppError;
use crate::history::TestHistory;
use crate::report::TestReport;
use leptos::prelude::*;

/// An error of a save or a test, in words; an ended session offers the way back in.
pub fn error_view(state: FormState, e: AppError) -> impl IntoView {
    let login = (e == AppError::NotAuthenticated).then(|| {
        let href = format!("{}?next=%2Fsettings%2Fmail", crate::routes::LOGIN);
        view! { " " <a href=href>{state.w("form-log-in-again")}</a> }
    });
    let text = match e {
        AppError::Invalid { .. } => state.w("form-not-done"),
        other => state.words.with_value(|w| other.said_in(w)),
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
        let (class, id, at) = match (state.tested.get(), state.tested_now()) {
            (Some(t), true) => ("ok", "form-tested-ok", Some(t.at)),
            (Some(t), false) => ("warning", "form-tested-changed", Some(t.at)),
            (None, _) => ("", "", None),
        };
        let (before, after) = if id.is_empty() { Default::default() } else { state.around(&Said::new(id), "at") };
        view! { <span class=class>{before} {at.map(|at| view! { <Time at /> })} {after}</span> }
    };
    let stored = move || {
        if state.tested.read().is_some() {
            return None;
        }
        let h = history.get();
        let failed = h.last.clone().filter(|_| !shown_report.get()).and_then(|t| {
            let d = t.diagnosis?;
            let (before, after) = state.around(&Said::new("form-last-failed").with("title", state.w(d.title_id())), "at");
            Some(view! { {before} <Time at=t.finished_at /> {after} })
        });
        let success = h.last_success.clone().map(|t| {
            let (before, after) = state.around(&Said::new("form-last-success").with("server", &t.server), "at");
            let before = if failed.is_some() { format!(" {before}") } else { before };
            view! { {before} <Time at=t.finished_at /> {after} }
        });
        let tried = h.last.is_some();
        let none = (!tried).then(|| state.w("form-not-tested"));
        let no_success = (success.is_none() && tried).then(|| format!(" {}", state.w("form-no-success")));
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
                    {state.say(&Said::new("form-sending").with("server", server).with("seconds", secs))}
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
        {move || refused().map(|e| error_view(state, e))}
        {report}
    }
}

/// The fields whose values differ from `then`, with the values they had (secrets named only):
/// "Port 1, Password".
fn changed_since(state: FormState, then: &MailServerForm, now: &MailServerForm) -> String {
    Field::SETTINGS
        .into_iter()
        .filter(|f| then.value(*f) != now.value(*f))
        .map(|f| {
            let old = then.value(f);
            if f.is_secret() || old.is_empty() {
                state.label(f)
            } else {
                format!("{} {old}", state.label(f))
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
        let changed = changed_since(state, &tested, &state.form.read());
        (!changed.is_empty()).then_some(changed)
    });
    let stale = move || {
        old.get().map(|changed| {
            let (before, after) = state.around(&Said::new("form-stale-text").with("changed", changed), "at");
            view! {
                <p class="stale-note" data-testid="stale-result">
                    <strong>{state.w("form-stale")}</strong>
                    {before} <Time at=finished.clone() /> {after}
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
        None => state.w("form-test-accepted"),
        Some(d) => state.say(&Said::new("form-test-failed").with("title", state.w(d.title_id()))),
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
    let details = state.say(
        &Said::new("form-details")
            .with("server", &report.server)
            .with("encryption", state.w(report.encryption.describe_id()))
            .with("recipient", &report.recipient)
            .with("ms", report.elapsed_ms),
    );
    let advice = report.advice.clone();
    view! {
        <section class=class class:stale=move || old.get().is_some() aria-labelledby="test-result-heading" data-testid="test-result">
            <h2 id="test-result-heading" tabindex="-1">{heading}</h2>
            {stale}
            <p>{report.summary.clone()}</p>
            {reply.map(|r| view! { <p class="reply">{state.w("form-server-reply")} <code>{r}</code></p> })}
            {at_fault.map(|f| view! {
                <p>
                    {state.w("form-at-fault")}
                    <button type="button" class="link" on:click=move |_| {
                        browser::focus(browser::field_selector(f))
                    }>{state.label(f)}</button>
                </p>
            })}
            {move || fix().map(|fix| view! {
                <p>
                    <button type="button" class="secondary" on:click=move |_| apply_fix(state, fix)>
                        {state.w(fix.label_id())}
                    </button>
                    {state.w("form-then-test-again")}
                </p>
            })}
            {move || (success && old.get().is_none()).then(|| view! {
                <p><button type="submit">{state.w("form-save-these")}</button></p>
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
                <summary>{state.w("form-transcript")}</summary>
                <pre>{transcript}</pre>
            </details>
        </section>
    }
}
