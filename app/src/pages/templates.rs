//! Settings › Mail Templates: what each mail the system sends says, per language. Rendered on
//! the server with a plain form (`?mail=ID&lang=TAG` chooses the template); the page's script
//! (`frontend/page.js`) renders the preview again as the admin types and keeps the text on the
//! page when a save is refused. Without it, Save and "Send this preview to me" still work and
//! the preview is the saved template's.

use super::error_line;
use crate::api::templates::{mail_templates, Preview, PreviewTemplate, SaveTemplate, SendTemplatePreview, TemplatesView};
use crate::error::AppError;
use leptos::{prelude::*, server_fn::ServerFn};
use leptos_meta::Title;
use crate::i18n::tr;
use leptos_router::hooks::use_query_map;

#[component]
pub fn MailTemplatesPage() -> impl IntoView {
    let save = ServerAction::<SaveTemplate>::new();
    let send = ServerAction::<SendTemplatePreview>::new();
    let error = save.value().get_untracked().and_then(Result::err).or_else(|| send.value().get_untracked().and_then(Result::err));
    let params = use_query_map().get_untracked();
    let (mail, lang, saved) = (params.get("mail"), params.get("lang"), params.get("saved"));
    view! {
        <Title text=format!("{} · {} · Mailroom", tr("templates-title"), tr("menu-settings")) />
        <h1>{tr("templates-title")}</h1>
        <p class="lead">
            {tr("templates-lead-before")}
            <code>"{{ braces }}"</code>
            {tr("templates-lead-after")}
        </p>
        {Suspend::new(async move {
            match mail_templates(mail, lang).await {
                Ok(view) => editor(view, saved.is_some(), error).into_any(),
                Err(e) => view! {
                    <p class="error" role="alert">{tr("templates-not-loaded")} {e.said()}</p>
                }
                .into_any(),
            }
        })}
    }
}

/// The page's address for one template.
pub fn template_url(mail: &str, lang: &str) -> String {
    format!("{}?mail={mail}&lang={lang}", crate::routes::MAIL_TEMPLATES)
}

fn editor(view: TemplatesView, saved: bool, error: Option<AppError>) -> impl IntoView {
    let TemplatesView { mails, langs, mail, lang, form, version, is_default, variables, preview } = view;
    let choices = mails
        .into_iter()
        .map(|(id, name)| {
            let links = langs
                .iter()
                .map(|(tag, lang_name)| {
                    let current = id == mail && *tag == lang;
                    view! {
                        <a href=template_url(&id, tag) aria-current=current.then_some("page") lang=tag.clone()>{lang_name.clone()}</a>
                    }
                })
                .collect_view();
            view! { <li><span class="template-name">{name}</span> " " {links}</li> }
        })
        .collect_view();
    let status = saved.then(|| view! {
        <p class="done" role="status" id="action-status" tabindex="-1" autofocus>{tr("templates-saved")}</p>
    });
    let failed = error.is_some();
    let rows = variables
        .into_iter()
        .map(|v| view! {
            <tr><th scope="row"><code>{format!("{{{{ {} }}}}", v.name)}</code></th><td>{tr(&v.about)}</td><td>{v.sample}</td></tr>
        })
        .collect_view();
    let state = if is_default { tr("templates-is-default") } else { tr("templates-is-own") };
    view! {
        <nav aria-label=tr("templates-choices") class="template-choices"><ul>{choices}</ul></nav>
        {status}
        <div class="template-editor-wrap">
            // The page script's words, in the page's language.
            <form method="post" action=SaveTemplate::url() class="settings-form template-editor" data-preview=PreviewTemplate::url()
                data-conflict=tr("templates-js-conflict") data-session-ended=tr("templates-js-session-ended")
                data-refused=tr("templates-js-refused") data-unreachable=tr("templates-js-unreachable")>
                <input type="hidden" name="mail" value=mail.clone() />
                <input type="hidden" name="lang" value=lang.clone() />
                <input type="hidden" name="version" value=version.to_string() />
                <p class="hint">{state}</p>
                <div class="field">
                    <label for="template-subject">{tr("templates-subject")}</label>
                    <input id="template-subject" name="form[subject]" type="text" required value=form.subject lang=lang.clone() autofocus=failed
                        aria-describedby=if failed { "form-error" } else { "" } />
                </div>
                <div class="field">
                    <label for="template-text">{tr("templates-text")}</label>
                    <textarea id="template-text" name="form[text]" rows="10" required lang=lang.clone()>{form.text}</textarea>
                </div>
                <div class="field">
                    <label for="template-html">{tr("templates-html")}</label>
                    <textarea id="template-html" name="form[html]" rows="6" lang=lang.clone() aria-describedby="template-html-hint">{form.html}</textarea>
                    <p class="hint" id="template-html-hint">{tr("templates-html-hint")}</p>
                </div>
                {error_line(error)}
                <div class="actions">
                    <button type="submit">{tr("templates-save")}</button>
                    <button type="submit" class="secondary" formaction=SendTemplatePreview::url()>{tr("templates-send-preview")}</button>
                    {(!is_default).then(|| view! {
                        <button type="submit" class="secondary" name="reset" value="reset" formnovalidate>{tr("templates-reset")}</button>
                    })}
                </div>
            </form>
            <aside aria-labelledby="variables-heading" class="template-variables">
                <h2 id="variables-heading">{tr("templates-variables")}</h2>
                <table>
                    <thead><tr><th scope="col">{tr("templates-variables-write")}</th><th scope="col">{tr("templates-variables-what")}</th><th scope="col">{tr("templates-variables-sample")}</th></tr></thead>
                    <tbody>{rows}</tbody>
                </table>
            </aside>
        </div>
        {preview_view(preview, &lang)}
    }
}

/// The preview as the server renders it (the page's script replaces this section's content
/// with the same markup as the admin types).
fn preview_view(preview: Preview, lang: &str) -> impl IntoView {
    let Preview { subject, text, html, problems } = preview;
    let problems = (!problems.is_empty()).then(|| view! {
        <div class="error template-problems" role="alert">
            <ul>{problems.into_iter().map(|p| view! { <li>{p}</li> }).collect_view()}</ul>
        </div>
    });
    view! {
        <section aria-labelledby="preview-heading" class="template-preview" id="template-preview" aria-live="polite">
            <h2 id="preview-heading">{tr("templates-preview")}</h2>
            {problems}
            <p><strong>{tr("templates-preview-subject")}</strong><span class="preview-subject" lang=lang.to_string()>{subject}</span></p>
            <pre class="preview-text" lang=lang.to_string()>{text}</pre>
            // Sandboxed (no scripts, no forms, its own origin): the mail's HTML as a client shows it.
            <iframe class="preview-html" title=tr("templates-preview-html") sandbox="" srcdoc=html.clone().unwrap_or_default() hidden=html.is_none()></iframe>
        </section>
    }
}
