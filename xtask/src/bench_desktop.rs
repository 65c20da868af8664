//! `bench desktop`: the app's footprint over 60 s idle, 30 s after start (once start-up
//! has settled), its whole process tree (the app and the WebKit processes it starts), side
//! by side: the window open; tray only (`--minimized`, as started at login: no WebView at
//! all) with the default settings, the camera source on; and tray only with
//! `[camera] enabled = false`. Goals: tray-only at most 80 MB RSS and 0.5 % of one core,
//! with the camera source on.

use std::collections::{HashMap, HashSet};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::Context;

use crate::desktop::Display;

const WARM_UP: Duration = Duration::from_secs(30);
const MEASURE: Duration = Duration::from_secs(60);

pub fn bench() -> anyhow::Result<()> {
    // The build the installers carry (the Tauri CLI's, with its production features).
    crate::bundle::bundle()?;
    let bin = crate::bench::target_dir().join("release/shotline-desktop");
    let work = tempfile::tempdir()?;
    let root = work.path();
    for d in ["hot", "library", "backup", "home"] {
        std::fs::create_dir_all(root.join(d))?;
    }
    let settings = format!(
        "[[hot_folder]]\npath = {:?}\n[library]\npath = {:?}\n[[backup]]\nname = \"backup\"\npath = {:?}\n[relay]\nlisten = \"127.0.0.1:0\"\n",
        root.join("hot"),
        root.join("library"),
        root.join("backup")
    );
    let config = root.join("config.toml");
    std::fs::write(&config, &settings)?;
    let no_camera = root.join("no-camera.toml");
    std::fs::write(&no_camera, format!("{settings}[camera]\nenabled = false\n"))?;
    let display = Display::start()?;
    let mut rows = Vec::new();
    for (label, args, config) in [
        ("window open", "", &config),
        ("tray only", "--minimized", &config),
        ("tray, no cam", "--minimized", &no_camera),
    ] {
        eprintln!(
            "bench desktop: {label}, {}s warm-up then {}s",
            WARM_UP.as_secs(),
            MEASURE.as_secs()
        );
        let mut session = Command::new("dbus-run-session")
            .args(["--", "bash", "-c"])
            .arg(format!("trayer >/dev/null 2>&1 & exec {:?} {args}", bin))
            .env("DISPLAY", &display.name)
            .env("HOME", root.join("home"))
            .env("XDG_CONFIG_HOME", root.join("home/.config"))
            .env("XDG_DATA_HOME", root.join("home/.local/share"))
            .env("SHOTLINE_CONFIG", config)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .context("starting the app")?;
        let result = measure(&session, &root.join("library"));
        stop(&mut session);
        rows.push((label, result?));
    }
    println!();
    println!(
        "desktop: whole process tree, idle, over {}s",
        MEASURE.as_secs()
    );
    println!(
        "{:<14} {:>10} {:>10} {:>12}",
        "", "RSS MB", "peak MB", "CPU % core"
    );
    for (label, r) in &rows {
        println!(
            "{label:<14} {:>10.1} {:>10.1} {:>12.3}",
            r.rss_mb, r.peak_mb, r.cpu_percent
        );
    }
    println!("largest mappings at the end (RSS MB, the whole tree):");
    for (label, r) in &rows {
        let top: Vec<String> = r
            .largest
            .iter()
            .map(|(name, kb)| format!("{name} {:.1}", *kb as f64 / 1024.0))
            .collect();
        println!("{label:<14} {}", top.join(", "));
    }
    let (window, tray, no_camera) = (&rows[0].1, &rows[1].1, &rows[2].1);
    println!(
        "tray only / window open: RSS {:.2}, CPU {:.2}; tray only, camera on / off: RSS {:.2}, CPU {:.2}",
        tray.rss_mb / window.rss_mb,
        tray.cpu_percent / window.cpu_percent.max(f64::MIN_POSITIVE),
        tray.rss_mb / no_camera.rss_mb,
        tray.cpu_percent / no_camera.cpu_percent.max(f64::MIN_POSITIVE),
    );
    println!(
        "goals for tray only with the camera source on: RSS <= 80 MB ({}), CPU <= 0.5 % ({})",
        if tray.rss_mb <= 80.0 {
            "met"
        } else {
            "not met"
        },
        if tray.cpu_percent <= 0.5 {
            "met"
        } else {
            "not met"
        },
    );
    Ok(())
}

struct Figures {
    rss_mb: f64,
    peak_mb: f64,
    cpu_percent: f64,
    /// The mappings holding the most RSS, by file name (`[anon]` for anonymous memory).
    largest: Vec<(String, u64)>,
}

