//! The Settings form: read from the config file (and the keychain's "stored" flags),
//! checked by the config's own rules with every refusal under its key, and saved to the
//! config file, the keychain and the preferences.

use std::path::{Path, PathBuf};

use shotline_engine::Config;
use shotline_engine::config::notify::{Email, MailTls};
use shotline_engine::config::{Backup, HotFolder, Upload};
use shotline_engine::engine::default_session;
use shotline_engine::naming::{Fields, Template};

use crate::dto::{BackupForm, EmailForm, FieldError, Settings, UploadForm};
use crate::prefs::Prefs;
use crate::secrets::{self, Secret};

/// Settings as the window shows them, from `config` and `prefs`.
pub fn form(config: &Config, prefs: &Prefs) -> Settings {
    Settings {
        hot_folders: config
            .hot_folder
            .iter()
            .map(|h| h.path.display().to_string())
            .collect(),
        library: config.library.path.display().to_string(),
        naming: config.library.naming.clone(),
        backups: config
            .backup
            .iter()
            .map(|b| BackupForm {
                name: b.name.clone(),
                path: b.path.display().to_string(),
                require_mount: b.require_mount,
            })
            .collect(),
        camera_enabled: config.camera.enabled,
        relay_url: config.relay.url.clone().unwrap_or_default(),
        relay_listen: config.relay.listen.clone(),
        relay_token: String::new(),
        relay_token_stored: Secret::RelayToken.get().is_some(),
        upload: config.upload.as_ref().map(|u| UploadForm {
            endpoint: u.endpoint.clone(),
            region: u.region.clone(),
            bucket: u.bucket.clone(),
            key: u.key.clone(),
        }),
        upload_access_key: String::new(),
        upload_secret: String::new(),
        upload_keys_stored: secrets::upload_credentials().is_some(),
        email: config.notify.email.as_ref().map(|e| EmailForm {
            server: e.server.clone(),
            port: e.port.map(|p| p.to_string()).unwrap_or_default(),
            tls: match e.tls {
                MailTls::Starttls => "starttls",
                MailTls::Tls => "tls",
                MailTls::None => "none",
            }
            .into(),
            username: e.username.clone().unwrap_or_default(),
            from: e.from.clone(),
            to: e.to.join(", "),
            digest_at: e.digest_at.clone(),
        }),
        smtp_password: String::new(),
        smtp_password_stored: Secret::SmtpPassword.get().is_some(),
        prefs: prefs.clone(),
    }
}

fn field(key: &str, message: impl Into<String>) -> FieldError {
    FieldError {
        key: key.into(),
        message: message.into(),
    }
}

