use shotline_protocol::ShotSource;

use super::*;

fn journal() -> (tempfile::TempDir, Journal) {
    let dir = tempfile::tempdir().expect("tempdir");
    let journal = Journal::open(&dir.path().join("j.sqlite")).expect("open");
    (dir, journal)
}

fn new_shot<'a>(path: &'a str, original: &'a str) -> NewShot<'a> {
    NewShot {
        session: "s1",
        source: ShotSource::HotFolder,
        source_path: path,
        size: 10,
        mtime_ns: 5,
        original,
    }
}

/// Reserve a shot for `source` under the fixed library name `name`.
fn reserve(j: &Journal, source: &str, name: &str) -> Shot {
    let original = source.rsplit('/').next().unwrap_or(source);
    j.reserve(&new_shot(source, original), |_| name.into(), |_| false)
        .expect("reserve")
}

#[test]
fn reservations_are_unique_and_sequenced() {
    let (_dir, j) = journal();
    let a = j
        .reserve(
            &new_shot("/in/a.jpg", "a.jpg"),
            |seq| format!("s1/{seq}-x.jpg"),
            |_| false,
        )
        .expect("a");
    let b = reserve(&j, "/in/b.jpg", "s1/x.jpg");
    let c = j
        .reserve(
            &new_shot("/in/c.jpg", "c.jpg"),
            |_| "s1/x.jpg".into(),
            |p| p == "s1/x-1.jpg",
        )
        .expect("c");
    assert_eq!(a.rel_path.as_deref(), Some("s1/1-x.jpg"));
    assert_eq!(b.rel_path.as_deref(), Some("s1/x.jpg"));
    assert_eq!(
        c.rel_path.as_deref(),
        Some("s1/x-2.jpg"),
        "reserved and on-disk names are both skipped"
    );
    assert_eq!(
        j.find_ingesting("/in/b.jpg").expect("find").map(|s| s.id),
        Some(b.id)
    );
}

#[test]
fn storing_creates_jobs_and_survives_reopen() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("j.sqlite");
    let targets = vec!["usb".to_string(), "nas".to_string()];
    {
        let j = Journal::open(&path).expect("open");
        let shot = reserve(&j, "/in/a.jpg", "a.jpg");
        j.mark_stored(shot.id, 10, "h1", &targets).expect("stored");
        assert_eq!(j.due_jobs(&targets, 10).expect("due").len(), 2);
    }
    let j = Journal::open(&path).expect("reopen");
    let report = j.report(&targets).expect("report");
    assert_eq!((report.stored, report.queue_depth()), (1, 2));
    let job = &j.due_jobs(&targets[..1], 10).expect("due")[0];
    j.job_verified(job.shot_id, "usb", "a.jpg", "h1")
        .expect("verify");
    assert_eq!(j.report(&targets).expect("report").targets[0].verified, 1);
    assert!(j.find_source("/in/a.jpg", 10, 5).expect("find").is_some());
    assert!(j.find_source("/in/a.jpg", 11, 5).expect("find").is_none());
}

#[test]
fn a_new_target_catches_up_and_retries_wait() {
    let (_dir, j) = journal();
    let shot = reserve(&j, "/in/a.jpg", "a.jpg");
    j.mark_stored(shot.id, 10, "h", &["a".into()])
        .expect("stored");
    assert_eq!(j.ensure_jobs(&["a".into(), "b".into()]).expect("ensure"), 1);
    let later = now_ms() + 60_000;
    assert_eq!(
        j.job_retry(shot.id, "b", "full", later, false)
            .expect("retry"),
        0
    );
    assert!(j.due_jobs(&["b".into()], 10).expect("due").is_empty());
    j.jobs_due_now("b").expect("now");
    assert_eq!(j.due_jobs(&["b".into()], 10).expect("due").len(), 1);
    assert_eq!(j.smallest_pending("b").expect("min"), Some(10));
}

