//! Settings as configuration, so a deployment needs no clicks: the mail server's settings from
//! the environment (`MAILROOM_SMTP_*`, each named by [`Field::variable`]) or from one TOML file
//! (`MAILROOM_SETTINGS_FILE`, keys as the form's field ids), the first admin
//! (`MAILROOM_ADMIN_EMAIL` with `MAILROOM_ADMIN_PASSWORD` or `_FILE`) and API tokens given as
//! their SHA-256 (`MAILROOM_API_TOKENS` or `_FILE`). Read and checked by the page's own rules
//! before the server opens anything ([`Provisioned::from_vars`]); applied to the store at start
//! ([`Provisioned::apply`]), where every instance given the same configuration agrees: saved
//! only when different, so a second instance (or a restart) changes nothing.

use engine::i18n::english;
use crate::config::{secret, ConfigError};
use app::{
    domain::{self, Field, MailServer, MailServerForm, MailServerSettings, PasswordChoice},
    store::{SharedStore, StoreError},
};

/// Who the change history names for what the configuration saved.
pub const WHO: &str = "configuration";
/// A settings file larger than this is not a settings file.
const MAX_FILE_BYTES: u64 = 1024 * 1024;

/// What the configuration provides.
#[derive(Debug, Default)]
pub struct Provisioned {
    pub mail: Option<ManagedMail>,
    pub admin: Option<Admin>,
    pub tokens: Vec<Token>,
}

/// The mail server's settings as the configuration gives them: the form (every field not
/// given at its default) and, for each field given, what gave it (shown on the page).
#[derive(Debug, Clone)]
pub struct ManagedMail {
    pub form: MailServerForm,
    pub sources: Vec<(Field, String)>,
}

pub struct Admin {
    pub email: domain::EmailAddress,
    password: String,
}

impl std::fmt::Debug for Admin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Admin").field("email", &self.email).finish_non_exhaustive()
    }
}

/// An API token by name and the SHA-256 of its value (hex), as `sha256sum` prints it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Token {
    pub name: String,
    pub hash: String,
    pub scope: domain::TokenUse,
}

/// A refusal of the configuration: says which variable (or file key) and why.
#[derive(Debug, thiserror::Error)]
pub enum ProvisionError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error("{0}")]
    Invalid(String),
}

fn invalid(message: impl Into<String>) -> ProvisionError {
    ProvisionError::Invalid(message.into())
}

/// The fields that may come from a file (`…_FILE`): secrets and the CA certificate.
fn from_file_too(field: Field) -> bool {
    field.is_secret() || field == Field::CaPem
}

impl Provisioned {
    /// Reads and checks everything the configuration provides.
    pub fn from_vars(var: &impl Fn(&str) -> Option<String>) -> Result<Self, ProvisionError> {
        Ok(Self {
            mail: mail(var)?,
            admin: admin(var)?,
            tokens: tokens(var)?,
        })
    }

    /// Writes into the store what differs from it: the settings as a new version (one
    /// change-history entry by "configuration"), the admin (created, or its password set when
    /// it no longer matches), each token (created; one of the same name with another value is
    /// revoked first). Says in the log what it changed.
    pub async fn apply(&self, store: &SharedStore) -> Result<(), String> {
        if let Some(mail) = &self.mail {
            apply_mail(store, mail).await.map_err(|e| format!("saving the configured mail settings failed: {e}"))?;
        }
        if let Some(admin) = &self.admin {
            apply_admin(store, admin).await.map_err(|e| format!("setting up the configured admin failed: {e}"))?;
        }
        for token in &self.tokens {
            apply_token(store, token).await?;
        }
        Ok(())
    }
}

/// A setting's text from `MAILROOM_SMTP_*`, or from the file its `_FILE` names.
fn env_value(var: &impl Fn(&str) -> Option<String>, field: Field) -> Result<Option<(String, String)>, ProvisionError> {
    let name = field.variable();
    if from_file_too(field) {
        let file = format!("{name}_FILE");
        let source = if var(&file).is_some() { file } else { name.to_string() };
        return Ok(secret(var, name)?.map(|value| (value, source)));
    }
    Ok(var(name).map(|value| (value, name.to_string())))
}

