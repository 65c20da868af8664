//! `shotline share …`: the live gallery's shares — made, listed, closed and exported in
//! [`links`]; their proofing settings changed, guests' selections and the share's
//! activity in [`proofing`].

mod links;
mod proofing;

use std::process::ExitCode;

use clap::{Args, Subcommand};
use shotline_engine::Config;
use shotline_engine::preview::watermark::{Position, Watermark};
use shotline_protocol::gallery::{Choose, Downloads};

/// The share's proofing settings, as `create` and `set` take them.
#[derive(Debug, Args)]
pub struct Settings {
    /// A PIN its guests give before they see anything: 4 to 8 digits, or a passphrase of
    /// 6 to 128 characters (only its Argon2 hash is kept). Also from SHOTLINE_SHARE_PIN.
    #[arg(
        long,
        value_name = "PIN",
        env = "SHOTLINE_SHARE_PIN",
        hide_env_values = true
    )]
    pin: Option<String>,
    /// Take the PIN off (`set` only).
    #[arg(long, conflicts_with = "pin")]
    no_pin: bool,
    /// What guests may download: off, web (the 2048 px preview) or originals.
    #[arg(long, value_name = "WHAT", value_parser = ["off", "web", "originals"])]
    downloads: Option<String>,
    /// Ask each guest to pick frames and send the selection: `20`, or `10-20`.
    #[arg(long, value_name = "N|MIN-MAX")]
    choose: Option<String>,
    /// No selection asked for (on `create`: not even the config's default).
    #[arg(long, conflicts_with = "choose")]
    no_choose: bool,
    /// Burn this text into the previews and thumbnails guests see, e.g. "© Studio".
    #[arg(long, value_name = "TEXT")]
    watermark: Option<String>,
    /// Burn this PNG logo (with its transparency) in instead of text.
    #[arg(long, value_name = "PNG")]
    watermark_logo: Option<std::path::PathBuf>,
    /// Where: bottom-right, bottom-left, top-right, top-left, center or tiled.
    #[arg(long, value_name = "WHERE", default_value = "bottom-right")]
    watermark_position: String,
    /// Its width, in percent of the picture's width (5 to 90).
    #[arg(long, value_name = "PERCENT", default_value_t = 25)]
    watermark_size: u8,
    /// Its opacity, in percent (5 to 100).
    #[arg(long, value_name = "PERCENT", default_value_t = 50)]
    watermark_opacity: u8,
    /// Take the watermark off: the share's previews are sent clean again (on `create`:
    /// not even the config's default).
    #[arg(long, conflicts_with_all = ["watermark", "watermark_logo"])]
    no_watermark: bool,
    /// Show the studio's live view on the gallery page (`on`), or stop (`off`).
    #[arg(long, value_name = "on|off")]
    live: Option<String>,
    /// A layout overlay (a PNG with transparency) over the live view guests see.
    #[arg(long, value_name = "PNG")]
    live_overlay: Option<std::path::PathBuf>,
    /// No layout overlay over the live view.
    #[arg(long, conflicts_with = "live_overlay")]
    no_live_overlay: bool,
}

/// `shotline share …`.
#[derive(Debug, Subcommand)]
pub enum Action {
    /// Share a session (needs the running `shotline run`, which makes the link); prints
    /// the share id, then the link as the last line.
    Create {
        /// The session (default: the one `shotline run` is shooting).
        #[arg(long, value_name = "NAME")]
        session: Option<String>,
        /// How long the link works, e.g. 7d or 12h.
        #[arg(long, default_value = "7d", value_name = "DURATION")]
        ttl: String,
        /// A title the guests see.
        #[arg(long, value_name = "TEXT")]
        title: Option<String>,
        #[command(flatten)]
        settings: Settings,
    },
    /// Change a share: its PIN, downloads, "choose N", or when it ends (the running
    /// `shotline run` tells the relay; open pages pick it up).
    Set {
        /// The share id.
        #[arg(value_name = "ID")]
        id: String,
        #[command(flatten)]
        settings: Settings,
        /// Keep it open this much longer, e.g. 3d.
        #[arg(long, value_name = "DURATION")]
        extend: Option<String>,
    },
    /// Every share: id, session, state, frames, link.
    List {
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Close a share: open pages are cut off, its link answers 410.
    Revoke {
        /// The share id.
        #[arg(value_name = "ID")]
        id: String,
    },
    /// Every answer the share's guests gave (ratings, labels, likes, picks, comments)
    /// with guest, time and frame.
    Export {
        /// The share id.
        #[arg(value_name = "ID")]
        id: String,
        /// `csv` or `json`.
        #[arg(long, default_value = "csv", value_parser = ["csv", "json"])]
        format: String,
    },
    /// The selections guests sent: each guest's picked file names (`txt`: one line,
    /// ready to paste into Lightroom's or Capture One's filter), or CSV or JSON.
    Picks {
        /// The share id.
        #[arg(value_name = "ID")]
        id: String,
        /// `txt`, `csv` or `json`.
        #[arg(long, default_value = "txt", value_parser = ["txt", "csv", "json"])]
        format: String,
    },
    /// Let a guest change their sent selection again.
    Unlock {
        /// The share id.
        #[arg(value_name = "ID")]
        id: String,
        /// The guest: their name, or the `sub` `share picks --format csv` shows.
        #[arg(value_name = "GUEST")]
        guest: String,
    },
    /// Who opened the share and when, wrong PINs, downloads, selections sent.
    Activity {
        /// The share id.
        #[arg(value_name = "ID")]
        id: String,
        /// `text` or `csv`.
        #[arg(long, default_value = "text", value_parser = ["text", "csv"])]
        format: String,
    },
}

/// Run `action`.
pub fn run(config: &Config, action: Action) -> anyhow::Result<ExitCode> {
    match action {
        Action::Create {
            session,
            ttl,
            title,
            settings,
        } => {
            let settings = settings.for_create(config)?;
            links::create(config, session, &ttl, title.as_deref(), settings)
        }
        Action::Set {
            id,
            settings,
            extend,
        } => proofing::set(config, &id, &settings, extend.as_deref()),
        Action::List { json } => links::list(config, json),
        Action::Revoke { id } => links::revoke(config, &id),
        Action::Export { id, format } => links::export(config, &id, &format),
        Action::Picks { id, format } => proofing::picks(config, &id, &format),
        Action::Unlock { id, guest } => proofing::unlock(config, &id, &guest),
        Action::Activity { id, format } => proofing::activity(config, &id, &format),
    }
}

impl Settings {
    fn pin_hash(&self) -> anyhow::Result<Option<String>> {
        self.pin
            .as_deref()
            .map(|p| shotline_engine::share::hash_pin(p).map_err(|e| anyhow::anyhow!("--pin: {e}")))
            .transpose()
    }

