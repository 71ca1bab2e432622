//! Admin authentication (server only): argon2id password hashes, setting an admin's password,
//! random 256-bit session ids kept only hashed, idle and absolute expiry, and the same-origin
//! rule. (Login back-off is in `ratelimit`.)

use crate::clock::now_unix;
use crate::domain::EmailAddress;
use crate::secrets::SecretBox;
use crate::store::{AdminRecord, SessionLifetime, SessionRecord, Store, StoreError};
use argon2::{
    password_hash::{rand_core::OsRng, Output, ParamsString, PasswordHash, SaltString},
    Algorithm, Argon2, Block, Params, Version,
};
use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine as _};
use rand::RngCore;
use sha2::{Digest, Sha256};
use std::cell::RefCell;

pub const SESSION_COOKIE: &str = "mailroom_session";
/// A session unused this long ends.
pub const IDLE_TIMEOUT_SECS: u64 = 30 * 60;
/// A session ends this long after login, used or not.
pub const ABSOLUTE_TIMEOUT_SECS: u64 = 12 * 60 * 60;
/// Both, as the store's purge takes them.
pub const SESSION_LIFETIME: SessionLifetime = SessionLifetime {
    idle_secs: IDLE_TIMEOUT_SECS,
    max_secs: ABSOLUTE_TIMEOUT_SECS,
};
pub const RESET_TOKEN_TTL_SECS: u64 = crate::domain::RESET_LINK_MINUTES * 60;

thread_local! {
    /// Each thread's argon2 working memory (19 MiB with the default parameters), allocated once
    /// and reused: a hash allocates nothing, so memory is bounded by the threads that hash (the
    /// hashing gate's few workers), not by how many hashes have run. (Allocating it per hash, as
    /// `Argon2::hash_password` does, left the allocator holding more after every hash.)
    static BLOCKS: RefCell<Vec<Block>> = const { RefCell::new(Vec::new()) };
}

/// argon2id of `password` and `salt` into `out`, in this thread's working memory.
fn argon2id(params: Params, password: &str, salt: &[u8], out: &mut [u8]) -> Result<(), argon2::Error> {
    let needed = params.block_count();
    let argon = Argon2::new(Algorithm::Argon2id, Version::V0x13, params);
    BLOCKS.with_borrow_mut(|blocks| {
        if blocks.len() < needed {
            blocks.resize(needed, Block::default());
        }
        argon.hash_password_into_with_memory(password.as_bytes(), salt, out, &mut blocks[..needed])
    })
}

/// An argon2id PHC string with a random salt and the default parameters.
pub fn hash_password(password: &str) -> String {
    let salt = SaltString::generate(&mut OsRng);
    let params = Params::default();
    let mut salt_bytes = [0u8; 64];
    let mut out = [0u8; Params::DEFAULT_OUTPUT_LEN];
    let phc = salt
        .decode_b64(&mut salt_bytes)
        .and_then(|salt_bytes| Ok(argon2id(params.clone(), password, salt_bytes, &mut out)?))
        .and_then(|()| {
            let hash = PasswordHash {
                algorithm: Algorithm::Argon2id.ident(),
                version: Some(Version::V0x13.into()),
                params: ParamsString::try_from(&params)?,
                salt: Some(salt.as_salt()),
                hash: Some(Output::new(&out)?),
            };
            Ok::<_, argon2::password_hash::Error>(hash.to_string())
        });
    phc.expect("argon2id with the default parameters and a fresh salt")
}

/// Whether `password` matches the argon2id PHC string `phc` (compared in constant time).
pub fn verify_password(password: &str, phc: &str) -> bool {
    let Ok(hash) = PasswordHash::new(phc) else {
        return false;
    };
    let (Some(expected), Some(salt)) = (hash.hash, hash.salt) else {
        return false;
    };
    if hash.algorithm != Algorithm::Argon2id.ident()
        || hash.version.is_some_and(|v| v != u32::from(Version::V0x13))
    {
        return false;
    }
    let Ok(params) = Params::try_from(&hash) else {
        return false;
    };
    let mut salt_bytes = [0u8; 64];
    let Ok(salt) = salt.decode_b64(&mut salt_bytes) else {
        return false;
    };
    let mut out = vec![0u8; expected.len()];
    argon2id(params, password, salt, &mut out).is_ok() && Output::new(&out).is_ok_and(|o| o == expected)
}

