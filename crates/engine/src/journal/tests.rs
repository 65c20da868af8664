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
    j.reserve(&new_shot(source, original), |_, _| name.into(), |_| false)
        .expect("reserve")
}

#[test]
fn reservations_are_unique_and_sequenced() {
    let (_dir, j) = journal();
    let a = j
        .reserve(
            &new_shot("/in/a.jpg", "a.jpg"),
            |seq, _| format!("s1/{seq}-x.jpg"),
            |_| false,
        )
        .expect("a");
    let b = reserve(&j, "/in/b.jpg", "s1/x.jpg");
    let c = j
        .reserve(
            &new_shot("/in/c.jpg", "c.jpg"),
            |_, _| "s1/x.jpg".into(),
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

/// Record one like per `(share, seq, ts_ms, guest, frame, liked)`, the shares made first.
fn record_likes(j: &Journal, likes: &[(&str, u64, i64, &str, i64, bool)]) {
    for share in ["s1", "s2"] {
        if j.share(share).expect("share").is_none() {
            j.create_share(&Share {
                id: share.into(),
                session: "s1".into(),
                title: None,
                token: None,
                link: None,
                created_ms: 0,
                expires_ms: i64::MAX,
                revoked_ms: None,
                registered: false,
                pin_hash: None,
                downloads: Default::default(),
                choose: None,
                watermark: None,
                watermark_version: 0,
                settings_version: 0,
                link_exp_ms: None,
                live: false,
                live_overlay: None,
            })
            .expect("share");
        }
    }
    for &(share, seq, ts_ms, sub, shot_id, liked) in likes {
        let like = Answer {
            share: share.into(),
            id: format!("{share}-{seq}-{sub}-{shot_id}"),
            seq,
            ts_ms,
            sub: sub.into(),
            name: None,
            shot_id,
            frame_name: String::new(),
            kind: "like".into(),
            value: liked.to_string(),
        };
        j.record_answers(share, &[like], seq).expect("record");
    }
}

/// A frame's likes as the self-join that `answers::FEEDBACK` replaced counted them.
fn likes_as_before(j: &Journal, shot: i64) -> u32 {
    j.conn()
        .query_row(
            "SELECT COUNT(*) FROM answers a WHERE a.shot_id = ?1 AND a.kind = 'like' \
             AND a.value = 'true' AND NOT EXISTS (SELECT 1 FROM answers b \
             WHERE b.shot_id = a.shot_id AND b.kind = 'like' AND b.sub = a.sub \
             AND (b.ts_ms > a.ts_ms OR (b.ts_ms = a.ts_ms AND b.seq > a.seq)))",
            [shot],
            |r| r.get(0),
        )
        .expect("likes")
}

fn likes(j: &Journal, shot: i64) -> u32 {
    answers::feedback_of(&j.conn(), shot)
        .expect("feedback")
        .map_or(0, |f| f.likes)
}

#[test]
fn a_frame_counts_the_guests_whose_latest_like_is_true() {
    let (_dir, j) = journal();
    record_likes(
        &j,
        &[
            // Ana likes, unlikes, likes again; Ben likes and unlikes; Cy likes.
            ("s1", 1, 10, "ana", 1, true),
            ("s1", 2, 20, "ana", 1, false),
            ("s1", 3, 30, "ben", 1, true),
            ("s1", 4, 40, "ana", 1, true),
            ("s1", 5, 50, "ben", 1, false),
            ("s1", 6, 60, "cy", 1, true),
            // Dee unlikes later through the other share, whose log is shorter: time decides.
            ("s1", 7, 70, "dee", 1, true),
            ("s2", 1, 80, "dee", 1, false),
            // Eve in the same millisecond: the log's order decides.
            ("s1", 8, 90, "eve", 1, true),
            ("s1", 9, 90, "eve", 1, false),
            // Another frame's likes are its own.
            ("s1", 10, 100, "ben", 2, true),
        ],
    );
    assert_eq!((likes(&j, 1), likes(&j, 2)), (2, 1), "Ana and Cy; Ben");
    assert_eq!((likes_as_before(&j, 1), likes_as_before(&j, 2)), (2, 1));

    // A long mixed sequence through both shares, each with its own log, and many answers
    // in the same millisecond: the same counts as the self-join gave, frame by frame.
    let mut state = 7_u64;
    let mut next = |n: u64| {
        state = state
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1);
        (state >> 33) % n
    };
    let guests = ["ana", "ben", "cy", "dee", "eve", "fay"];
    let mut logs = [("s1", 100), ("s2", 0)];
    let mixed: Vec<_> = (0..600)
        .map(|_| {
            let (share, seq) = &mut logs[next(2) as usize];
            *seq += 1;
            let guest = guests[next(6) as usize];
            (
                *share,
                *seq,
                1_000 + next(50) as i64,
                guest,
                3 + next(3) as i64,
                next(3) > 0,
            )
        })
        .collect();
    record_likes(&j, &mixed);
    for shot in 3..6 {
        assert_eq!(likes(&j, shot), likes_as_before(&j, shot), "frame {shot}");
    }
}

#[test]
fn a_frames_likes_cost_in_proportion_to_them() {
    // The like count was a self-join, quadratic in a frame's likes under the journal's
    // one lock (20,000 likes held it for seconds).
    let (_dir, j) = journal();
    let plan: Vec<String> = j
        .conn()
        .prepare(&format!("EXPLAIN QUERY PLAN {}", answers::FEEDBACK))
        .expect("plan")
        .query_map([1], |r| r.get(3))
        .expect("plan")
        .collect::<rusqlite::Result<_>>()
        .expect("plan");
    assert!(
        !plan.iter().any(|step| step.contains("CORRELATED")),
        "a subquery run per row: {plan:#?}"
    );
    // SQLite's own count of the steps the query took: twice the likes, about twice the
    // steps (the self-join took four times as many).
    let steps = |shot: i64, n: u64| {
        let likes: Vec<_> = (0..n)
            .map(|i| {
                (
                    "s1",
                    shot as u64 * 10_000 + i,
                    i as i64,
                    "ana",
                    shot,
                    i % 2 == 0,
                )
            })
            .collect();
        record_likes(&j, &likes);
        let conn = j.conn();
        let mut stmt = conn.prepare(answers::FEEDBACK).expect("prepare");
        stmt.query_row([shot], |_| Ok(())).expect("feedback");
        stmt.get_status(rusqlite::StatementStatus::VmStep)
    };
    let (one, two) = (steps(1, 300), steps(2, 600));
    assert!(two < one * 3, "{one} steps for 300 likes, {two} for 600");
}
