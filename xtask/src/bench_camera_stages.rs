//! Where `bench camera`'s time goes: each `shotline capture` command's stages (from the
//! bench's clock and the times the command printed) and each frame's (from the engine's
//! debug timing lines), printed after the bench's table.

/// Where each `shotline capture` command's wall time went (its frames per second), median
/// and slowest, from the bench's clock and the times the command printed.
pub fn commands(command: &[[i64; 4]]) {
    println!();
    println!("where a `shotline capture` command's time goes (ms; median, mean, max):");
    for (k, name) in [
        "start to queued (process start, journal open, request written)",
        "queued to fired (the camera thread takes it, the shutter)",
        "fired to stored (the frame; below)",
        "stored to exit (the answer, the command's poll)",
    ]
    .iter()
    .enumerate()
    {
        let mut v: Vec<i64> = command.iter().map(|c| c[k]).collect();
        v.sort_unstable();
        println!(
            "  {name:<66} {:>6} {:>6.1} {:>6}",
            v.get(v.len() / 2).copied().unwrap_or_default(),
            v.iter().sum::<i64>() as f64 / v.len().max(1) as f64,
            v.last().copied().unwrap_or_default()
        );
    }
}

/// The stages of a frame, as the engine's timing lines name them, in order.
const STAGES: [(&str, &str); 8] = [
    ("announced", "shutter to the camera's new-file event"),
    ("transfer", "download from the camera"),
    ("fsync", "fsync of the spool file"),
    ("rename and folder fsync", "spool rename, folder fsync"),
    ("recorded as taken", "journal: card file taken"),
    ("reserved", "journal: shot reserved"),
    ("hash", "hash (page cache)"),
    ("journal", "journal: stored (after `stored_ms`)"),
];

/// Print where the time of each Shotline frame went, from the engine's debug log: per
/// stage the median and the slowest frame's, and the three slowest frames in full. What
/// the lines do not cover up to the frame's `stored_ms` (hand-offs between threads, the
/// EXIF read) is the rest; the last journal write's commit comes after `stored_ms`.
pub fn stages(log: &str, latency: &[f64]) {
    let number = |line: &str, after: &str| -> Option<f64> {
        let at = line.find(after)? + after.len();
        let rest = line[at..].trim_start();
        let end = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        rest[..end].parse().ok()
    };
    let mut per: Vec<Vec<f64>> = vec![Vec::new(); STAGES.len()];
    let mut moves = Vec::new();
    for line in log.lines() {
        if line.contains(" ms after the shutter") {
            per[0].extend(number(line, " announced "));
        } else if line.contains(" in the spool in ") {
            per[1].extend(number(line, "(transfer "));
            per[2].extend(number(line, ", fsync "));
            per[3].extend(number(line, "rename and folder fsync "));
        } else if line.contains(" recorded as taken in ") {
            per[4].extend(number(line, " recorded as taken in "));
        } else if line.contains(" reserved in ") {
            per[5].extend(number(line, " reserved in "));
        } else if line.contains(" moved in from the spool in ") {
            per[6].extend(number(line, "(hash "));
            moves.extend(number(line, "rename and folder fsync "));
            per[7].extend(number(line, ", journal "));
        }
    }
    let n = latency.len();
    if per.iter().any(|p| p.len() != n) || moves.len() != n {
        println!(
            "(no breakdown: the engine's log has {:?} timing lines for {n} frames)",
            per.iter().map(Vec::len).collect::<Vec<_>>()
        );
        return;
    }
    let rest: Vec<f64> = (0..n)
        .map(|k| latency[k] - per[..7].iter().map(|p| p[k]).sum::<f64>() - moves[k])
        .collect();
    let median = |v: &[f64]| {
        let mut v = v.to_vec();
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    let mut slowest: Vec<usize> = (0..n).collect();
    slowest.sort_by(|&a, &b| latency[b].total_cmp(&latency[a]));
    slowest.truncate(3);
    println!();
    println!("where a Shotline frame's time goes (ms; the engine's timing lines):");
    print!("{:<40} {:>8} {:>8}", "stage", "median", "max");
    for k in &slowest {
        print!(" {:>9}", format!("frame {k}"));
    }
    println!();
    let row = |name: &str, v: &[f64]| {
        print!(
            "{:<40} {:>8.1} {:>8.1}",
            name,
            median(v),
            v.iter().copied().fold(0.0, f64::max)
        );
        for &k in &slowest {
            print!(" {:>9.1}", v[k]);
        }
        println!();
    };
    for (i, (_, name)) in STAGES.iter().enumerate() {
        if i == 7 {
            row("library rename, folder fsync", &moves);
        }
        row(name, &per[i]);
    }
    row("the rest (hand-offs, EXIF read)", &rest);
    row("shutter to stored_ms (the latency)", latency);
}
