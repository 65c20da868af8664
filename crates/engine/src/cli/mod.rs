//! Command-line arguments and the subcommands behind them.

mod camera;
mod config_cmd;
mod preview;
mod proof;
mod run;
mod share;
mod shotlist;
mod status;
mod verify;
mod view;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use shotline_engine::Config;
use shotline_engine::config::Loaded;
use shotline_engine::journal::Journal;

/// Shotline: every frame from the hot folder into the library and onto verified backups.
#[derive(Debug, Parser)]
#[command(name = "shotline", version, about)]
pub struct Args {
    /// The config file (default: the platform's config folder, or $SHOTLINE_CONFIG).
    #[arg(long, global = true, value_name = "FILE")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Watch the hot folders and back up every frame until stopped (Ctrl-C).
    Run {
        /// Session name: the {session} in names (default: today's date).
        #[arg(long, value_name = "NAME")]
        session: Option<String>,
        /// Once running, write where everything is (relay address, tokens, library) to
        /// this file as JSON, for scripts.
        #[arg(long, value_name = "PATH")]
        ready_file: Option<PathBuf>,
        /// This session's metadata, over `[metadata]`: `--meta client=Acme --meta
        /// keywords=spring,hats` (keywords are added; an empty value clears a key).
        #[arg(long = "meta", value_name = "KEY=VALUE")]
        meta: Vec<String>,
    },
    /// Shots, jobs per target and state, and the queue.
    Status {
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Re-read every recorded copy from disk and compare hashes; exit 1 on any problem.
    Verify {
        /// Only this backup target's copies.
        #[arg(long, value_name = "NAME")]
        target: Option<String>,
        /// Put right what is wrong: copy a missing or damaged backup again from the
        /// library; restore a damaged library copy from a backup (the damaged file is
        /// moved aside, never deleted).
        #[arg(long, conflicts_with = "target")]
        repair: bool,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Seal an ASC MHL generation in the library and on every backup target that is
    /// there: the copies verified since the last one.
    Seal {
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Write a session's transfer report (every frame, each copy, what failed) as PDF or
    /// CSV; prints the file's path last.
    Report {
        /// The session (default: today's date).
        #[arg(long, value_name = "NAME")]
        session: Option<String>,
        /// `pdf` or `csv`.
        #[arg(long, default_value = "pdf", value_parser = ["pdf", "csv"])]
        format: String,
        /// Where (default: the library's .shotline/reports/).
        #[arg(long, value_name = "FILE")]
        output: Option<PathBuf>,
    },
    /// Fire the shutter of a tethered camera held by the running `shotline run`; prints the
    /// names of the frames once they are downloaded.
    Capture {
        /// The camera's port, e.g. usb:001,005 (default: the first connected camera).
        #[arg(long, value_name = "PORT")]
        camera: Option<String>,
        /// Wait until the frames are in the library and print their paths there.
        #[arg(long)]
        wait: bool,
        /// Print JSON: when the request was queued and when the shutter fired, and each
        /// frame with its library path and when it was stored (implies --wait).
        #[arg(long)]
        json: bool,
    },
    /// Tethered cameras: their status, or set a camera setting.
    Camera {
        #[command(subcommand)]
        action: CameraAction,
    },
    /// Show, check or create the configuration.
    Config {
        #[command(subcommand)]
        action: ConfigAction,
    },
    /// A session's shot list: load it from a CSV, see what is shot and what is missing.
    Shotlist {
        #[command(subcommand)]
        action: ShotlistAction,
    },
    /// Choose the shot list's item the next frames are of (a barcode scanner types its
    /// code), or none.
    Shot {
        #[command(subcommand)]
        action: ShotAction,
    },
    /// Live gallery shares: a session opened to the studio's clients.
    Share {
        #[command(subcommand)]
        action: share::Action,
    },
    /// Make the gallery's preview and thumbnail of each file, as the engine does, into a
    /// folder (`<name>-2048.jpg`, `<name>-400.jpg`); for benchmarks and for checking what a
    /// RAW file gives.
    #[command(hide = true)]
    Preview {
        /// Where the previews go.
        #[arg(long, value_name = "DIR")]
        out: PathBuf,
        /// Burn this watermark text in too, as a share's are (bottom right, 25 %, 50 %).
        #[arg(long, value_name = "TEXT")]
        watermark: Option<String>,
        /// The frames.
        #[arg(value_name = "FILE", required = true)]
        files: Vec<PathBuf>,
    },
}

#[derive(Debug, Subcommand)]
enum ShotlistAction {
    /// Load a CSV (`code,name,views`; views separated by `|`) as the session's shot list.
    Load {
        /// The CSV file.
        #[arg(value_name = "FILE")]
        file: PathBuf,
        /// The session (default: the one `shotline run` is shooting).
        #[arg(long, value_name = "NAME")]
        session: Option<String>,
    },
    /// Items complete and incomplete (with their missing views), extra and unsorted
    /// frames.
    Status {
        /// The session (default: the one `shotline run` is shooting).
        #[arg(long, value_name = "NAME")]
        session: Option<String>,
        /// text, csv or json.
        #[arg(long, default_value = "text")]
        format: String,
    },
}

#[derive(Debug, Subcommand)]
enum ShotAction {
    /// The next frames are item CODE's, each the next view not yet shot.
    Next {
        /// The item's code (its barcode).
        #[arg(value_name = "CODE")]
        code: String,
        /// The session (default: the one `shotline run` is shooting).
        #[arg(long, value_name = "NAME")]
        session: Option<String>,
    },
    /// No item: the next frames are unsorted.
    Clear {
        /// The session (default: the one `shotline run` is shooting).
        #[arg(long, value_name = "NAME")]
        session: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
enum CameraAction {
    /// Each camera's model, port, state, battery, free card space and key settings.
    List {
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Set a camera setting through libgphoto2 (as `gphoto2 --set-config`), e.g.
    /// `iso=400`, `aperture=5.6` or `capturetarget=Memory card`. The key settings (`iso`,
    /// `shutterspeed`, `aperture`, `whitebalance`, `imageformat`) go by these names on every
    /// camera and are checked against the values the camera takes; prints the value the
    /// camera reads back.
    Set {
        /// KEY=VALUE
        #[arg(value_name = "KEY=VALUE")]
        setting: String,
        /// The camera's port (default: the first connected camera).
        #[arg(long, value_name = "PORT")]
        camera: Option<String>,
    },
    /// Drive the focus: `near` or `far` by a step of size 1 (fine) to 3 (coarse), or
    /// `auto`. Manual drives work while live view runs (the window or a viewer of the
    /// relay's stream watches it); prints the camera's answer.
    Focus {
        /// near, far or auto
        #[arg(value_name = "near|far|auto")]
        direction: String,
        /// Step size, 1 to 3 (near and far).
        #[arg(value_name = "1-3")]
        size: Option<u8>,
        /// The camera's port (default: the first connected camera).
        #[arg(long, value_name = "PORT")]
        camera: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
enum ConfigAction {
    /// Write the commented default config to the config path (never overwrites).
    Init {
        /// Replace an existing file (the old one is kept as .bak).
        #[arg(long)]
        force: bool,
    },
    /// Check the config: values, folders; print the effective settings.
    Check,
    /// Print the config file's path.
    Path,
    /// Print the commented default config.
    Default,
}

/// Run the chosen subcommand.
pub fn dispatch(args: Args) -> anyhow::Result<ExitCode> {
    let file = args.config.as_deref();
    match args.command {
        Command::Run {
            session,
            ready_file,
            meta,
        } => run::run(load(file)?, session, ready_file, &meta),
        Command::Status { json } => status::status(&load(file)?.config, json),
        Command::Verify {
            target,
            repair,
            json,
        } => {
            let config = load(file)?.config;
            if repair {
                proof::repair(&config, json)
            } else {
                verify::verify(&config, target.as_deref(), json)
            }
        }
        Command::Seal { json } => proof::seal(&load(file)?.config, json),
        Command::Report {
            session,
            format,
            output,
        } => proof::report(&load(file)?.config, session, &format, output),
        Command::Capture { camera, wait, json } => {
            camera::capture(&load(file)?.config, camera.as_deref(), wait || json, json)
        }
        Command::Camera { action } => match action {
            CameraAction::List { json } => camera::list(&load(file)?.config, json),
            CameraAction::Set { setting, camera } => {
                camera::set(&load(file)?.config, &setting, camera.as_deref())
            }
            CameraAction::Focus {
                direction,
                size,
                camera,
            } => camera::focus(&load(file)?.config, &direction, size, camera.as_deref()),
        },
        Command::Shotlist { action } => {
            let config = load(file)?.config;
            match action {
                ShotlistAction::Load { file, session } => shotlist::load(&config, &file, session),
                ShotlistAction::Status { session, format } => {
                    shotlist::status(&config, session, &format)
                }
            }
        }
        Command::Shot { action } => {
            let config = load(file)?.config;
            match action {
                ShotAction::Next { code, session } => shotlist::next(&config, Some(&code), session),
                ShotAction::Clear { session } => shotlist::next(&config, None, session),
            }
        }
        Command::Share { action } => share::run(&load(file)?.config, action),
        Command::Preview {
            out,
            watermark,
            files,
        } => preview::previews(&out, watermark.as_deref(), &files),
        Command::Config { action } => match action {
            ConfigAction::Init { force } => config_cmd::init(file, force),
            ConfigAction::Check => config_cmd::check(file),
            ConfigAction::Path => {
                println!(
                    "{}",
                    file.map(PathBuf::from)
                        .unwrap_or_else(shotline_engine::paths::config_file)
                        .display()
                );
                Ok(ExitCode::SUCCESS)
            }
            ConfigAction::Default => {
                print!("{}", shotline_engine::config::DEFAULT_TOML);
                Ok(ExitCode::SUCCESS)
            }
        },
    }
}

/// The journal of a library a `shotline run` holds, or why not (`what_it_does`: why it
/// must be running, for the message).
fn running_journal(config: &Config, what_it_does: &str) -> anyhow::Result<Journal> {
    let path = Journal::path_for(&config.library.path);
    let lock = path.with_file_name("lock");
    if let Ok(file) = std::fs::File::options().write(true).open(&lock)
        && file.try_lock().is_ok()
    {
        anyhow::bail!(
            "no `shotline run` is running for the library {}: start it first; {what_it_does}",
            config.library.path.display()
        );
    }
    if !lock.exists() {
        anyhow::bail!(
            "no `shotline run` has used the library {} yet: start it first",
            config.library.path.display()
        );
    }
    Ok(Journal::open(&path)?)
}

fn load(file: Option<&std::path::Path>) -> anyhow::Result<Loaded> {
    Ok(Config::load(file)?)
}
