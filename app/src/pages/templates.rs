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
use leptos_router::hooks::use_query_map;

#[component]
pub fn MailTemplatesPage() -> impl IntoView {
    let save = ServerAction::<SaveTemplate>::new();
    let send = ServerAction::<SendTemplatePreview>::new();
    let error = save.value().get_untracked().and_then(Result::err).or_else(|| send.value().get_untracked().and_then(Result::err));
    let params = use_query_map().get_untracked();
    let (mail, lang, saved) = (params.get("mail"), params.get("lang"), params.get("saved"));
    view! {
        <Title text="Mail Templates · Settings · Mailroom" />
        <h1>"Mail Templates"</h1>
        <p class="lead">
            "What each mail Mailroom sends says, in each language. The values in "
            <code>"{{ braces }}"</code>
            " are filled in when the mail is sent; the preview shows them with sample values. A template is checked before it is saved."
        </p>
        {Suspend::new(async move {
            match mail_templates(mail, lang).await {
                Ok(view) => editor(view, saved.is_some(), error).into_any(),
                Err(e) => view! {
                    <p class="error" role="alert">"The templates could not be loaded: " {e.to_string()}</p>
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
        <p class="done" role="status" id="action-status" tabindex="-1" autofocus>"Template saved. The next mail of this kind uses it."</p>
    });
    let failed = error.is_some();
    let rows = variables
        .into_iter()
        .map(|v| view! {
            <tr><th scope="row"><code>{format!("{{{{ {} }}}}", v.name)}</code></th><td>{v.about}</td><td>{v.sample}</td></tr>
        })
        .collect_view();
    let state = if is_default { "This is the default that ships with Mailroom." } else { "Saved by an admin; \u{201c}Reset to default\u{201d} brings the default back." };
    view! {
        <nav aria-label="Mails and languages" class="template-choices"><ul>{choices}</ul></nav>
        {status}
        <div class="template-editor-wrap">
            <form method="post" action=SaveTemplate::url() class="settings-form template-editor" data-preview=PreviewTemplate::url()>
                <input type="hidden" name="mail" value=mail.clone() />
                <input type="hidden" name="lang" value=lang.clone() />
                <input type="hidden" name="version" value=version.to_string() />
                <p class="hint">{state}</p>
                <div class="field">
                    <label for="template-subject">"Subject"</label>
                    <input id="template-subject" name="form[subject]" type="text" required value=form.subject lang=lang.clone() autofocus=failed
                        aria-describedby=if failed { "form-error" } else { "" } />
                </div>
                <div class="field">
                    <label for="template-text">"Plain-text body"</label>
                    <textarea id="template-text" name="form[text]" rows="10" required lang=lang.clone()>{form.text}</textarea>
                </div>
                <div class="field">
                    <label for="template-html">"HTML body"</label>
                    <textarea id="template-html" name="form[html]" rows="6" lang=lang.clone() aria-describedby="template-html-hint">{form.html}</textarea>
                    <p class="hint" id="template-html-hint">"Optional. Every value is escaped; leave it empty to send plain text only."</p>
                </div>
                {error_line(error)}
                <div class="actions">
                    <button type="submit">"Save"</button>
                    <button type="submit" class="secondary" formaction=SendTemplatePreview::url()>"Send this preview to me"</button>
                    {(!is_default).then(|| view! {
                        <button type="submit" class="secondary" name="reset" value="reset" formnovalidate>"Reset to default"</button>
                    })}
                </div>
            </form>
            <aside aria-labelledby="variables-heading" class="template-variables">
                <h2 id="variables-heading">"Variables"</h2>
                <table>
                    <thead><tr><th scope="col">"Write"</th><th scope="col">"What it is"</th><th scope="col">"Sample"</th></tr></thead>
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
            <h2 id="preview-heading">"Preview, with the sample values"</h2>
            {problems}
            <p><strong>"Subject: "</strong><span class="preview-subject" lang=lang.to_string()>{subject}</span></p>
            <pre class="preview-text" lang=lang.to_string()>{text}</pre>
            // Sandboxed (no scripts, no forms, its own origin): the mail's HTML as a client shows it.
            <iframe class="preview-html" title="HTML body" sandbox="" srcdoc=html.clone().unwrap_or_default() hidden=html.is_none()></iframe>
        </section>
    }
}
