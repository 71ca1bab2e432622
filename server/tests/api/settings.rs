//! Settings › Mail Server save and load through the real server functions and a real sled.

use crate::helpers::{spawn_app, valid_form};
use app::{
    domain::{Encryption, Field, MailServerForm},
    error::AppError,
    routes,
    store::SCHEMA_VERSION,
};
use base64::Engine as _;

const PASSWORD: &str = "s3cret-Passw0rd";

#[tokio::test]
async fn a_valid_save_stores_every_field_and_returns_no_password() {
    let app = spawn_app().await;
    let form = MailServerForm {
        host: "SMTP.Example.COM".into(),
        helo_name: "mail.example.org".into(),
        reply_to: "ops@example.com".into(),
        timeout: "30".into(),
        ..valid_form()
    };
    let view = app.save(0, &form).await.unwrap();
    assert!(view.password_saved);
    assert_eq!(view.form.password, "");
    assert_eq!(view.form.host, "smtp.example.com", "host normalised");
    assert!(
        !format!("{view:?}").contains(PASSWORD),
        "password in the save answer"
    );

    let rec = app.store.load_mail().await.unwrap().unwrap();
    assert_eq!(rec.schema, SCHEMA_VERSION);
    let (s, password) = (&rec.value.settings, &rec.value.password);
    assert_eq!(
        (s.host.as_str(), s.port.get(), s.account_str()),
        ("smtp.example.com", 587, "alerts@example.com")
    );
    assert_eq!(password.expose(), PASSWORD);
    assert_eq!(s.encryption, Encryption::StartTls);
    assert_eq!(s.helo_name.as_ref().map(|h| h.as_str()), Some("mail.example.org"));
    assert_eq!(s.reply_to.as_ref().map(|a| a.as_str()), Some("ops@example.com"));
    assert_eq!(s.timeout.secs(), 30);
    assert_eq!(s.from_name.as_str(), "Mailroom Alerts");

    assert!(
        !format!("{:?}", app.load().await.unwrap()).contains(PASSWORD),
        "password in the load answer"
    );
}

#[tokio::test]
async fn each_invalid_field_is_reported_on_that_field_and_nothing_is_saved() {
    let app = spawn_app().await;
    let cases: Vec<(MailServerForm, Field)> = vec![
        (
            MailServerForm {
                host: "smtp://smtp.example.com".into(),
                ..valid_form()
            },
            Field::Host,
        ),
        (
            MailServerForm {
                host: "smtp.example.com:587".into(),
                ..valid_form()
            },
            Field::Host,
        ),
        (
            MailServerForm {
                port: "70000".into(),
                ..valid_form()
            },
            Field::Port,
        ),
        (
            MailServerForm {
                port: "".into(),
                ..valid_form()
            },
            Field::Port,
        ),
        (
            MailServerForm {
                account: "".into(),
                ..valid_form()
            },
            Field::Account,
        ),
        (
            MailServerForm {
                password: "".into(),
                ..valid_form()
            },
            Field::Password,
        ),
        (
            MailServerForm {
                server_type: "POP3".into(),
                ..valid_form()
            },
            Field::ServerType,
        ),
        (
            MailServerForm {
                from_address: "not-an-address".into(),
                ..valid_form()
            },
            Field::FromAddress,
        ),
        (
            MailServerForm {
                from_name: "Ops\r\nBcc: victim@example.com".into(),
                ..valid_form()
            },
            Field::FromName,
        ),
        (
            MailServerForm {
                ssl: true,
                ..valid_form()
            },
            Field::Encryption,
        ),
        (
            MailServerForm {
                helo_name: "bad name".into(),
                ..valid_form()
            },
            Field::HeloName,
        ),
        (
            MailServerForm {
                timeout: "0".into(),
                ..valid_form()
            },
            Field::Timeout,
        ),
        (
            MailServerForm {
                reply_to: "nope".into(),
                ..valid_form()
            },
            Field::ReplyTo,
        ),
    ];
    for (form, field) in cases {
        let Err(AppError::Invalid { errors, submitted }) = app.save(0, &form).await else {
            panic!("{field:?}: an invalid form was accepted");
        };
        assert_eq!(errors.0.len(), 1, "{field:?}: {errors:?}");
        assert_eq!(errors.first(), Some(field));
        assert!(
            engine::i18n::english(errors.get(field).unwrap()).len() > 10,
            "the message says what to fix"
        );
        let submitted = submitted.expect("the form comes back");
        assert_eq!(submitted.password, "", "password echoed back");
        assert_eq!(
            MailServerForm {
                password: form.password.clone(),
                ..submitted
            },
            form
        );
    }
    assert_eq!(
        app.store.load_mail().await.unwrap(),
        None,
        "an invalid form saved something"
    );
}

