//! One node's originals area: its accounting, a share's part, cut bodies, waits, tickets.

use super::super::store::Originals;
use super::*;
use futures_util::StreamExt;

fn body(bytes: &'static [u8], split: usize) -> BodyStream {
    let parts: Vec<Result<Bytes, axum::Error>> = bytes
        .chunks(split)
        .map(|c| Ok(Bytes::from_static(c)))
        .collect();
    Box::pin(futures_util::stream::iter(parts))
}

async fn read(kept: Option<Kept>) -> Vec<u8> {
    match kept {
        Some(Kept::File { body, .. }) => axum::body::to_bytes(body, usize::MAX)
            .await
            .expect("read")
            .to_vec(),
        _ => panic!("no file kept"),
    }
}

#[tokio::test]
async fn a_file_is_kept_whole_within_the_limit_and_a_wait_ends_when_it_comes() {
    let dir = tempfile::tempdir().expect("tempdir");
    let area = Originals::open(Some(dir.path()), None, 80).expect("open");
    assert!(area.want("s1", "st:gallery:s1", 7).await.expect("want"));
    assert_eq!(area.wanted().await.expect("wanted").len(), 1);
    area.put_file("s1", 7, "A.NEF", 10, body(b"0123456789", 3))
        .await
        .expect("kept");
    assert!(area.wanted().await.expect("wanted").is_empty(), "answered");
    assert_eq!(
        read(area.get("s1", 7).await.expect("get")).await,
        b"0123456789"
    );
    // A share takes a quarter of the area at most: a second file of s1 does not fit,
    // another share's does.
    let full = area
        .put_file("s1", 8, "B.NEF", 11, body(b"0123456789a", 4))
        .await;
    assert!(matches!(full, Err(PutError::Full(_))), "{full:?}");
    area.put_file("s2", 8, "B.NEF", 11, body(b"0123456789a", 4))
        .await
        .expect("another share's part");
    let large = area.put_file("s3", 1, "L.NEF", 21, body(&[0; 21], 7)).await;
    assert!(matches!(large, Err(PutError::TooLarge(_))), "{large:?}");
    // A body shorter or longer than it said is refused and its space given back.
    let short = area.put_file("s1", 9, "C.NEF", 5, body(b"0123", 2)).await;
    assert!(matches!(short, Err(PutError::Body(_))), "{short:?}");
    let long = area.put_file("s1", 9, "C.NEF", 3, body(b"0123", 2)).await;
    assert!(matches!(long, Err(PutError::Body(_))), "{long:?}");
    area.put_file("s1", 9, "C.NEF", 10, body(b"abcdefghij", 10))
        .await
        .expect("the space of the cut ones is free again");
    // A request dropped halfway (the sender gone) gives its space back too.
    let stalled: BodyStream = Box::pin(
        futures_util::stream::iter([Ok(Bytes::from_static(b"01234"))])
            .chain(futures_util::stream::pending()),
    );
    let cut = tokio::time::timeout(
        std::time::Duration::from_millis(50),
        area.put_file("s4", 1, "D.NEF", 10, stalled),
    )
    .await;
    assert!(cut.is_err(), "still waiting for the rest");
    assert!(area.get("s2", 7).await.expect("get").is_none());
    area.drop_share("s1").await.expect("drop");
    area.drop_share("s2").await.expect("drop");
    assert!(area.get("s1", 7).await.expect("get").is_none());
    let Originals::Local(local) = &area else {
        unreachable!()
    };
    assert_eq!(local.lock().total, 0);
    assert_eq!(
        std::fs::read_dir(dir.path().join("originals"))
            .expect("dir")
            .count(),
        0,
        "no file left behind"
    );
}

#[tokio::test]
async fn waits_are_bounded_and_a_url_expires_with_its_signature() {
    let area = Originals::open(None, None, 1000).expect("open");
    for frame in 0..MAX_WANTED_PER_SHARE as i64 {
        assert!(area.want("s", "c", frame).await.expect("want"));
    }
    assert!(
        !area.want("s", "c", -1).await.expect("want"),
        "one too many for a share"
    );
    assert!(
        area.want("s", "c", 3).await.expect("want"),
        "asked again: no new wait"
    );
    for share in 1..MAX_WANTED / MAX_WANTED_PER_SHARE {
        for frame in 0..MAX_WANTED_PER_SHARE as i64 {
            let share = format!("s{share}");
            assert!(area.want(&share, "c", frame).await.expect("want"));
        }
    }
    assert!(
        !area.want("t", "c", 1).await.expect("want"),
        "one too many in all"
    );
    let hour = std::time::Duration::from_secs(3600);
    area.put_url("s", 1, "https://bucket/a?X-Amz-Signature=1", hour)
        .await
        .expect("url");
    assert!(matches!(
        area.get("s", 1).await.expect("get"),
        Some(Kept::Url(u)) if u.ends_with("=1")
    ));
    let minute = std::time::Duration::from_secs(60);
    area.put_url("s", 2, "https://bucket/b", minute)
        .await
        .expect("url");
    assert!(
        area.get("s", 2).await.expect("get").is_none(),
        "not handed out in its last minute"
    );
    // A ticket works once, for its frame.
    let ticket = area.ticket("s", 1).await.expect("ticket").expect("room");
    assert_eq!(
        area.redeem(&ticket).await.expect("redeem"),
        Some(("s".to_string(), 1))
    );
    assert_eq!(area.redeem(&ticket).await.expect("redeem"), None);
    assert_eq!(area.redeem("../../etc").await.expect("redeem"), None);
}