#[test]
fn duplicates_release_their_name() {
    let (_dir, j) = journal();
    let a = reserve(&j, "/in/a.jpg", "a.jpg");
    j.mark_stored(a.id, 10, "same", &[]).expect("stored");
    let b = reserve(&j, "/in/b.jpg", "b.jpg");
    assert_eq!(
        j.find_stored_by_hash("same").expect("find").map(|s| s.id),
        Some(a.id)
    );
    j.mark_duplicate(b.id, 10, "same", a.id).expect("dup");
    let b = j.shot(b.id).expect("get").expect("exists");
    assert_eq!(
        (b.state, b.rel_path, b.duplicate_of),
        (ShotState::Duplicate, None, Some(a.id))
    );
}

#[test]
fn migrating_twice_is_a_no_op() {
    let (dir, _j) = journal();
    let again = Journal::open(&dir.path().join("j.sqlite")).expect("reopen");
    let version: usize = again
        .conn()
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .expect("version");
    assert_eq!(version, schema::VERSION);
}

#[test]
fn uploads_wait_for_backups_and_keep_their_parts() {
    let (_dir, j) = journal();
    let targets = vec!["usb".to_string(), "nas".to_string()];
    let shot = reserve(&j, "/in/a.jpg", "a.jpg");
    j.mark_stored(shot.id, 10, "h1", &targets).expect("stored");
    assert_eq!(j.uploads_due(0, 10).expect("due").len(), 1, "at once");
    assert!(
        j.uploads_due(1, 10).expect("due").is_empty(),
        "not before a backup"
    );
    j.job_verified(shot.id, "usb", "a.jpg", "h1")
        .expect("verify");
    assert_eq!(j.uploads_due(1, 10).expect("due").len(), 1);
    assert!(j.uploads_due(2, 10).expect("due").is_empty());

    j.upload_started(shot.id, "k").expect("start");
    j.upload_multipart(shot.id, "up-1", 5).expect("multipart");
    let part = Part {
        number: 1,
        etag: "\"e1\"".into(),
        size: 5,
    };
    j.upload_part_done(shot.id, "up-1", &part).expect("part");
    let due = &j.uploads_due(0, 10).expect("due")[0];
    assert_eq!(due.multipart, Some(("up-1".to_string(), 5)));
    assert_eq!(j.upload_parts(shot.id, "up-1").expect("parts"), [part]);
    j.upload_retry(shot.id, "timeout", 60_000).expect("retry");
    assert!(
        j.uploads_due(0, 10).expect("due").is_empty(),
        "waits for its retry time"
    );
    j.upload_done(shot.id).expect("done");
    assert_eq!(j.upload_counts().expect("counts").done, 1);
    assert!(j.upload_parts(shot.id, "up-1").expect("parts").is_empty());
}

#[test]
fn a_card_file_name_taken_again_answers_with_the_new_frame_not_the_old() {
    use crate::source::camera::driver::CardFile;
    let (_dir, j) = journal();
    let answered = |j: &Journal| {
        j.shot_of_card_file("DSC_0001.JPG")
            .expect("query")
            .map(|s| s.0)
    };
    // The card file `DSC_0001.JPG` (modified at `mtime`) taken into `spool`, and, with
    // `library`, stored there.
    let take = |j: &Journal, mtime, spool: &str, library: Option<&str>| {
        let card = CardFile {
            folder: "/DCIM/100NIKON".into(),
            name: "DSC_0001.JPG".into(),
            size: 10,
            mtime,
        };
        j.record_card_taken("cam", "s1", &card, spool)
            .expect("taken");
        if let Some(library) = library {
            let shot = reserve(j, spool, library);
            j.mark_stored(shot.id, 10, spool, &[]).expect("stored");
        }
    };
    take(&j, 1, "/spool/a-DSC_0001.JPG", Some("s1/DSC_0001.JPG"));
    assert_eq!(answered(&j), Some("s1/DSC_0001.JPG".to_string()));
    // The camera's counter started again: the same name, a new frame, not stored yet.
    take(&j, 2, "/spool/b-DSC_0001.JPG", None);
    assert_eq!(answered(&j), None);
    let shot = reserve(&j, "/spool/b-DSC_0001.JPG", "s1/DSC_0001-2.JPG");
    j.mark_stored(shot.id, 10, "h2", &[]).expect("stored");
    assert_eq!(answered(&j), Some("s1/DSC_0001-2.JPG".to_string()));
}