/// RSS in kB per mapped file name over `pids`, from `/proc/<pid>/smaps`, largest first.
fn largest_mappings(pids: &HashSet<u32>, n: usize) -> Vec<(String, u64)> {
    let mut by_name: HashMap<String, u64> = HashMap::new();
    for pid in pids {
        let Ok(smaps) = std::fs::read_to_string(format!("/proc/{pid}/smaps")) else {
            continue;
        };
        let mut name = String::new();
        for line in smaps.lines() {
            let mut fields = line.split_whitespace();
            let first = fields.next().unwrap_or_default();
            if first.contains('-') && !first.ends_with(':') {
                // A mapping's header: range, perms, offset, device, inode, [path].
                let path = fields.nth(4).unwrap_or("[anon]");
                name = path.rsplit('/').next().unwrap_or(path).to_string();
            } else if first == "Rss:" {
                let kb: u64 = fields.next().and_then(|v| v.parse().ok()).unwrap_or(0);
                *by_name.entry(name.clone()).or_default() += kb;
            }
        }
    }
    let mut all: Vec<(String, u64)> = by_name.into_iter().collect();
    all.sort_by_key(|e| std::cmp::Reverse(e.1));
    all.truncate(n);
    all
}

/// Stop the session and the app in it, and wait until the app is gone: an app left
/// running would hold the library's lock, and the next case's engine would not start.
fn stop(child: &mut Child) {
    let app = tree(child.id());
    let signal = |sig: &str, pids: &HashSet<u32>| {
        // A process that went with its parent is not signalled (nor complained of).
        for pid in pids.iter().filter(|p| alive(**p)) {
            let _ = Command::new("kill")
                .arg(sig)
                .arg(pid.to_string())
                .stderr(Stdio::null())
                .status();
        }
    };
    signal("-TERM", &app);
    let deadline = Instant::now() + Duration::from_secs(10);
    while app.iter().any(|p| alive(*p)) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(100));
    }
    signal("-KILL", &app);
    while app.iter().any(|p| alive(*p)) {
        std::thread::sleep(Duration::from_millis(100));
    }
    let _ = Command::new("kill")
        .arg("-TERM")
        .arg(child.id().to_string())
        .status();
    let _ = child.wait();
}

fn alive(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|s| Some(s.rsplit_once(") ")?.1.starts_with('Z')))
        .is_some_and(|zombie| !zombie)
}

/// Whether `pid` has the journal under `library` open: its engine is running.
fn engine_running(pid: u32, library: &std::path::Path) -> bool {
    let library = library
        .canonicalize()
        .unwrap_or_else(|_| library.to_path_buf());
    let journal = library.join(".shotline/journal.sqlite");
    std::fs::read_dir(format!("/proc/{pid}/fd"))
        .map(|fds| {
            fds.flatten()
                .any(|fd| std::fs::read_link(fd.path()).is_ok_and(|p| p == journal))
        })
        .unwrap_or(false)
}

/// The app and its descendants (the WebKit processes).
fn tree(session: u32) -> HashSet<u32> {
    let all = crate::desktop::processes();
    let descendants = |root: u32| {
        let mut set = HashSet::from([root]);
        loop {
            let more: Vec<u32> = all
                .iter()
                .filter(|(pid, (parent, _))| set.contains(parent) && !set.contains(*pid))
                .map(|(pid, _)| *pid)
                .collect();
            if more.is_empty() {
                return set;
            }
            set.extend(more);
        }
    };
    let app = descendants(session).into_iter().find(|pid| {
        all.get(pid)
            .is_some_and(|(_, n)| n.starts_with("shotline-deskto"))
    });
    app.map(descendants).unwrap_or_default()
}

fn rss_kb(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("VmRSS:"))
                .and_then(|v| v.split_whitespace().next()?.parse().ok())
        })
        .unwrap_or(0)
}

fn cpu_ticks(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|s| {
            let rest = s.rsplit_once(") ")?.1;
            let f: Vec<&str> = rest.split_whitespace().collect();
            Some(f.get(11)?.parse::<u64>().ok()? + f.get(12)?.parse::<u64>().ok()?)
        })
        .unwrap_or(0)
}

fn measure(session: &Child, library: &std::path::Path) -> anyhow::Result<Figures> {
    std::thread::sleep(WARM_UP);
    let pids = tree(session.id());
    anyhow::ensure!(!pids.is_empty(), "the app is not running");
    anyhow::ensure!(
        pids.iter().any(|p| engine_running(*p, library)),
        "the app's engine is not running (its journal under {} is not open): nothing to measure",
        library.display()
    );
    let ticks = |pids: &HashSet<u32>| pids.iter().map(|p| cpu_ticks(*p)).sum::<u64>();
    let start_ticks = ticks(&pids);
    let start = Instant::now();
    let (mut sum, mut n, mut peak) = (0u64, 0u64, 0u64);
    while start.elapsed() < MEASURE {
        let total: u64 = tree(session.id()).iter().map(|p| rss_kb(*p)).sum();
        sum += total;
        n += 1;
        peak = peak.max(total);
        std::thread::sleep(Duration::from_secs(1));
    }
    let end_ticks = ticks(&tree(session.id()).union(&pids).copied().collect());
    let largest = largest_mappings(&tree(session.id()), 6);
    let seconds = start.elapsed().as_secs_f64();
    Ok(Figures {
        rss_mb: sum as f64 / n.max(1) as f64 / 1024.0,
        peak_mb: peak as f64 / 1024.0,
        // Linux counts CPU time in 1/100 s.
        cpu_percent: end_ticks.saturating_sub(start_ticks) as f64 / 100.0 / seconds * 100.0,
        largest,
    })
}
