//! The outcome of "Test Email Server": progress, the report card with its actions, and the line
//! that says whether the values in the form are the ones that passed.

use super::browser;
use super::fields::apply_fix;
use super::state::FormState;
use crate::api::{mail::TestAnswer, TestMailServer};
use crate::domain::{self, Field, MailServerForm, Said};
use crate::error::AppError;
use crate::pages::Time;
#[cfg(feature = "ssr")]
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
/// what the stored test history says (`tests_shown`, rendered on the server: the last test
/// unless its card is in view, the last success).
#[component]
pub fn TestedStatus(state: FormState, tests_shown: RwSignal<String>) -> impl IntoView {
    // One view whatever the case (no type-erased branches: each costs the wasm several KB).
    let this_page = move || {
        let (class, id, at) = match (state.tested.get(), state.tested_now()) {
            (Some(t), true) => ("ok", "form-tested-ok", Some(t.at)),
            (Some(t), false) => ("warning", "form-tested-changed", Some(t.at)),
            (None, _) => ("", "", None),
        };
        let (before, after) = if id.is_empty() {
            Default::default()
        } else {
            state.around(&Said::new(id), "at")
        };
        view! { <span class=class>{before} {at.map(|at| view! { <Time at /> })} {after}</span> }
    };
    let stored = move || {
        if state.tested.read().is_some() {
            String::new()
        } else {
            tests_shown.get()
        }
    };
    view! { <p class="muted" data-testid="tested-status">{this_page} <span inner_html=stored></span></p> }
}

/// The stored test history's line (server-side): nothing tested yet, the last failure (left
/// out while its card is in view: `brief`), whether any test succeeded and when the last did.
#[cfg(feature = "ssr")]
pub fn tests_shown(history: &crate::history::TestHistory, brief: bool) -> String {
    use crate::i18n::{tr, tr_around};
    let failed = history.last.as_ref().filter(|_| !brief).and_then(|t| {
        let d = t.diagnosis?;
        let (before, after) = tr_around("form-last-failed", &[("title", tr(d.title_id()).into())]);
        Some(view! { {before} <Time at=t.finished_at.clone() /> {after} })
    });
    let success = history.last_success.as_ref().map(|t| {
        let (before, after) = tr_around("form-last-success", &[("server", t.server.clone().into())]);
        let before = if failed.is_some() {
            format!(" {before}")
        } else {
            before
        };
        view! { {before} <Time at=t.finished_at.clone() /> {after} }
    });
    let tried = history.last.is_some();
    let none = (!tried).then(|| tr("form-not-tested"));
    let no_success = (success.is_none() && tried).then(|| format!(" {}", tr("form-no-success")));
    view! { {none} {failed} {no_success} {success} }.to_html()
}

/// The outcome of "Test Email Server", or its progress. The last report stays in view (also
/// when the next test is refused by the rate limit, while the button counts down); once the form
/// holds other values it says so.
#[component]
pub fn TestResult(
    test: super::Call<TestMailServer>,
    state: FormState,
    last_report: RwSignal<Option<(TestAnswer, MailServerForm)>>,
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
        let shown =
            !test.pending().get() && refused().is_none_or(|e| matches!(e, AppError::RateLimited { .. }));
        shown
            .then(|| last_report.get())
            .flatten()
            .map(|(answer, tested)| view! { <ReportView answer tested state /> })
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

/// The report card: the server's three parts of it (`report_card`) around what the island
/// decides itself, whether the result is stale, the one-click fix and "Save these settings".
#[component]
fn ReportView(answer: TestAnswer, tested: MailServerForm, state: FormState) -> impl IntoView {
    // Once the form holds other values: an old result, for the values it names.
    let finished = answer.finished_at;
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
    let success = answer.diagnosis.is_none();
    let class = if success {
        "test-result ok"
    } else {
        "test-result failed"
    };
    let diagnosis = answer.diagnosis;
    // The one-click fix for this failure, while it still changes the form.
    let fix = move || diagnosis.and_then(|d| d.fix(&state.form.read()));
    let [heading, body, more] = answer.card;
    // The field at fault is a button in the server's HTML (`data-focus`): one handler for it.
    let on_click = move |ev: leptos::ev::MouseEvent| {
        if let Some(selector) = browser::data_focus(&ev) {
            browser::focus(&selector);
        }
    };
    view! {
        <section class=class class:stale=move || old.get().is_some() aria-labelledby="test-result-heading"
            data-testid="test-result" on:click=on_click>
            <div inner_html=heading></div>
            {stale}
            <div inner_html=body></div>
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
            <div inner_html=more></div>
        </section>
    }
}

/// The report card's three parts, rendered on the server in the page's language (see
/// [`TestAnswer::card`]).
#[cfg(feature = "ssr")]
pub fn report_card(report: &TestReport) -> [String; 3] {
    use crate::i18n::{tr, tr_args};
    let reply = match (report.code, &report.server_reply) {
        (Some(c), Some(r)) => Some(format!("{c} {r}")),
        (Some(c), None) => Some(c.to_string()),
        _ => None,
    };
    let heading = match report.diagnosis {
        None => tr("form-test-accepted"),
        Some(d) => tr_args("form-test-failed", &[("title", tr(d.title_id()).into())]),
    };
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
    let details = tr_args(
        "form-details",
        &[
            ("server", report.server.clone().into()),
            ("encryption", tr(report.encryption.describe_id()).into()),
            ("recipient", report.recipient.clone().into()),
            ("ms", report.elapsed_ms.into()),
        ],
    );
    let at_fault = report.field().map(|f| {
        view! {
            <p>
                {tr("form-at-fault")}
                <button type="button" class="link" data-focus=browser::field_selector(f)>{tr(f.label_id())}</button>
            </p>
        }
    });
    let advice = (!report.advice.is_empty()).then(|| {
        view! { <ul class="advice">{report.advice.iter().map(|a| view! { <li>{a.clone()}</li> }).collect_view()}</ul> }
    });
    [
        view! { <h2 id="test-result-heading" tabindex="-1">{heading}</h2> }.to_html(),
        view! {
            <p>{report.summary.clone()}</p>
            {reply.map(|r| view! { <p class="reply">{tr("form-server-reply")} <code>{r}</code></p> })}
            {at_fault}
        }
        .to_html(),
        view! {
            {advice}
            <p class="muted">{details}</p>
            <details class="transcript">
                <summary>{tr("form-transcript")}</summary>
                <pre>{transcript}</pre>
            </details>
        }
        .to_html(),
    ]
}