/// Check `form` over `config` and save it: the config file at `config_file`, the
/// keychain, the preferences beside it. Every refused value comes back with its key;
/// nothing is saved then.
pub fn save(
    config_file: &Path,
    mut config: Config,
    form: &Settings,
) -> Result<(), Vec<FieldError>> {
    apply(&mut config, form);
    let mut errors: Vec<FieldError> = config
        .check()
        .into_iter()
        .map(|e| field(&e.key, format!("{}. {}", e.problem, e.fix)))
        .collect();
    if form.prefs.relay_alert_minutes == 0 {
        errors.push(field(
            "prefs.relay_alert_minutes",
            "0 would alert at every reconnect. Write 1 or more minutes.",
        ));
    }
    if let Some(email) = &form.email
        && !email.port.trim().is_empty()
        && email.port.trim().parse::<u16>().is_err()
    {
        errors.push(field(
            "notify.email.port",
            format!(
                "`{}` is not a port. Write a number, e.g. 587, or leave it empty.",
                email.port.trim()
            ),
        ));
    }
    if let Some(email) = &form.email
        && !email.username.trim().is_empty()
        && form.smtp_password.trim().is_empty()
        && Secret::SmtpPassword.get().is_none()
    {
        errors.push(field(
            "notify.email.password",
            "The account needs its password. Type it; it is kept in the keychain.",
        ));
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    let secrets = [
        (Secret::RelayToken, form.relay_token.trim(), "relay.token"),
        (
            Secret::UploadKey,
            form.upload_access_key.trim(),
            "upload.keys",
        ),
        (
            Secret::UploadSecret,
            form.upload_secret.trim(),
            "upload.keys",
        ),
        (
            Secret::SmtpPassword,
            form.smtp_password.as_str(),
            "notify.email.password",
        ),
    ];
    for (secret, value, key) in secrets {
        if !value.is_empty()
            && let Err(e) = secret.set(value)
        {
            errors.push(field(key, e.to_string()));
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    config
        .save(config_file)
        .map_err(|e| vec![field("config", e.to_string())])?;
    form.prefs
        .save(config_file)
        .map_err(|e| vec![field("prefs", e.to_string())])?;
    Ok(())
}

/// The form's values onto `config` (everything the form does not show is kept).
fn apply(config: &mut Config, form: &Settings) {
    config.hot_folder = hot_folders(config, &form.hot_folders);
    config.library.path = PathBuf::from(form.library.trim());
    config.library.naming = form.naming.clone();
    config.backup = form
        .backups
        .iter()
        .filter(|b| !b.path.trim().is_empty())
        .map(backup)
        .collect();
    config.camera.enabled = form.camera_enabled;
    config.relay.url = Some(form.relay_url.trim().to_string()).filter(|u| !u.is_empty());
    config.relay.listen = form.relay_listen.trim().to_string();
    config.upload = match (&form.upload, config.upload.take()) {
        (None, _) => None,
        (Some(f), old) => {
            let mut u: Upload = old.unwrap_or_default();
            u.endpoint = f.endpoint.trim().to_string();
            u.region = f.region.trim().to_string();
            u.bucket = f.bucket.trim().to_string();
            u.key = f.key.trim().to_string();
            Some(u)
        }
    };
    config.notify.email = form.email.as_ref().map(|f| {
        let old = config.notify.email.take();
        let tls = match f.tls.trim() {
            "tls" => MailTls::Tls,
            "none" => MailTls::None,
            _ => MailTls::Starttls,
        };
        let text = |s: &str| Some(s.trim().to_string()).filter(|s| !s.is_empty());
        Email {
            server: f.server.trim().to_string(),
            port: f.port.trim().parse().ok(),
            tls,
            ca_file: old.as_ref().and_then(|o| o.ca_file.clone()),
            username: text(&f.username),
            from: f.from.trim().to_string(),
            to: f
                .to
                .split([',', ';', '\n'])
                .map(str::trim)
                .filter(|t| !t.is_empty())
                .map(String::from)
                .collect(),
            digest_at: f.digest_at.trim().to_string(),
            expiry_warning: old
                .map(|o| o.expiry_warning)
                .unwrap_or_else(|| "24h".into()),
        }
    });
}

/// The form's hot folders, each keeping the poll interval it had.
fn hot_folders(config: &Config, paths: &[String]) -> Vec<HotFolder> {
    let keep_poll = |path: &str| {
        config
            .hot_folder
            .iter()
            .find(|h| h.path.display().to_string() == path)
            .and_then(|h| h.poll_interval)
    };
    paths
        .iter()
        .map(|p| p.trim())
        .filter(|p| !p.is_empty())
        .map(|p| HotFolder {
            path: PathBuf::from(p),
            poll_interval: keep_poll(p),
        })
        .collect()
}

fn backup(b: &BackupForm) -> Backup {
    let path = PathBuf::from(b.path.trim());
    let name = if b.name.trim().is_empty() {
        path.file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "backup".into())
    } else {
        b.name.trim().to_string()
    };
    Backup {
        name,
        path,
        require_mount: b.require_mount,
        seal_every: None,
    }
}

/// What `template` makes of a sample frame, or why it cannot be used.
pub fn naming_example(template: &str, session: &str) -> Result<String, String> {
    let template = Template::parse(template).map_err(|e| e.to_string())?;
    // Today's date and a fixed sample time.
    let date = default_session();
    let path = template.render(&Fields {
        date: &date,
        time: "143005",
        session,
        camera: "NIKON D750",
        seq: 1,
        original: "DSC_0001.NEF",
        // A sample shot-list item, for templates that name frames by it.
        slot: Some(&shotline_engine::shotlist::Slot {
            code: "SKU-1042".into(),
            item: "Red hat".into(),
            view: "front".into(),
            n: 1,
        }),
    });
    Ok(path.to_string_lossy().replace('\\', "/"))
}