fn mail(var: &impl Fn(&str) -> Option<String>) -> Result<Option<ManagedMail>, ProvisionError> {
    let mut given = Vec::new();
    for field in Field::SETTINGS {
        if let Some((value, source)) = env_value(var, field)? {
            given.push((field, value, source));
        }
    }
    let file = var("MAILROOM_SETTINGS_FILE").filter(|f| !f.trim().is_empty());
    let given = match (file, given.is_empty()) {
        (None, true) => return Ok(None),
        (None, false) => given,
        (Some(_), false) => {
            return Err(invalid(format!(
                "MAILROOM_SETTINGS_FILE and {} are both set: give the mail settings one way",
                given[0].2
            )))
        }
        (Some(path), true) => read_file(&path)?,
    };
    let mut form = MailServerForm::default();
    let mut sources = Vec::new();
    for (field, value, source) in given {
        form.set_value(field, &value).map_err(|e| invalid(format!("{source}: {e}")))?;
        sources.push((field, source));
    }
    check(&form, &sources)?;
    Ok(Some(ManagedMail { form, sources }))
}

/// The settings file: TOML, one key per field (`host`, `port`, `encryption`, …; numbers and
/// switches as TOML's own or as strings), `password_file` and the like for files.
fn read_file(path: &str) -> Result<Vec<(Field, String, String)>, ProvisionError> {
    let unreadable = |e: &dyn std::fmt::Display| invalid(format!("MAILROOM_SETTINGS_FILE={path:?} cannot be read: {e}"));
    let size = std::fs::metadata(path).map_err(|e| unreadable(&e))?.len();
    if size > MAX_FILE_BYTES {
        return Err(invalid(format!("MAILROOM_SETTINGS_FILE={path:?} is {size} bytes; a settings file is far smaller")));
    }
    let text = std::fs::read_to_string(path).map_err(|e| unreadable(&e))?;
    let table: toml::Table = text
        .parse()
        .map_err(|e: toml::de::Error| invalid(format!("MAILROOM_SETTINGS_FILE={path:?} is not valid TOML: {e}")))?;
    let mut given = Vec::new();
    for (key, value) in table {
        let source = format!("{key} in MAILROOM_SETTINGS_FILE");
        let (field, from_file) = match Field::SETTINGS.iter().find(|f| f.id() == key) {
            Some(f) => (*f, false),
            None => match Field::SETTINGS.iter().find(|f| from_file_too(**f) && format!("{}_file", f.id()) == key) {
                Some(f) => (*f, true),
                None => {
                    let known: Vec<_> = Field::SETTINGS.iter().map(|f| f.id()).collect();
                    return Err(invalid(format!(
                        "MAILROOM_SETTINGS_FILE: unknown key {key:?}; the keys are {}, and password_file, \
                         oauth_client_secret_file, ca_pem_file",
                        known.join(", ")
                    )));
                }
            },
        };
        if given.iter().any(|(f, _, _)| *f == field) {
            return Err(invalid(format!("MAILROOM_SETTINGS_FILE: {} is given twice (with and without _file)", field.id())));
        }
        let text = match value {
            toml::Value::String(s) => s,
            toml::Value::Integer(n) => n.to_string(),
            toml::Value::Boolean(b) => b.to_string(),
            other => {
                return Err(invalid(format!("{source}: a {} where text, a number or true/false belongs", other.type_str())))
            }
        };
        let text = if from_file {
            std::fs::read_to_string(&text)
                .map_err(|e| invalid(format!("{source}: {text:?} cannot be read: {e}")))?
                .trim_end_matches(['\r', '\n'])
                .to_string()
        } else {
            text
        };
        given.push((field, text, source));
    }
    Ok(given)
}

