//! Secrets at rest (server only): ChaCha20-Poly1305 under a 256-bit key that lives outside the
//! database, in `secret.key` (mode 0600) in the data directory or in `MAILROOM_SECRET_KEY`.
//! The database files alone never reveal a secret.

use base64::{engine::general_purpose::STANDARD, Engine as _};
use chacha20poly1305::{
    aead::{Aead, AeadCore, KeyInit, OsRng},
    ChaCha20Poly1305, Key, Nonce,
};
use std::{io::Write, path::Path};

pub const KEY_FILE: &str = "secret.key";
pub const KEY_ENV: &str = "MAILROOM_SECRET_KEY";

#[derive(Debug, thiserror::Error)]
pub enum SecretError {
    #[error("{KEY_ENV} must be 32 bytes in base64 (e.g. from `head -c32 /dev/urandom | base64`)")]
    BadEnvKey,
    #[error("the key file {0} is not 32 bytes in base64; restore it from a backup (the saved SMTP password cannot be read without it)")]
    BadKeyFile(String),
    #[error("cannot read or create the key file {path}: {source}")]
    Io { path: String, source: std::io::Error },
    #[error("a stored secret could not be decrypted: wrong key, or the data was altered")]
    Decrypt,
}

/// Seals and opens secrets. Cheap to clone.
#[derive(Clone)]
pub struct SecretBox {
    cipher: ChaCha20Poly1305,
}

impl SecretBox {
    pub fn from_key(key: [u8; 32]) -> Self {
        Self {
            cipher: ChaCha20Poly1305::new(Key::from_slice(&key)),
        }
    }

    /// The key from `env_key` (the value of MAILROOM_SECRET_KEY) when given, else from the key
    /// file in `data_dir`, created with a fresh random key (mode 0600) on first use.
    pub fn load_or_create(data_dir: &Path, env_key: Option<&str>) -> Result<Self, SecretError> {
        if let Some(text) = env_key {
            return decode_key(text).map(Self::from_key).ok_or(SecretError::BadEnvKey);
        }
        let path = data_dir.join(KEY_FILE);
        let shown = path.display().to_string();
        match std::fs::read_to_string(&path) {
            Ok(text) => decode_key(&text)
                .map(Self::from_key)
                .ok_or(SecretError::BadKeyFile(shown)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let key: [u8; 32] = ChaCha20Poly1305::generate_key(&mut OsRng).into();
                let mut options = std::fs::OpenOptions::new();
                options.write(true).create_new(true);
                #[cfg(unix)]
                std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
                let mut file = options.open(&path).map_err(|source| SecretError::Io {
                    path: shown.clone(),
                    source,
                })?;
                file.write_all(STANDARD.encode(key).as_bytes())
                    .and_then(|()| file.sync_all())
                    .map_err(|source| SecretError::Io { path: shown, source })?;
                Ok(Self::from_key(key))
            }
            Err(source) => Err(SecretError::Io { path: shown, source }),
        }
    }

    /// base64(nonce ‖ ciphertext); a fresh random nonce every time.
    pub fn seal(&self, plaintext: &str) -> String {
        let nonce = ChaCha20Poly1305::generate_nonce(&mut OsRng);
        let sealed = self
            .cipher
            .encrypt(&nonce, plaintext.as_bytes())
            .expect("ChaCha20-Poly1305 encryption cannot fail");
        let mut out = nonce.to_vec();
        out.extend_from_slice(&sealed);
        STANDARD.encode(out)
    }

    pub fn open(&self, sealed: &str) -> Result<String, SecretError> {
        let bytes = STANDARD.decode(sealed).map_err(|_| SecretError::Decrypt)?;
        if bytes.len() < 12 {
            return Err(SecretError::Decrypt);
        }
        let (nonce, ciphertext) = bytes.split_at(12);
        let plain = self
            .cipher
            .decrypt(Nonce::from_slice(nonce), ciphertext)
            .map_err(|_| SecretError::Decrypt)?;
        String::from_utf8(plain).map_err(|_| SecretError::Decrypt)
    }
}

fn decode_key(text: &str) -> Option<[u8; 32]> {
    STANDARD.decode(text.trim()).ok()?.try_into().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seal_open_round_trip_with_fresh_nonces() {
        let b = SecretBox::from_key([7; 32]);
        let a1 = b.seal("hunter2");
        let a2 = b.seal("hunter2");
        assert_ne!(a1, a2, "nonce reuse");
        assert!(!a1.contains("hunter2"));
        assert_eq!(b.open(&a1).unwrap(), "hunter2");
        assert!(
            SecretBox::from_key([8; 32]).open(&a1).is_err(),
            "wrong key opened it"
        );
        let mut tampered = STANDARD.decode(&a1).unwrap();
        *tampered.last_mut().unwrap() ^= 1;
        assert!(
            b.open(&STANDARD.encode(tampered)).is_err(),
            "tampering not detected"
        );
    }

    #[test]
    fn key_file_is_created_once_with_mode_0600_and_reused() {
        let dir = tempfile::tempdir().unwrap();
        let b1 = SecretBox::load_or_create(dir.path(), None).unwrap();
        let sealed = b1.seal("x");
        let b2 = SecretBox::load_or_create(dir.path(), None).unwrap();
        assert_eq!(b2.open(&sealed).unwrap(), "x");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.path().join(KEY_FILE))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }

    #[test]
    fn env_key_must_be_32_bytes() {
        let dir = tempfile::tempdir().unwrap();
        assert!(matches!(
            SecretBox::load_or_create(dir.path(), Some("c2hvcnQ=")),
            Err(SecretError::BadEnvKey)
        ));
        let key = STANDARD.encode([1u8; 32]);
        assert!(SecretBox::load_or_create(dir.path(), Some(&key)).is_ok());
        assert!(
            !dir.path().join(KEY_FILE).exists(),
            "env key must not write a key file"
        );
    }
}