#[tokio::test]
async fn a_save_over_a_newer_version_is_a_conflict() {
    let app = spawn_app().await;
    app.save(0, &valid_form()).await.unwrap();
    app.save(
        1,
        &MailServerForm {
            from_name: "Second".into(),
            ..valid_form()
        },
    )
    .await
    .unwrap();
    let stale = app
        .save(
            1,
            &MailServerForm {
                from_name: "Stale".into(),
                ..valid_form()
            },
        )
        .await;
    let Err(AppError::Conflict {
        current,
        saved_at,
        newer: Some(newer),
    }) = stale
    else {
        panic!("{stale:?}")
    };
    assert_eq!(current, 2);
    assert!(saved_at.starts_with("20"), "{saved_at}");
    // The refusal carries what is stored now: its values and who changed what.
    assert_eq!((newer.version, newer.form.from_name.as_str()), (2, "Second"));
    assert!(
        newer.audit[0].changes.iter().any(|c| c.contains("Second")),
        "{:?}",
        newer.audit
    );
    // What the page says of it, worded on the server: this admin saved it elsewhere, and the
    // one save since the refused form's version changed From Name to "Second".
    assert!(newer.conflict_shown.contains("You (in another tab or window) saved these settings at"), "{}", newer.conflict_shown);
    assert!(newer.conflict_shown.contains("Second") && !newer.conflict_shown.contains("created the mail settings"), "{}", newer.conflict_shown);
    assert!(!serde_json::to_string(&newer).unwrap().contains(PASSWORD));
    assert_eq!(
        app.store
            .load_mail().await
            .unwrap()
            .unwrap()
            .value
            .settings
            .from_name
            .as_str(),
        "Second"
    );
}

/// A form made on an older version is answered with the conflict, not with errors that only
/// exist against the newer version (here: the password the newer login would need).
#[tokio::test]
async fn a_stale_save_is_a_conflict_before_its_values_are_checked() {
    let app = spawn_app().await;
    app.save(0, &valid_form()).await.unwrap();
    app.save(
        1,
        &MailServerForm {
            host: "smtp.changed.example".into(),
            ..valid_form()
        },
    )
    .await
    .unwrap();
    // Made on version 1: a blank password keeps the password of version 1's login.
    let stale = app
        .save(
            1,
            &MailServerForm {
                from_name: "Stale tab".into(),
                password: String::new(),
                ..valid_form()
            },
        )
        .await;
    assert!(
        matches!(stale, Err(AppError::Conflict { current: 2, .. })),
        "{stale:?}"
    );
}

#[tokio::test]
async fn blank_password_keeps_the_saved_one_while_the_login_is_unchanged() {
    let app = spawn_app().await;
    app.save(0, &valid_form()).await.unwrap();
    let form = MailServerForm {
        password: "".into(),
        from_name: "Renamed".into(),
        ..valid_form()
    };
    app.save(1, &form).await.unwrap();
    let v = app.store.load_mail().await.unwrap().unwrap().value;
    assert_eq!(
        (v.password.expose(), v.settings.from_name.as_str()),
        (PASSWORD, "Renamed")
    );
}

#[tokio::test]
async fn blank_password_is_refused_when_host_or_account_changed_and_kept_for_another_port() {
    let app = spawn_app().await;
    app.save(0, &valid_form()).await.unwrap();
    let blank = MailServerForm {
        password: "".into(),
        ..valid_form()
    };
    for changed in [
        MailServerForm {
            host: "smtp.other.example".into(),
            ..blank.clone()
        },
        MailServerForm {
            account: "other@example.com".into(),
            ..blank.clone()
        },
    ] {
        let Err(AppError::Invalid { errors, .. }) = app.save(1, &changed).await else {
            panic!("{changed:?} saved")
        };
        assert_eq!(errors.first(), Some(Field::Password), "{changed:?}: {errors:?}");
    }
    let v = app.store.load_mail().await.unwrap().unwrap();
    assert_eq!(
        (v.version, v.value.settings.host.as_str()),
        (1, "smtp.example.com")
    );
    // The same account on the same server, on another port: the saved password stays.
    let other_port = MailServerForm {
        port: "2525".into(),
        ..blank.clone()
    };
    app.save(1, &other_port).await.unwrap();
    let v = app.store.load_mail().await.unwrap().unwrap();
    assert_eq!((v.version, v.value.settings.port.get()), (2, 2525));
    assert_eq!(v.value.password.expose(), valid_form().password);
}

