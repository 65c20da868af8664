//! Loading the configuration: the file (or the defaults), then the environment, paths
//! made absolute and every value checked; and writing it back atomically.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use super::{Config, ConfigError, absolute, env, validate};
use crate::naming::Template;
use crate::{Error, Result, paths};

/// A configuration and where it came from.
#[derive(Debug, Clone)]
pub struct Loaded {
    /// The configuration.
    pub config: Config,
    /// The file it was read from (which may not exist: then defaults and environment).
    pub file: PathBuf,
    /// Whether the file existed.
    pub file_exists: bool,
}

impl Config {
    /// Load from `file` (or the platform's config file), apply the environment, make paths
    /// absolute and validate. An explicit `file` that does not exist is an error; a missing
    /// default file means defaults.
    pub fn load(file: Option<&Path>) -> Result<Loaded> {
        match file {
            Some(path) => Self::load_from(path, true),
            None => Self::load_from(
                &paths::config_file(),
                std::env::var_os(paths::CONFIG_ENV).is_some(),
            ),
        }
    }

    /// Load from `path` as [`Config::load`] does; a missing file means the defaults unless
    /// it was `explicit`.
    pub fn load_from(path: &Path, explicit: bool) -> Result<Loaded> {
        let path = path.to_path_buf();
        let text = match std::fs::read_to_string(&path) {
            Ok(text) => Some(text),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound && !explicit => None,
            Err(e) => {
                return Err(ConfigError::new(
                    path.display().to_string(),
                    format!("cannot read the config file: {e}"),
                    "pass an existing file with --config, or create one with `shotline config init`",
                )
                .into());
            }
        };
        let file_exists = text.is_some();
        let mut config = match &text {
            Some(text) => Self::parse(text, &path)?,
            None => Config::default(),
        };
        let base = path.parent().map(Path::to_path_buf).unwrap_or_default();
        config.absolutize(&base);
        env::apply(&mut config, std::env::vars_os())?;
        let errors = validate::validate(&config);
        if !errors.is_empty() {
            return Err(Error::ConfigMany(errors));
        }
        Ok(Loaded {
            config,
            file: path,
            file_exists,
        })
    }

    /// Parse TOML text; `origin` names the file in errors.
    pub fn parse(text: &str, origin: &Path) -> Result<Self, ConfigError> {
        let mut config: Config = toml::from_str(text).map_err(|e| {
            ConfigError::new(
                origin.display().to_string(),
                e.to_string().trim_end().replace('\n', "\n    "),
                "correct the key or value shown; `shotline config default` lists every key",
            )
        })?;
        config.fill_backup_names();
        Ok(config)
    }

    /// The naming template, parsed. Validation guarantees it parses.
    pub fn naming(&self) -> Template {
        Template::parse(&self.library.naming).unwrap_or_default()
    }

    /// The backup targets' names, in order.
    pub fn target_names(&self) -> Vec<String> {
        self.backup.iter().map(|b| b.name.clone()).collect()
    }

    /// The relay listen address, parsed. Validation guarantees it parses.
    pub fn relay_listen(&self) -> Option<SocketAddr> {
        self.relay.listen.parse().ok()
    }

    fn fill_backup_names(&mut self) {
        for (i, backup) in self.backup.iter_mut().enumerate() {
            if backup.name.is_empty() {
                backup.name = backup
                    .path
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_else(|| format!("backup{}", i + 1));
            }
        }
    }

    fn absolutize(&mut self, base: &Path) {
        let fix = |p: &mut PathBuf| *p = absolute(p, base);
        self.hot_folder.iter_mut().for_each(|h| fix(&mut h.path));
        fix(&mut self.library.path);
        self.backup.iter_mut().for_each(|b| fix(&mut b.path));
    }

    /// The configuration as TOML (what `shotline config check` shows as effective).
    pub fn to_toml(&self) -> String {
        toml::to_string_pretty(self).unwrap_or_default()
    }

    /// Every wrong value, each with its key and fix (no folder is created).
    pub fn check(&self) -> Vec<ConfigError> {
        validate::validate(self)
    }

    /// Check, then write to `path` (fsynced, renamed into place; the old file kept as
    /// `.bak`). Nothing is written when a value is wrong.
    pub fn save(&self, path: &Path) -> Result<()> {
        let errors = self.check();
        if !errors.is_empty() {
            return Err(Error::ConfigMany(errors));
        }
        let io = |e| Error::io(path, e);
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(io)?;
        }
        let staged = path.with_extension("toml.new");
        {
            use std::io::Write;
            let mut file = std::fs::File::create(&staged).map_err(io)?;
            file.write_all(self.to_toml().as_bytes()).map_err(io)?;
            crate::platform::sync_file(&file).map_err(io)?;
        }
        if path.exists() {
            std::fs::copy(path, path.with_extension("toml.bak")).map_err(io)?;
        }
        std::fs::rename(&staged, path).map_err(io)
    }
}