/// What [`set_admin_password`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PasswordSet {
    Created,
    Changed { sessions_ended: usize },
}

/// The one way an admin's password is set (setup, reset by mail, `mailroom admin create`):
/// creates the admin or replaces the password, and ends every session of an existing admin.
/// `password_hash` is [`hash_password`]'s, deliberately slow: the caller computes it off the
/// async runtime (the hashing gate, or the CLI).
pub async fn set_admin_password(
    store: &dyn Store,
    email: &EmailAddress,
    password_hash: String,
) -> Result<PasswordSet, StoreError> {
    let email = email.as_str().to_lowercase();
    let existing = store.get_admin(&email).await?;
    let created_at = existing
        .as_ref()
        .map_or_else(crate::clock::now_rfc3339, |a| a.created_at.clone());
    store.put_admin(AdminRecord {
        email: email.clone(),
        password_hash,
        created_at,
        language: existing.as_ref().and_then(|a| a.language.clone()),
    }).await?;
    Ok(match existing {
        None => PasswordSet::Created,
        Some(_) => PasswordSet::Changed {
            sessions_ended: store.delete_sessions_of(&email).await?,
        },
    })
}

/// Spends the same time as a real check, so a missing account does not answer faster.
pub fn verify_dummy(password: &str) {
    static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    let phc = DUMMY.get_or_init(|| hash_password("dummy password for timing"));
    let _ = verify_password(password, phc);
}

/// 256 random bits, URL-safe.
pub fn random_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// A new API token: random, and never starting with `-`, which command-line tools (swaks, a
/// program's SMTP settings passed as arguments) would read as an option.
pub fn new_api_token() -> String {
    loop {
        let token = random_token();
        if !token.starts_with('-') {
            return token;
        }
    }
}

/// What is stored in place of a session id or token.
pub fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// Creates an API token named `name` (checked by [`crate::domain::token_name`]) for `scope` on
/// behalf of `who`: the token itself (shown once, never stored) and its record; or why not.
pub async fn create_api_token(
    store: &dyn Store,
    name: &str,
    scope: crate::domain::TokenUse,
    who: &str,
) -> Result<Result<(String, crate::store::TokenRecord), crate::domain::Said>, StoreError> {
    let name = match crate::domain::token_name(name) {
        Ok(name) => name,
        Err(e) => return Ok(Err(e)),
    };
    let token = new_api_token();
    Ok(
        match store.create_token_for(&token_hash(&token), &name, scope, who, crate::clock::now_unix()).await? {
            Ok(record) => Ok((token, record)),
            Err(crate::store::TokenRefusal::NameTaken) => Err(crate::domain::Said::new("token-name-taken").with("name", name)),
            Err(crate::store::TokenRefusal::TooMany) => {
                Err(crate::domain::Said::new("token-too-many").with("max", crate::store::MAX_TOKENS))
            }
        },
    )
}

/// The cookie that carries a session id: HttpOnly, SameSite=Strict, Secure behind https.
pub fn session_cookie(id: &str, secure: bool) -> String {
    cookie::Cookie::build((SESSION_COOKIE, id.to_string()))
        .path("/")
        .http_only(true)
        .same_site(cookie::SameSite::Strict)
        .secure(secure)
        .max_age(cookie::time::Duration::seconds(ABSOLUTE_TIMEOUT_SECS as i64))
        .build()
        .to_string()
}

pub fn clear_session_cookie(secure: bool) -> String {
    let mut c = cookie::Cookie::build((SESSION_COOKIE, ""))
        .path("/")
        .http_only(true)
        .same_site(cookie::SameSite::Strict)
        .secure(secure)
        .build();
    c.make_removal();
    c.to_string()
}

/// The value of cookie `name` in a request's Cookie header(s), if any.
fn cookie_value(headers: &http::HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(cookie::Cookie::split_parse)
        .filter_map(Result::ok)
        .find(|c| c.name() == name)
        .map(|c| c.value().to_string())
        .filter(|v| !v.is_empty())
}

/// The session id in a request's Cookie header(s), if any.
pub fn session_id_from_headers(headers: &http::HeaderMap) -> Option<String> {
    cookie_value(headers, SESSION_COOKIE)
}