/// The same rules as the page, and secrets present where the settings need them.
fn check(form: &MailServerForm, sources: &[(Field, String)]) -> Result<(), ProvisionError> {
    let source = |field: Field| {
        sources
            .iter()
            .find(|(f, _)| *f == field)
            .map_or_else(|| format!("{} (not set)", field.variable()), |(_, s)| s.clone())
    };
    let parsed = MailServerSettings::parse(form, None).map_err(|errors| {
        let lines: Vec<_> = errors.0.iter().map(|(field, message)| format!("{}: {}", source(*field), english(message))).collect();
        invalid(format!("the mail settings in the configuration are refused: {}", lines.join("; ")))
    })?;
    for (choice, field) in [(&parsed.password, Field::Password), (&parsed.client_secret, Field::OAuthClientSecret)] {
        if matches!(choice, PasswordChoice::KeepSaved) {
            return Err(invalid(format!(
                "the mail settings in the configuration need {} (or {}_FILE): these settings sign in with it",
                field.variable(),
                field.variable()
            )));
        }
    }
    Ok(())
}

async fn apply_mail(store: &SharedStore, mail: &ManagedMail) -> Result<(), StoreError> {
    // Another instance may save the same at the same moment: read again on a conflict.
    for _ in 0..5 {
        let current = store.load_mail().await?;
        let parsed = MailServerSettings::parse(&mail.form, None).map_err(|_| StoreError::Corrupt("checked at start".into()))?;
        let Some(server) = MailServer::from_form(parsed, current.as_ref().map(|c| &c.value)) else {
            return Err(StoreError::Corrupt("checked at start".into()));
        };
        if current.as_ref().is_some_and(|c| c.value == server) {
            tracing::info!(version = current.map_or(0, |c| c.version), "mail settings from the configuration: already saved");
            return Ok(());
        }
        let version = current.as_ref().map_or(0, |c| c.version);
        match store.save_mail(version, server, WHO).await {
            Ok(saved) => {
                tracing::info!(version = saved.version, host = %saved.value.settings.host, "mail settings from the configuration saved");
                return Ok(());
            }
            Err(StoreError::Conflict { .. }) => continue,
            Err(e) => return Err(e),
        }
    }
    Err(StoreError::Corrupt("the settings kept changing while the configuration was saved".into()))
}

fn admin(var: &impl Fn(&str) -> Option<String>) -> Result<Option<Admin>, ProvisionError> {
    let email = var("MAILROOM_ADMIN_EMAIL").filter(|e| !e.trim().is_empty());
    let password = secret(var, "MAILROOM_ADMIN_PASSWORD")?;
    let (email, password) = match (email, password) {
        (None, None) => return Ok(None),
        (Some(email), Some(password)) => (email, password),
        (Some(_), None) => return Err(invalid("MAILROOM_ADMIN_EMAIL needs MAILROOM_ADMIN_PASSWORD_FILE (or MAILROOM_ADMIN_PASSWORD)")),
        (None, Some(_)) => return Err(invalid("MAILROOM_ADMIN_PASSWORD_FILE (or MAILROOM_ADMIN_PASSWORD) needs MAILROOM_ADMIN_EMAIL")),
    };
    let email = domain::EmailAddress::parse(email.trim()).map_err(|m| invalid(format!("MAILROOM_ADMIN_EMAIL: {}", english(&m))))?;
    domain::admin_password(&password, &password, email.as_str())
        .map_err(|m| invalid(format!("MAILROOM_ADMIN_PASSWORD: {}", english(&m))))?;
    Ok(Some(Admin { email, password }))
}