#[tokio::test]
async fn without_javascript_a_failed_save_redirects_back_with_errors_and_the_form_minus_password() {
    let app = spawn_app().await;
    let body = serde_qs::to_string(&app::api::SaveMailSettingsForm {
        version: 0,
        form: MailServerForm {
            port: "abc".into(),
            ..valid_form()
        },
    })
    .unwrap();
    let res = app
        .client
        .post(format!("{}/api/save_mail_settings_form", app.url))
        .header("Accept", "text/html")
        .header("Content-Type", "application/x-www-form-urlencoded")
        .header("Referer", format!("{}{}", app.url, routes::MAIL_SETTINGS))
        .body(body)
        .send()
        .await
        .unwrap();
    assert!(res.status().is_redirection(), "{}", res.status());
    let location = url::Url::parse(res.headers()["location"].to_str().unwrap()).unwrap();
    assert_eq!(location.path(), routes::MAIL_SETTINGS);
    let err = location
        .query_pairs()
        .find(|(k, _)| k == "__err")
        .expect("__err")
        .1
        .to_string();
    let err = String::from_utf8(base64::engine::general_purpose::URL_SAFE.decode(err).unwrap()).unwrap();
    assert!(!err.contains(PASSWORD), "password in the redirect URL");
    let Ok(AppError::Invalid { errors, submitted }) = serde_json::from_str::<AppError>(&err) else {
        panic!("{err}")
    };
    assert_eq!(errors.first(), Some(Field::Port));
    assert_eq!(submitted.unwrap().host, "smtp.example.com");

    // The page at that address shows the submitted values and the message, server-rendered.
    let html = app
        .client
        .get(location.as_str())
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains(r#"value="abc""#), "submitted port not shown again");
    assert!(
        html.contains("The port is a whole number"),
        "port message missing"
    );
    assert!(!html.contains(PASSWORD));
}

#[tokio::test]
async fn the_change_history_names_fields_with_the_page_labels() {
    use app::history::Change;
    let app = spawn_app().await;
    app.save(0, &valid_form()).await.unwrap();
    let changed = MailServerForm {
        port: "2525".into(),
        password: "other-pw".into(),
        ..valid_form()
    };
    let view = app.save(1, &changed).await.unwrap();
    // Stored as data…
    let stored = app.store.recent_audit(5).await.unwrap();
    let port = Change::Set {
        field: Field::Port,
        from: "587".into(),
        to: "2525".into(),
    };
    assert_eq!(
        stored[0].changes,
        vec![
            port,
            Change::Replaced {
                field: Field::Password
            }
        ]
    );
    assert_eq!(stored[1].changes, vec![Change::Created]);
    // …and worded with the page's labels.
    assert_eq!(
        view.audit[0].changes,
        vec!["Port: “587” → “2525”", "Password changed"]
    );
    let html = app.page(routes::MAIL_SETTINGS).await;
    assert!(html.contains("Port: “587” → “2525”"), "history on the page");
    assert!(!html.contains("other-pw"));
}

#[tokio::test]
async fn a_relay_without_sign_in_saves_without_account_or_password_and_the_history_says_so() {
    let app = spawn_app().await;
    let first = app.save(0, &valid_form()).await.unwrap();
    let relay = MailServerForm {
        authentication: "none".into(),
        account: String::new(),
        password: String::new(),
        port: "25".into(),
        starttls: false,
        ssl: false,
        ..valid_form()
    };
    let saved = app.save(first.version, &relay).await.unwrap();
    assert_eq!(saved.form.authentication, "none");
    assert_eq!(saved.form.account, "");
    assert!(!saved.password_saved || saved.form.password.is_empty());
    let changes = &saved.audit[0].changes;
    assert!(
        changes.iter().any(|c| c == "Authentication: \u{201c}password\u{201d} \u{2192} \u{201c}none\u{201d}"),
        "{changes:?}"
    );
    // Back to a password: the old one is not kept for the account typed again.
    let back = MailServerForm {
        authentication: "password".into(),
        ..valid_form()
    };
    let Err(AppError::Invalid { errors, .. }) = app.save(saved.version, &MailServerForm { password: String::new(), ..back }).await else {
        panic!("saved without a password")
    };
    assert_eq!(errors.first(), Some(Field::Password));
}