    fn downloads(&self) -> anyhow::Result<Option<Downloads>> {
        match self.downloads.as_deref() {
            None => Ok(None),
            Some(d) => Downloads::parse(d)
                .map(Some)
                .ok_or_else(|| anyhow::anyhow!("--downloads {d:?}: write off, web or originals")),
        }
    }

    fn live(&self) -> anyhow::Result<Option<bool>> {
        match self.live.as_deref() {
            None => Ok(None),
            Some("on") => Ok(Some(true)),
            Some("off") => Ok(Some(false)),
            Some(other) => anyhow::bail!("--live {other:?}: write on or off"),
        }
    }

    /// The overlay asked for (copied under the library for share `id`), if any.
    fn live_overlay(&self, library: &std::path::Path, id: &str) -> anyhow::Result<Option<String>> {
        self.live_overlay
            .as_deref()
            .map(|p| {
                shotline_engine::share::keep_overlay(library, id, p)
                    .map_err(|e| anyhow::anyhow!("--live-overlay: {e}"))
            })
            .transpose()
    }

    fn choose(&self) -> anyhow::Result<Option<Choose>> {
        self.choose
            .as_deref()
            .map(|c| Choose::parse(c).map_err(|e| anyhow::anyhow!("--choose: {e}")))
            .transpose()
    }

    /// The watermark asked for (its logo copied under the library), if any.
    fn watermark(&self, library: &std::path::Path) -> anyhow::Result<Option<Watermark>> {
        if self.watermark.is_none() && self.watermark_logo.is_none() {
            return Ok(None);
        }
        let position = Position::parse(&self.watermark_position).ok_or_else(|| {
            anyhow::anyhow!(
                "--watermark-position {:?}: write bottom-right, bottom-left, top-right, top-left, center or tiled",
                self.watermark_position
            )
        })?;
        let logo = self
            .watermark_logo
            .as_deref()
            .map(|p| {
                shotline_engine::share::keep_logo(library, "share", p)
                    .map_err(|e| anyhow::anyhow!("--watermark-logo: {e}"))
            })
            .transpose()?;
        let mark = Watermark {
            text: self
                .watermark
                .as_deref()
                .map(str::trim)
                .filter(|t| !t.is_empty())
                .map(String::from),
            logo,
            position,
            size: self.watermark_size,
            opacity: self.watermark_opacity,
        };
        mark.check()
            .map_err(|e| anyhow::anyhow!("--watermark: {e}"))?;
        Ok(Some(mark))
    }

    /// The settings of a new share: those asked for, else the config's `[gallery]`
    /// defaults (`--no-choose`, `--no-watermark`: not the default's).
    fn for_create(&self, config: &Config) -> anyhow::Result<shotline_engine::share::Settings> {
        let library = &config.library.path;
        if self.no_pin {
            anyhow::bail!("--no-pin is for `share set`: a new share has no PIN unless asked");
        }
        let defaults = &config.gallery;
        let choose = match self.choose()? {
            Some(c) => Some(c),
            None if self.no_choose => None,
            None => defaults
                .default_choose()
                .map_err(|e| anyhow::anyhow!("[gallery] choose: {e}"))?,
        };
        let watermark = match self.watermark(library)? {
            Some(w) => Some(w),
            None if self.no_watermark => None,
            None => {
                let logo = defaults
                    .watermark_logo
                    .as_deref()
                    .map(|p| {
                        shotline_engine::share::keep_logo(library, "share", p)
                            .map_err(|e| anyhow::anyhow!("[gallery] watermark_logo: {e}"))
                    })
                    .transpose()?;
                defaults
                    .default_watermark(logo)
                    .map_err(|e| anyhow::anyhow!("[gallery] watermark: {e}"))?
            }
        };
        Ok(shotline_engine::share::Settings {
            pin_hash: self.pin_hash()?,
            downloads: self.downloads()?.unwrap_or(defaults.downloads),
            choose,
            watermark,
            live: self.live()?.unwrap_or(false),
            live_overlay: self.live_overlay(library, "share")?,
        })
    }
}