/// The device cookie: set after a successful login, it lets that browser keep its own
/// allowance of login attempts while unknown clients are throttled (OWASP's device-cookie
/// scheme). Its value is sealed (authenticated encryption), so it cannot be forged or moved to
/// another account; it is sent only to the login endpoint.
pub const DEVICE_COOKIE: &str = "mailroom_device";
const DEVICE_COOKIE_DAYS: i64 = 180;

pub fn device_cookie(email: &str, secrets: &SecretBox, secure: bool) -> String {
    let value = secrets.seal(&format!("device1 {} {}", random_token(), email.to_lowercase()));
    cookie::Cookie::build((DEVICE_COOKIE, value))
        .path("/api/login")
        .http_only(true)
        .same_site(cookie::SameSite::Strict)
        .secure(secure)
        .max_age(cookie::time::Duration::days(DEVICE_COOKIE_DAYS))
        .build()
        .to_string()
}

/// The device id of a device cookie issued for `email`, if the request carries a valid one.
pub fn device_from_headers(headers: &http::HeaderMap, secrets: &SecretBox, email: &str) -> Option<String> {
    let plain = secrets.open(&cookie_value(headers, DEVICE_COOKIE)?).ok()?;
    let mut parts = plain.splitn(3, ' ');
    match (parts.next(), parts.next(), parts.next()) {
        (Some("device1"), Some(id), Some(owner)) if owner == email.to_lowercase() => Some(id.to_string()),
        _ => None,
    }
}

/// Whether a session is over at `now`: idle too long, or too old.
pub fn session_expired(s: &SessionRecord, now: u64) -> bool {
    SESSION_LIFETIME.over(s, now)
}

/// Removes expired sessions and reset tokens (run at start and then periodically).
pub async fn purge_expired(store: &dyn Store, now: u64) -> Result<usize, StoreError> {
    store.purge_expired(now, SESSION_LIFETIME).await
}

/// Starts a session for `email`; returns the id for the cookie.
pub async fn start_session(store: &dyn Store, email: &str) -> Result<String, StoreError> {
    let id = random_token();
    let now = now_unix();
    store.put_session(
        &token_hash(&id),
        &SessionRecord {
            email: email.to_string(),
            created_at: now,
            last_seen: now,
        },
    ).await?;
    Ok(id)
}

/// The admin a session id belongs to, if the session is still valid at `now`. Expired sessions
/// are removed; a valid one has its idle clock restarted (written at most once a minute).
pub async fn check_session(store: &dyn Store, id: &str, now: u64) -> Result<Option<String>, StoreError> {
    let key = token_hash(id);
    let Some(mut s) = store.get_session(&key).await? else {
        return Ok(None);
    };
    if session_expired(&s, now) {
        store.delete_session(&key).await?;
        return Ok(None);
    }
    // The account may have been removed since.
    if store.get_admin(&s.email).await?.is_none() {
        return Ok(None);
    }
    if now.saturating_sub(s.last_seen) >= 60 {
        s.last_seen = now;
        store.put_session(&key, &s).await?;
    }
    Ok(Some(s.email))
}

/// The origins this site is reached at: the public URL's (`MAILROOM_PUBLIC_URL`, or the address
/// the server listens on). When that is a loopback address, its other loopback names count
/// too (an admin on the machine may type either); no other name does, so a DNS name made to
/// point at the server (DNS rebinding) is not this site.
pub fn allowed_origins(public_url: &str) -> Vec<url::Origin> {
    let Ok(url) = url::Url::parse(public_url) else {
        return Vec::new();
    };
    let mut out = vec![url.origin()];
    let loopback = ["127.0.0.1", "[::1]", "localhost"];
    if url.host_str().is_some_and(|h| loopback.contains(&h)) {
        for name in loopback {
            let mut other = url.clone();
            if other.set_host(Some(name)).is_ok() && !out.contains(&other.origin()) {
                out.push(other.origin());
            }
        }
    }
    out
}

