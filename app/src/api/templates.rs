//! Settings › Mail Templates: what each mail the system sends says, per language. Read one
//! template with its variables and a preview, preview an edit (rendered by the server with the
//! mail's sample values), save or put it back to the default (checked first: a problem is
//! reported with its line and nothing is saved), and send a preview to oneself through the
//! outbox.

use crate::error::AppError;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// A template as the page edits it (the HTML body empty: none).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TemplateForm {
    pub subject: String,
    pub text: String,
    #[serde(default)]
    pub html: String,
}

/// A variable the mail offers its template.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VariableLine {
    pub name: String,
    pub about: String,
    pub sample: String,
}

/// A template rendered with the sample values, or what keeps it from rendering (each problem
/// with its part and line).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Preview {
    pub subject: String,
    pub text: String,
    pub html: Option<String>,
    pub problems: Vec<String>,
}

/// The page's content for one mail in one language.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TemplatesView {
    /// Every mail (id, name) and language (tag, name), for the page's choices.
    pub mails: Vec<(String, String)>,
    pub langs: Vec<(String, String)>,
    pub mail: String,
    pub lang: String,
    pub form: TemplateForm,
    /// Its version (0: the default, never saved), sent back with a save.
    pub version: u64,
    pub is_default: bool,
    pub variables: Vec<VariableLine>,
    pub preview: Preview,
}

#[cfg(feature = "ssr")]
mod ssr {
    use super::*;
    use crate::templates::{Kind, Lang, Texts};

    pub fn kind(mail: &str) -> Result<Kind, AppError> {
        Kind::from_id(mail).ok_or_else(|| AppError::BadRequest(format!("There is no mail called \u{201c}{mail}\u{201d}.")))
    }

    pub fn lang(tag: &str) -> Result<Lang, AppError> {
        Lang::from_tag(tag).ok_or_else(|| AppError::BadRequest(format!("Mail templates are in English (en) or Simplified Chinese (zh-CN), not \u{201c}{tag}\u{201d}.")))
    }

    pub fn texts(form: &TemplateForm) -> Texts {
        Texts {
            subject: form.subject.clone(),
            text: form.text.clone(),
            html: Some(form.html.clone()).filter(|h| !h.trim().is_empty()),
        }
    }

    pub fn form(texts: &Texts) -> TemplateForm {
        TemplateForm { subject: texts.subject.clone(), text: texts.text.clone(), html: texts.html.clone().unwrap_or_default() }
    }

    /// The mail's name on the page, in the page's language.
    pub fn name(kind: Kind) -> String {
        use crate::i18n::tr;
        match kind {
            Kind::TestMail => tr("mail-test-mail"),
            Kind::QueueTest => tr("mail-queue-test"),
            Kind::PasswordReset => tr("mail-password-reset"),
            Kind::Alert => tr("mail-alert"),
            Kind::AlertGroup => tr("mail-alert-group"),
        }
    }

    pub fn lang_name(lang: Lang) -> &'static str {
        match lang {
            Lang::En => "English",
            Lang::ZhCn => "简体中文",
        }
    }

    /// `texts` checked, and rendered with the sample values when it passes.
    pub fn preview(kind: Kind, lang: Lang, texts: &Texts) -> Preview {
        let words = crate::i18n::page_lang();
        let problems: Vec<String> = crate::templates::check(kind, lang, texts).iter().map(|p| p.said(words)).collect();
        if !problems.is_empty() {
            return Preview { problems, ..Preview::default() };
        }
        match crate::templates::render(texts, &kind.sample(lang)) {
            Ok(mail) => Preview { subject: mail.subject, text: mail.text, html: mail.html, problems },
            Err(problem) => Preview { problems: vec![problem.said(words)], ..Preview::default() },
        }
    }

    /// Refused with every problem, each with its part and line: nothing is saved.
    pub fn checked(kind: Kind, lang: Lang, texts: &Texts) -> Result<(), AppError> {
        let problems = crate::templates::check(kind, lang, texts);
        if problems.is_empty() {
            return Ok(());
        }
        let said: Vec<String> = problems.iter().map(|p| p.said(crate::i18n::page_lang())).collect();
        Err(AppError::Refused(format!("{}{}", crate::i18n::tr("templates-nothing-saved"), said.join("; "))))
    }
}

