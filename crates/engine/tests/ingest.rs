//! Ingest as a tethering tool exercises it: duplicates, names already taken, temporary
//! names, files rewritten after they were taken, polled folders, frames that arrived
//! while Shotline was stopped.

mod common;

use std::fs;
use std::time::Duration;

use common::{SESSION, Studio, bytes, tree};

const WAIT: Duration = Duration::from_secs(60);

fn studio() -> Studio {
    Studio::with_backup("b")
}

#[test]
fn duplicates_taken_names_temp_files_and_rewrites() {
    let mut s = studio();
    // A file that is not Shotline's already sits where the first frame would go.
    fs::create_dir_all(s.library.join(SESSION)).expect("mkdir");
    fs::write(s.library.join(SESSION).join("a.jpg"), b"somebody else's").expect("stranger");
    s.start();
    fs::write(s.hot.join("a.jpg"), bytes(1, 10_000)).expect("a");
    s.wait_for("a", WAIT, |st| st["shots"] == 1);
    fs::write(s.hot.join("copy-of-a.jpg"), bytes(1, 10_000)).expect("dup");
    fs::write(s.hot.join("a.jpg.partial"), b"half").expect("partial");
    fs::write(s.hot.join(".hidden.jpg"), b"hidden").expect("hidden");
    fs::write(s.hot.join("b.tmp"), bytes(2, 5_000)).expect("tmp");
    fs::rename(s.hot.join("b.tmp"), s.hot.join("b.jpg")).expect("rename into place");
    s.wait_for("a, b and the duplicate", WAIT, |st| {
        st["shots"] == 2 && st["duplicates"] == 1 && st["queue_depth"] == 0
    });

    // The tool rewrites a.jpg: the new version is kept beside the old, never over it.
    std::thread::sleep(Duration::from_millis(50));
    fs::write(s.hot.join("a.jpg"), bytes(3, 12_000)).expect("rewrite");
    s.wait_for("the rewritten version", WAIT, |st| {
        st["shots"] == 3 && st["queue_depth"] == 0
    });
    s.stop();

    let library = tree(&s.library);
    let names: Vec<&str> = library.keys().map(String::as_str).collect();
    assert_eq!(
        names,
        [
            format!("{SESSION}/a-1.jpg"),
            format!("{SESSION}/a-2.jpg"),
            format!("{SESSION}/a.jpg"),
            format!("{SESSION}/b.jpg")
        ]
    );
    assert_eq!(library[&format!("{SESSION}/a.jpg")], b"somebody else's");
    assert_eq!(library[&format!("{SESSION}/a-1.jpg")], bytes(1, 10_000));
    assert_eq!(library[&format!("{SESSION}/a-2.jpg")], bytes(3, 12_000));
    assert_eq!(library[&format!("{SESSION}/b.jpg")], bytes(2, 5_000));
    let backup = tree(&s.dir.path().join("b"));
    assert_eq!(
        backup.len(),
        3,
        "the stranger's file is not Shotline's to back up: {:?}",
        backup.keys()
    );
    let out = s.shotline(&["status"]);
    assert!(String::from_utf8_lossy(&out.stdout).contains("3 stored, 1 duplicates"));
}

#[test]
fn frames_that_arrived_while_stopped_are_taken_at_start() {
    let mut s = studio();
    fs::create_dir_all(s.hot.join("earlier/roll")).expect("mkdir");
    for i in 0..5 {
        fs::write(s.hot.join(format!("earlier/roll/{i}.jpg")), bytes(i, 3_000)).expect("write");
    }
    s.start();
    s.wait_for("the frames from before", WAIT, |st| {
        st["shots"] == 5 && st["queue_depth"] == 0
    });
    s.stop();
    // A restart takes nothing twice. Once what the start-up scan found is offered, a new
    // frame goes in after it (ingest is first come, first served): when the new one is
    // stored, the old ones have been looked at.
    s.env.push(("SHOTLINE_LOG".into(), "info".into()));
    s.start();
    s.wait_for_log("initial scan done", WAIT);
    fs::write(s.hot.join("after-restart.jpg"), bytes(99, 3_000)).expect("write");
    s.wait_for("the frame after the restart", WAIT, |st| {
        st["shots"] == 6 && st["queue_depth"] == 0
    });
    s.stop();
    assert_eq!(s.status()["shots"], 6);
    assert_eq!(s.status()["duplicates"], 0);
    assert_eq!(tree(&s.library).len(), 6);
}

#[test]
fn a_polled_hot_folder_takes_frames_without_file_system_events() {
    let mut s = studio();
    let text = fs::read_to_string(&s.config).expect("config");
    fs::write(
        &s.config,
        text.replacen("[library]", "poll_interval = \"300ms\"\n\n[library]", 1),
    )
    .expect("config");
    assert!(s.shotline(&["config", "check"]).status.success());
    s.start();
    s.wait_for_log("polled every 300ms", WAIT);
    fs::create_dir_all(s.hot.join("nas/share")).expect("mkdir");
    fs::write(s.hot.join("nas/share/x.jpg"), bytes(7, 40_000)).expect("write");
    s.wait_for("the polled frame", WAIT, |st| {
        st["shots"] == 1 && st["queue_depth"] == 0
    });
    s.stop();
    assert_eq!(
        tree(&s.library)[&format!("{SESSION}/nas/share/x.jpg")],
        bytes(7, 40_000)
    );
}