async fn apply_admin(store: &SharedStore, admin: &Admin) -> Result<(), String> {
    let email = admin.email.as_str().to_lowercase();
    let existing = store.get_admin(&email).await.map_err(|e| e.to_string())?;
    let password = admin.password.clone();
    let matches = match existing {
        Some(record) => tokio::task::spawn_blocking(move || app::auth::verify_password(&password, &record.password_hash))
            .await
            .map_err(|e| e.to_string())?,
        None => false,
    };
    if matches {
        return Ok(());
    }
    let password = admin.password.clone();
    let hash = tokio::task::spawn_blocking(move || app::auth::hash_password(&password))
        .await
        .map_err(|e| e.to_string())?;
    match app::auth::set_admin_password(store.as_ref(), &admin.email, hash).await.map_err(|e| e.to_string())? {
        app::auth::PasswordSet::Created => tracing::info!(account = %email, "admin from the configuration created"),
        app::auth::PasswordSet::Changed { sessions_ended } => {
            tracing::info!(account = %email, sessions_ended, "admin from the configuration: password set as configured")
        }
    }
    Ok(())
}

/// `MAILROOM_API_TOKENS` (or `_FILE`): one token per line (or separated by commas), each
/// `NAME:SHA256` with the hex SHA-256 of the token's value, and `:api` or `:smtp` to limit it;
/// `#` starts a comment line.
fn tokens(var: &impl Fn(&str) -> Option<String>) -> Result<Vec<Token>, ProvisionError> {
    let Some(text) = secret(var, "MAILROOM_API_TOKENS")? else {
        return Ok(Vec::new());
    };
    let mut tokens: Vec<Token> = Vec::new();
    for entry in text.lines().flat_map(|l| l.split(',')).map(str::trim) {
        if entry.is_empty() || entry.starts_with('#') {
            continue;
        }
        // NAME:SHA256, or NAME:SHA256:FOR (both, api or smtp); a name may hold colons.
        let (rest, scope) = match entry.rsplit_once(':') {
            Some((rest, last)) if domain::TokenUse::parse(last).is_ok() && rest.contains(':') => {
                (rest, domain::TokenUse::parse(last).unwrap_or_default())
            }
            _ => (entry, domain::TokenUse::Both),
        };
        let (name, hash) = rest.rsplit_once(':').ok_or_else(|| {
            invalid("MAILROOM_API_TOKENS: each token is NAME:SHA256[:both|api|smtp] (the hex SHA-256 of its value, as `printf %s TOKEN | sha256sum` prints it)")
        })?;
        let name = domain::token_name(name).map_err(|m| invalid(format!("MAILROOM_API_TOKENS: {}", english(&m))))?;
        let hash = hash.trim().to_ascii_lowercase();
        if hash.len() != 64 || !hash.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(invalid(format!(
                "MAILROOM_API_TOKENS: the hash of {name:?} is not 64 hex digits (a SHA-256, as `printf %s TOKEN | sha256sum` prints it)"
            )));
        }
        if tokens.iter().any(|t| t.name == name || t.hash == hash) {
            return Err(invalid(format!("MAILROOM_API_TOKENS: {name:?} or its hash is given twice")));
        }
        tokens.push(Token { name, hash, scope });
    }
    Ok(tokens)
}

async fn apply_token(store: &SharedStore, token: &Token) -> Result<(), String> {
    let failed = |e: StoreError| format!("the configured API token {:?} could not be saved: {e}", token.name);
    if store.token_by_hash(&token.hash).await.map_err(failed)?.is_some() {
        return Ok(());
    }
    // One of this name with another value: the configuration replaces it.
    let same_name = store.tokens().await.map_err(failed)?.into_iter().find(|t| t.name == token.name);
    if let Some(old) = same_name {
        store.revoke_token(old.id, WHO).await.map_err(failed)?;
    }
    match store.create_token_for(&token.hash, &token.name, token.scope, WHO, app::clock::now_unix()).await.map_err(failed)? {
        Ok(_) => {
            tracing::info!(name = %token.name, "API token from the configuration created");
            Ok(())
        }
        // Another instance created it meanwhile.
        Err(app::store::TokenRefusal::NameTaken) if store.token_by_hash(&token.hash).await.map_err(failed)?.is_some() => Ok(()),
        Err(refusal) => Err(format!("the configured API token {:?} was refused: {refusal:?}", token.name)),
    }
}