/// The template of `mail` in `lang` (the first mail, in the page's language, when not given).
#[server(endpoint = "mail_templates", output = super::codec::Json)]
pub async fn mail_templates(mail: Option<String>, lang: Option<String>) -> Result<TemplatesView, AppError> {
    use crate::templates::{Kind, Lang};
    crate::api::server::session().await?;
    let kind = mail.as_deref().map(ssr::kind).transpose()?.unwrap_or(Kind::ALL[0]);
    // Not chosen: the page's own language.
    let lang = lang.as_deref().map(ssr::lang).transpose()?.unwrap_or_else(crate::i18n::page_lang);
    let saved = crate::api::server::store()?.load_templates().await?;
    let stored = saved.get(&crate::store::templates::template_key(kind, lang));
    let texts = crate::store::templates::in_force(&saved, kind, lang);
    Ok(TemplatesView {
        mails: Kind::ALL.iter().map(|k| (k.id().to_string(), ssr::name(*k))).collect(),
        langs: Lang::ALL.iter().map(|l| (l.tag().to_string(), ssr::lang_name(*l).to_string())).collect(),
        mail: kind.id().to_string(),
        lang: lang.tag().to_string(),
        form: ssr::form(&texts),
        version: stored.map_or(0, |t| t.version),
        is_default: stored.is_none_or(|t| t.texts.is_none()),
        variables: kind
            .variables()
            .iter()
            .map(|v| VariableLine {
                name: v.name.to_string(),
                about: v.about.to_string(),
                // A list's sample is long: the preview shows it.
                sample: match v.sample_in(lang) {
                    list if list.starts_with('[') => crate::i18n::tr("templates-variables-list"),
                    sample => sample.to_string(),
                },
            })
            .collect(),
        preview: ssr::preview(kind, lang, &texts),
    })
}

/// `form` rendered with the mail's sample values in `lang` (English when not given), or its
/// problems (nothing is saved).
#[server(endpoint = "preview_template", output = super::codec::Json)]
pub async fn preview_template(mail: String, lang: Option<String>, form: TemplateForm) -> Result<Preview, AppError> {
    crate::api::server::session().await?;
    crate::api::server::speak().await;
    let kind = ssr::kind(&mail)?;
    let lang = lang.as_deref().map(ssr::lang).transpose()?.unwrap_or_default();
    Ok(ssr::preview(kind, lang, &ssr::texts(&form)))
}

/// Saves `form` as the template of `mail` in `lang` if its version is still `version`; with
/// `reset`, puts it back to the default instead. Checked first: a problem refuses the save,
/// naming its part and line.
#[server(endpoint = "save_template", output = super::codec::Json)]
pub async fn save_template(mail: String, lang: String, version: u64, form: TemplateForm, reset: Option<String>) -> Result<u64, AppError> {
    use crate::store::StoreError;
    let session = crate::api::server::session().await?;
    crate::api::server::speak().await;
    let (kind, lang) = (ssr::kind(&mail)?, ssr::lang(&lang)?);
    let texts = match reset {
        Some(_) => None,
        None => {
            let texts = ssr::texts(&form);
            ssr::checked(kind, lang, &texts)?;
            Some(texts)
        }
    };
    let store = crate::api::server::store()?;
    match store.save_template(kind, lang, version, texts, &session.admin).await {
        Ok(saved) => {
            let page = format!("{}?mail={}&lang={}&saved={}", crate::routes::MAIL_TEMPLATES, kind.id(), lang.tag(), saved.version);
            leptos_axum::redirect(&page);
            Ok(saved.version)
        }
        Err(StoreError::Conflict { current, saved_at }) => Err(AppError::Conflict { current, saved_at, newer: None }),
        Err(e) => Err(e.into()),
    }
}

/// Sends `form`, rendered with the sample values, to the admin through the outbox (first in
/// line); returns the message's id. Checked first, like a save.
#[server(endpoint = "send_template_preview", output = super::codec::Json)]
pub async fn send_template_preview(mail: String, lang: String, form: TemplateForm) -> Result<u64, AppError> {
    use crate::outbox::{Origin, Priority};
    use crate::store::{MailBody, NewMessage};
    let session = crate::api::server::session().await?;
    crate::api::server::speak().await;
    let (kind, lang) = (ssr::kind(&mail)?, ssr::lang(&lang)?);
    let texts = ssr::texts(&form);
    ssr::checked(kind, lang, &texts)?;
    let rendered = crate::templates::render(&texts, &kind.sample(lang))
        .map_err(|p| AppError::Refused(format!("{}{}", crate::i18n::tr("templates-nothing-sent"), p.said(crate::i18n::page_lang()))))?;
    let message = NewMessage {
        to: session.admin.clone(),
        subject: rendered.subject,
        body: MailBody { text: rendered.text, html: rendered.html, thread: None, raw: None },
        priority: Priority::Alert,
        expires_at: None,
        origin: Origin::TemplatePreview {
            admin: session.admin.clone(),
            mail: crate::store::templates::template_key(kind, lang),
        },
    };
    let queued = crate::api::server::current()?.outbox.submit(vec![message], None, crate::clock::now_unix()).await?;
    let id = queued.ids().first().copied().unwrap_or_default();
    leptos_axum::redirect(&format!("{}?open={id}#message-{id}", crate::routes::MAIL_ACTIVITY));
    Ok(id)
}