/// Whether a request comes from this site: its Origin must be one of `allowed` (without an
/// Origin, Sec-Fetch-Site must say same-origin). The Host header is not trusted.
pub fn same_origin(origin: Option<&str>, sec_fetch_site: Option<&str>, allowed: &[url::Origin]) -> bool {
    match (origin, sec_fetch_site) {
        (Some(origin), _) => url::Url::parse(origin).is_ok_and(|u| allowed.contains(&u.origin())),
        (None, Some(site)) => site == "same-origin" || site == "none",
        (None, None) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn hashes_agree_with_the_argon2_crates_own() {
        use argon2::password_hash::{PasswordHasher, PasswordVerifier};
        let theirs = Argon2::default()
            .hash_password(b"a password", &SaltString::generate(&mut OsRng))
            .unwrap()
            .to_string();
        assert!(
            verify_password("a password", &theirs),
            "hashes stored before still verify"
        );
        assert!(!verify_password("another", &theirs));
        let ours = hash_password("a password");
        let parsed = PasswordHash::new(&ours).unwrap();
        assert!(Argon2::default().verify_password(b"a password", &parsed).is_ok());
    }

    #[tokio::test]
    async fn hashing_reuses_its_memory() {
        let phc = hash_password("x");
        let memory = || BLOCKS.with_borrow(|b| (b.as_ptr() as usize, b.capacity()));
        let first = memory();
        assert_eq!(
            first.1,
            Params::default().block_count(),
            "one hash's working memory"
        );
        for _ in 0..5 {
            assert!(!verify_password("y", &phc));
        }
        assert_eq!(memory(), first, "no hash allocated its own memory");
    }

    #[tokio::test]
    async fn argon2id_hashes_verify_and_are_salted() {
        let a = hash_password("correct horse battery");
        assert!(a.starts_with("$argon2id$"));
        assert_ne!(a, hash_password("correct horse battery"));
        assert!(verify_password("correct horse battery", &a));
        assert!(!verify_password("wrong", &a));
        assert!(!verify_password("x", "not a hash"));
    }

    #[tokio::test]
    async fn tokens_are_256_bits_and_stored_hashed() {
        let t = random_token();
        assert_eq!(URL_SAFE_NO_PAD.decode(&t).unwrap().len(), 32);
        assert_ne!(t, random_token());
        assert_eq!(token_hash(&t).len(), 64);
        assert_ne!(token_hash(&t), t);
    }

    #[tokio::test]
    async fn cookie_flags() {
        let c = session_cookie("abc", false);
        assert!(
            c.contains("HttpOnly") && c.contains("SameSite=Strict") && !c.contains("Secure"),
            "{c}"
        );
        assert!(session_cookie("abc", true).contains("Secure"));
        let mut headers = http::HeaderMap::new();
        headers.insert(http::header::COOKIE, "a=1; mailroom_session=xyz".parse().unwrap());
        assert_eq!(session_id_from_headers(&headers).as_deref(), Some("xyz"));
    }

    #[test]
    fn no_api_token_starts_with_a_dash() {
        // Without the rule about one in 64 would: 10,000 of them all pass only with it.
        assert!((0..10_000).map(|_| new_api_token()).all(|t| !t.starts_with('-') && t.len() == 43));
    }

    #[tokio::test]
    async fn sessions_expire_when_idle_or_old_and_are_refreshed_when_used() {
        use crate::store::{AdminStore, SessionStore, SledStore};
        let dir = tempfile::tempdir().unwrap();
        let store = SledStore::open(dir.path(), crate::secrets::SecretBox::from_key([5; 32])).unwrap();
        store
            .put_admin(AdminRecord {
                email: "a@example.com".into(),
                password_hash: "x".into(),
                created_at: "t".into(),
                language: None,
            }).await
            .unwrap();
        let id = start_session(&store, "a@example.com").await.unwrap();
        let t0 = store.get_session(&token_hash(&id)).await.unwrap().unwrap().created_at;
        assert_eq!(
            check_session(&store, &id, t0 + 60).await.unwrap().as_deref(),
            Some("a@example.com")
        );
        // Used at t0+60, so idle time counts from there.
        assert!(check_session(&store, &id, t0 + 60 + IDLE_TIMEOUT_SECS).await
            .unwrap()
            .is_some());
        assert!(
            check_session(&store, &id, t0 + 60 + 2 * IDLE_TIMEOUT_SECS + 1).await
                .unwrap()
                .is_none(),
            "idle expiry"
        );
        assert!(
            store.get_session(&token_hash(&id)).await.unwrap().is_none(),
            "expired sessions are removed"
        );

        // Kept busy, a session still ends at the absolute limit.
        let id = start_session(&store, "a@example.com").await.unwrap();
        let t0 = store.get_session(&token_hash(&id)).await.unwrap().unwrap().created_at;
        let mut t = t0;
        while t + IDLE_TIMEOUT_SECS / 2 <= t0 + ABSOLUTE_TIMEOUT_SECS {
            t += IDLE_TIMEOUT_SECS / 2;
            assert!(check_session(&store, &id, t).await.unwrap().is_some());
        }
        assert!(
            check_session(&store, &id, t0 + ABSOLUTE_TIMEOUT_SECS + 1).await
                .unwrap()
                .is_none(),
            "absolute expiry"
        );
        assert!(check_session(&store, "not-a-session", t0).await.unwrap().is_none());
    }

    #[tokio::test]
    async fn same_origin_rule() {
        let allowed = allowed_origins("http://127.0.0.1:3000");
        assert!(same_origin(Some("http://127.0.0.1:3000"), None, &allowed));
        assert!(
            same_origin(Some("http://localhost:3000"), None, &allowed),
            "another loopback name"
        );
        assert!(
            !same_origin(Some("http://127.0.0.1:3001"), None, &allowed),
            "another port"
        );
        assert!(
            !same_origin(Some("http://evil.example:3000"), Some("same-origin"), &allowed),
            "DNS rebinding"
        );
        assert!(!same_origin(Some("null"), None, &allowed));
        assert!(same_origin(None, Some("same-origin"), &allowed));
        assert!(!same_origin(None, Some("cross-site"), &allowed));
        assert!(!same_origin(None, None, &allowed));
        let public = allowed_origins("https://mail.example.com");
        assert!(same_origin(Some("https://mail.example.com"), None, &public));
        assert!(
            !same_origin(Some("http://mail.example.com"), None, &public),
            "scheme counts"
        );
        assert!(!same_origin(Some("http://localhost"), None, &public));
    }

    #[tokio::test]
    async fn setting_a_password_creates_the_admin_or_replaces_it_and_ends_its_sessions() {
        use crate::store::{AdminStore, SledStore};
        let dir = tempfile::tempdir().unwrap();
        let store = SledStore::open(dir.path(), crate::secrets::SecretBox::from_key([6; 32])).unwrap();
        let email = EmailAddress::parse("Ops@Example.com").unwrap();
        assert_eq!(
            set_admin_password(&store, &email, hash_password("first password")).await.unwrap(),
            PasswordSet::Created
        );
        let created = store.get_admin("ops@example.com").await.unwrap().unwrap();
        assert!(verify_password("first password", &created.password_hash));
        start_session(&store, "ops@example.com").await.unwrap();
        start_session(&store, "ops@example.com").await.unwrap();
        let changed = set_admin_password(&store, &email, hash_password("second password")).await.unwrap();
        assert_eq!(changed, PasswordSet::Changed { sessions_ended: 2 });
        let after = store.get_admin("ops@example.com").await.unwrap().unwrap();
        assert!(verify_password("second password", &after.password_hash));
        assert_eq!(after.created_at, created.created_at, "creation time kept");
    }

    #[tokio::test]
    async fn device_cookies_are_sealed_bound_to_their_account_and_sent_only_to_login() {
        let secrets = SecretBox::from_key([9; 32]);
        let set = device_cookie("Ops@Example.com", &secrets, false);
        assert!(
            set.contains("Path=/api/login") && set.contains("HttpOnly") && set.contains("SameSite=Strict"),
            "{set}"
        );
        let value = set.split(';').next().unwrap().to_string();
        let mut headers = http::HeaderMap::new();
        headers.insert(http::header::COOKIE, value.parse().unwrap());
        let id = device_from_headers(&headers, &secrets, "ops@example.com").expect("valid for its account");
        assert_eq!(id.len(), 43);
        assert_eq!(
            device_from_headers(&headers, &secrets, "other@example.com"),
            None,
            "bound to the account"
        );
        assert_eq!(
            device_from_headers(&headers, &SecretBox::from_key([1; 32]), "ops@example.com"),
            None,
            "sealed"
        );
        headers.insert(http::header::COOKIE, "mailroom_device=forged".parse().unwrap());
        assert_eq!(device_from_headers(&headers, &secrets, "ops@example.com"), None);
    }
}
