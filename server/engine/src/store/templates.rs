//! The admins' own mail templates ([`crate::templates`]): one record in the settings (sled's
//! settings tree, PostgreSQL's `settings` table, key [`TEMPLATES_KEY`]) holding each template
//! saved, by mail and language, with its own version, so two admins editing two templates do
//! not conflict and two editing one do. A template never saved, or put back, is the default.

use super::{Need, Sled, SledBackend, StoreError, Versioned};
use sled::Transactional;
use crate::history::{AuditEntry, Change};
use crate::templates::{Kind, Lang, Texts};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The record's key in the settings.
pub(crate) const TEMPLATES_KEY: &str = "templates";
/// Lines of a template's diff kept in the change history at most.
const MAX_DIFF_LINES: usize = 20;
/// A diff line's characters at most.
const MAX_DIFF_LINE_CHARS: usize = 120;

/// One mail's template in one language, as saved.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SavedTemplate {
    /// Counts its saves (and resets); 0 is the default never saved.
    pub version: u64,
    /// RFC 3339, UTC.
    pub saved_at: String,
    /// `None`: put back to the default.
    pub texts: Option<Texts>,
}

/// Every template saved, under [`template_key`].
pub type SavedTemplates = BTreeMap<String, SavedTemplate>;

/// A template's key in [`SavedTemplates`]: "password_reset/zh-CN".
pub fn template_key(kind: Kind, lang: Lang) -> String {
    format!("{}/{}", kind.id(), lang.tag())
}

#[async_trait::async_trait]
pub trait TemplateStore {
    /// Every template an admin saved (the others are the defaults).
    async fn load_templates(&self) -> Result<SavedTemplates, StoreError>;

    /// Saves `texts` as the template of `kind` in `lang` (`None`: back to the default) if its
    /// version is still `expected` ([`StoreError::Conflict`] otherwise, nothing written), with
    /// an entry in the change history saying what changed, in one transaction; durable on
    /// return. Returns the template as saved. The caller checked `texts`.
    async fn save_template(
        &self,
        kind: Kind,
        lang: Lang,
        expected: u64,
        texts: Option<Texts>,
        who: &str,
    ) -> Result<SavedTemplate, StoreError>;
}

/// The template in force: the one saved, else the default.
pub fn in_force(saved: &SavedTemplates, kind: Kind, lang: Lang) -> Texts {
    saved
        .get(&template_key(kind, lang))
        .and_then(|t| t.texts.clone())
        .unwrap_or_else(|| crate::templates::default(kind, lang))
}

/// The template in force for `kind` in `lang`, read from `store`.
pub async fn template(store: &dyn super::Store, kind: Kind, lang: Lang) -> Result<Texts, StoreError> {
    Ok(in_force(&store.load_templates().await?, kind, lang))
}

/// The record as stored.
pub(crate) type Record = Versioned<SavedTemplates>;

/// The next record and its change-history entry, if `expected` is the template's version;
/// shared by both backends.
pub(crate) fn saving(
    current: Option<Record>,
    kind: Kind,
    lang: Lang,
    expected: u64,
    texts: Option<Texts>,
    who: &str,
) -> Result<(Record, SavedTemplate, AuditEntry), StoreError> {
    let mut record = current.unwrap_or_else(|| Versioned {
        schema: super::migrations::SCHEMA_VERSION,
        version: 0,
        saved_at: String::new(),
        value: SavedTemplates::new(),
    });
    let key = template_key(kind, lang);
    let before = record.value.get(&key).cloned();
    let version = before.as_ref().map_or(0, |t| t.version);
    if version != expected {
        let saved_at = before.map(|t| t.saved_at).unwrap_or_default();
        return Err(StoreError::Conflict { current: version, saved_at });
    }
    let old = before.and_then(|t| t.texts).unwrap_or_else(|| crate::templates::default(kind, lang));
    let (mail, lang_tag) = (kind.id().to_string(), lang.tag().to_string());
    let change = match &texts {
        None => Change::TemplateReset { mail, lang: lang_tag },
        Some(new) => Change::TemplateSaved { mail, lang: lang_tag, diff: diff(&old, new) },
    };
    let now = crate::clock::now_rfc3339();
    let saved = SavedTemplate { version: version + 1, saved_at: now.clone(), texts };
    record.value.insert(key, saved.clone());
    record.version += 1;
    record.saved_at = now.clone();
    let entry = AuditEntry { who: who.to_string(), at: now, changes: vec![change] };
    Ok((record, saved, entry))
}

/// The lines that changed between two templates, part by part ("- old", "+ new"), bounded.
fn diff(old: &Texts, new: &Texts) -> Vec<String> {
    let mut lines = Vec::new();
    let parts = [
        ("subject", old.subject.as_str(), new.subject.as_str()),
        ("text", old.text.as_str(), new.text.as_str()),
        ("html", old.html.as_deref().unwrap_or(""), new.html.as_deref().unwrap_or("")),
    ];
    for (part, before, after) in parts {
        for change in similar::TextDiff::from_lines(before, after).iter_all_changes() {
            let sign = match change.tag() {
                similar::ChangeTag::Delete => '-',
                similar::ChangeTag::Insert => '+',
                similar::ChangeTag::Equal => continue,
            };
            let text: String = change.value().trim_end().chars().take(MAX_DIFF_LINE_CHARS).collect();
            lines.push(format!("{part} {sign} {text}"));
        }
    }
    if lines.len() > MAX_DIFF_LINES {
        let more = lines.len() - MAX_DIFF_LINES;
        lines.truncate(MAX_DIFF_LINES);
        lines.push(format!("\u{2026} and {more} more lines"));
    }
    lines
}

