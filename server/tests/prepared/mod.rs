//! A data directory made ready for the real binary (crash.rs, full_disk.rs): an admin and mail
//! settings, written through the store before the server starts.

use app::{
    auth,
    domain::{EmailAddress, MailServer, MailServerForm, MailServerSettings},
    secrets::SecretBox,
    store::{MailSettingsStore, SledStore},
};
use std::path::Path;

pub const ADMIN: &str = "admin@example.com";

/// The database in `dir` (made if missing), with the directory's key.
pub fn open(dir: &Path) -> SledStore {
    std::fs::create_dir_all(dir).unwrap();
    SledStore::open(dir, SecretBox::load_or_create(dir, None).unwrap()).unwrap()
}

/// A loopback port nobody listens on (mail sent there stays queued).
pub fn closed_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// An admin, and mail settings pointing at `port` on loopback; the store, still open.
pub fn prepare(dir: &Path, port: u16) -> SledStore {
    let store = open(dir);
    let admin = EmailAddress::parse(ADMIN).unwrap();
    auth::set_admin_password(&store, &admin, "a long admin password").unwrap();
    let form = MailServerForm {
        host: "localhost".into(),
        port: port.to_string(),
        account: "alerts@example.com".into(),
        password: "secret-password".into(),
        from_address: "alerts@example.com".into(),
        timeout: "30".into(),
        ..MailServerForm::default()
    };
    let parsed = MailServerSettings::parse(&form, None).unwrap();
    store.save_mail(0, MailServer::from_form(parsed, None).unwrap(), ADMIN).unwrap();
    store
}