#[async_trait::async_trait]
impl TemplateStore for SledBackend {
    async fn load_templates(&self) -> Result<SavedTemplates, StoreError> {
        self.blocking(|db| db.load_templates()).await
    }

    async fn save_template(&self, kind: Kind, lang: Lang, expected: u64, texts: Option<Texts>, who: &str) -> Result<SavedTemplate, StoreError> {
        let who = who.to_string();
        self.blocking(move |db| db.save_template(kind, lang, expected, texts, &who)).await
    }
}

impl Sled {
    pub(crate) fn load_templates(&self) -> Result<SavedTemplates, StoreError> {
        match self.settings.get(TEMPLATES_KEY)? {
            Some(bytes) => Ok(serde_json::from_slice::<Record>(&bytes)?.value),
            None => Ok(SavedTemplates::new()),
        }
    }

    fn save_template(&self, kind: Kind, lang: Lang, expected: u64, texts: Option<Texts>, who: &str) -> Result<SavedTemplate, StoreError> {
        use sled::transaction::ConflictableTransactionError::Abort;
        self.space.admit(Need::Grow)?;
        let audit_id = self.db.generate_id()?;
        let saved = (&self.settings, &self.audit)
            .transaction(|(settings, audit)| {
                let current = match settings.get(TEMPLATES_KEY)? {
                    Some(bytes) => Some(serde_json::from_slice::<Record>(&bytes).map_err(|e| Abort(StoreError::from(e)))?),
                    None => None,
                };
                let (record, saved, entry) = saving(current, kind, lang, expected, texts.clone(), who).map_err(Abort)?;
                settings.insert(TEMPLATES_KEY, serde_json::to_vec(&record).map_err(|e| Abort(StoreError::from(e)))?)?;
                audit.insert(&audit_id.to_be_bytes(), serde_json::to_vec(&entry).map_err(|e| Abort(StoreError::from(e)))?)?;
                Ok(saved)
            })
            .map_err(super::tx_error)?;
        self.prune_audit()?;
        self.sync()?;
        Ok(saved)
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_store::backend;
    use super::*;

    /// Both backends (`MAILROOM_TEST_STORE=postgres` for the second): saved, versioned,
    /// conflicting, in the history with its diff, back to the default.
    #[tokio::test]
    async fn a_template_is_saved_versioned_audited_and_reset() {
        let backend = backend();
        let store = backend.open().await;
        assert!(store.load_templates().await.unwrap().is_empty());
        let mut mine = crate::templates::default(Kind::PasswordReset, Lang::En);
        mine.subject = "Your Mailroom password".into();
        let saved = store.save_template(Kind::PasswordReset, Lang::En, 0, Some(mine.clone()), "admin@example.com").await.unwrap();
        assert_eq!(saved.version, 1);
        let all = store.load_templates().await.unwrap();
        assert_eq!(in_force(&all, Kind::PasswordReset, Lang::En), mine);
        assert_eq!(in_force(&all, Kind::PasswordReset, Lang::ZhCn), crate::templates::default(Kind::PasswordReset, Lang::ZhCn));

        // A save from the version before is a conflict and changes nothing.
        let err = store.save_template(Kind::PasswordReset, Lang::En, 0, None, "other@example.com").await.unwrap_err();
        assert!(matches!(err, StoreError::Conflict { current: 1, .. }), "{err:?}");
        // Another template has its own version.
        store.save_template(Kind::TestMail, Lang::ZhCn, 0, Some(crate::templates::default(Kind::TestMail, Lang::ZhCn)), "other@example.com").await.unwrap();

        let history = store.recent_audit(5).await.unwrap();
        assert_eq!(history.len(), 2);
        let Change::TemplateSaved { mail, lang, diff } = &history[1].changes[0] else { panic!("{history:?}") };
        assert_eq!((mail.as_str(), lang.as_str()), ("password_reset", "en"));
        assert_eq!(diff, &["subject - Reset your Mailroom password", "subject + Your Mailroom password"]);
        assert!(matches!(&history[0].changes[0], Change::TemplateSaved { diff, .. } if diff.is_empty()));

        let reset = store.save_template(Kind::PasswordReset, Lang::En, 1, None, "admin@example.com").await.unwrap();
        assert_eq!((reset.version, reset.texts), (2, None));
        let all = store.load_templates().await.unwrap();
        assert_eq!(in_force(&all, Kind::PasswordReset, Lang::En), crate::templates::default(Kind::PasswordReset, Lang::En));
        assert!(matches!(&store.recent_audit(1).await.unwrap()[0].changes[0], Change::TemplateReset { .. }));
    }

    #[test]
    fn a_long_diff_is_cut_and_says_how_much_more() {
        let old = Texts { subject: "s".into(), text: String::new(), html: None };
        let new = Texts { subject: "s".into(), text: (0..30).map(|i| format!("line {i}\n")).collect(), html: None };
        let lines = diff(&old, &new);
        assert_eq!(lines.len(), MAX_DIFF_LINES + 1);
        assert_eq!(lines.last().unwrap(), "\u{2026} and 10 more lines");
    }
}
