//! Engine events: one variant per kind of state change, each with a typed payload.

use std::borrow::Cow;

use serde::{Deserialize, Serialize};

pub use crate::gallery::{GalleryComment, GalleryFrame, GalleryLabel, GalleryLike, GalleryRating};

/// One state change in the engine, as seen by the UI, the tray and the relay.
///
/// On the wire: `{"type": "shot_stored", "payload": {..}}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
#[serde(tag = "type", content = "payload", rename_all = "snake_case")]
pub enum Event {
    /// A tethered camera appeared, changed (battery, card space) or went away.
    CameraStatus(CameraStatus),
    /// A source produced a complete file; it is recorded in the journal and being stored.
    ShotCaptured(ShotCaptured),
    /// A shot is in the library (the primary copy), or was recognised as a duplicate.
    ShotStored(ShotStored),
    /// Bytes written so far of one shot to one backup target.
    BackupProgress(BackupProgress),
    /// A backup copy was re-read from disk and its hash matched.
    BackupVerified(BackupVerified),
    /// A backup target changed state (online, offline, full, error) or free space.
    TargetStatus(TargetStatus),
    /// Bytes sent so far of one shot to the cloud bucket.
    UploadProgress(UploadProgress),
    /// A shot is in the cloud bucket.
    UploadComplete(UploadComplete),
    /// Totals of the work queue.
    QueueStatus(QueueStatus),
    /// Something a person should know about.
    Notification(Notification),
    /// This computer: CPU, memory, its disks, and the library's room for more frames;
    /// every minute, and at once when the library's disk crosses a threshold.
    SystemStatus(SystemStatus),
    /// A frame's thumbnail and preview are on the relay, for the studio's dashboard.
    FramePreview(FramePreview),
    /// A frame of a shared session, for its guests.
    GalleryFrame(GalleryFrame),
    /// A guest's rating of a frame.
    GalleryRating(GalleryRating),
    /// A guest's colour label on a frame.
    GalleryLabel(GalleryLabel),
    /// A guest liked a frame (or no longer does).
    GalleryLike(GalleryLike),
    /// A guest's comment on a frame.
    GalleryComment(GalleryComment),
}

impl Event {
    /// The wire name of this event's type, e.g. `"shot_stored"`.
    pub fn kind(&self) -> &'static str {
        match self {
            Event::CameraStatus(_) => "camera_status",
            Event::ShotCaptured(_) => "shot_captured",
            Event::ShotStored(_) => "shot_stored",
            Event::BackupProgress(_) => "backup_progress",
            Event::BackupVerified(_) => "backup_verified",
            Event::TargetStatus(_) => "target_status",
            Event::UploadProgress(_) => "upload_progress",
            Event::UploadComplete(_) => "upload_complete",
            Event::QueueStatus(_) => "queue_status",
            Event::Notification(_) => "notification",
            Event::SystemStatus(_) => "system_status",
            Event::FramePreview(_) => "frame_preview",
            Event::GalleryFrame(_) => "gallery_frame",
            Event::GalleryRating(_) => "gallery_rating",
            Event::GalleryLabel(_) => "gallery_label",
            Event::GalleryLike(_) => "gallery_like",
            Event::GalleryComment(_) => "gallery_comment",
        }
    }

    /// The channel suffix this event is published on (`<studio>:<suffix>` on the relay);
    /// a share's frames go to `gallery:<share id>`. Guests' answers are published by the
    /// guests themselves, on their share's channel.
    pub fn channel_suffix(&self) -> Cow<'static, str> {
        Cow::Borrowed(match self {
            Event::CameraStatus(_)
            | Event::ShotCaptured(_)
            | Event::ShotStored(_)
            | Event::FramePreview(_) => "camera",
            Event::BackupProgress(_) | Event::BackupVerified(_) | Event::TargetStatus(_) => {
                "backup"
            }
            Event::UploadProgress(_) | Event::UploadComplete(_) => "upload",
            Event::QueueStatus(_) | Event::SystemStatus(_) => "status",
            Event::Notification(_) => "alerts",
            Event::GalleryFrame(f) => return Cow::Owned(format!("gallery:{}", f.share)),
            Event::GalleryRating(_)
            | Event::GalleryLabel(_)
            | Event::GalleryLike(_)
            | Event::GalleryComment(_) => "gallery",
        })
    }
}

/// Where a shot came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
#[serde(rename_all = "snake_case")]
pub enum ShotSource {
    /// A file that appeared in a hot folder.
    HotFolder,
    /// A frame downloaded from a tethered camera.
    Camera,
}

/// Payload of [`Event::FramePreview`]: where the studio's dashboard finds a stored frame's
/// pictures (blobs of `<studio>:camera`, read with any token for that channel).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
pub struct FramePreview {
    /// Journal id of the shot (as in `shot_stored`).
    pub shot_id: i64,
    /// Its file name.
    pub name: String,
    /// Upright width in pixels.
    pub width: u32,
    /// Upright height in pixels.
    pub height: u32,
    /// The thumbnail's address on the relay (long edge 400).
    pub thumbnail: String,
    /// The preview's address on the relay (long edge 2048).
    pub preview: String,
}

/// Payload of [`Event::ShotCaptured`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
pub struct ShotCaptured {
    /// Journal id of the shot.
    pub shot_id: i64,
    /// Session the shot belongs to.
    pub session: String,
    /// Where it came from.
    pub source: ShotSource,
    /// Path relative to the hot folder, or the camera's file name.
    pub original: String,
    /// Size in bytes when it was found complete.
    pub size: u64,
    /// The shot list's item it is of, when one was chosen.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ts", ts(optional))]
    pub item: Option<ShotItem>,
}

/// A frame's place in its session's shot list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
pub struct ShotItem {
    /// The item's code (its barcode).
    pub code: String,
    /// The item's name.
    pub name: String,
    /// The view this frame is (`extra` past the item's views).
    pub view: String,
    /// The frame's number within the item, from 1.
    pub n: u64,
}

/// Payload of [`Event::ShotStored`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
pub struct ShotStored {
    /// Journal id of the shot.
    pub shot_id: i64,
    /// Session the shot belongs to.
    pub session: String,
    /// Path inside the library, `/`-separated; for a duplicate, the earlier shot's path.
    pub path: String,
    /// Size in bytes.
    pub size: u64,
    /// XXH3-128 of the content, 32 lowercase hex digits.
    pub hash: String,
    /// Set when the content was already in the library: the id of the earlier shot.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duplicate_of: Option<i64>,
}

/// Payload of [`Event::BackupProgress`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
pub struct BackupProgress {
    /// Journal id of the shot.
    pub shot_id: i64,
    /// Name of the backup target.
    pub target: String,
    /// Bytes written so far.
    pub bytes_done: u64,
    /// Size of the shot.
    pub bytes_total: u64,
}

/// Payload of [`Event::BackupVerified`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
pub struct BackupVerified {
    /// Journal id of the shot.
    pub shot_id: i64,
    /// Name of the backup target.
    pub target: String,
    /// Path inside the target, `/`-separated.
    pub path: String,
    /// XXH3-128 read back from the target's disk.
    pub hash: String,
}

/// State of a backup target.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
#[serde(rename_all = "snake_case")]
pub enum TargetState {
    /// Ready to take copies.
    Online,
    /// Folder missing, or its drive not mounted; jobs wait.
    Offline,
    /// No space left; jobs wait until space is freed.
    Full,
    /// Writes fail for another reason; retried with backoff.
    Error,
}

impl TargetState {
    /// The wire name, e.g. `"online"`.
    pub fn as_str(self) -> &'static str {
        match self {
            TargetState::Online => "online",
            TargetState::Offline => "offline",
            TargetState::Full => "full",
            TargetState::Error => "error",
        }
    }
}

/// Payload of [`Event::TargetStatus`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
pub struct TargetStatus {
    /// Name of the backup target.
    pub target: String,
    /// Its folder.
    pub path: String,
    /// Current state.
    pub state: TargetState,
    /// Bytes free on its file system, when it can be read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub free_bytes: Option<u64>,
    /// Size of its file system, when it can be read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub total_bytes: Option<u64>,
    /// Why it is not online.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

/// Payload of [`Event::SystemStatus`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
pub struct SystemStatus {
    /// Share of all CPU cores busy since the previous report, 0 to 100.
    pub cpu_percent: f64,
    /// Physical memory.
    pub memory_total_bytes: u64,
    /// Memory available to programs without swapping.
    pub memory_available_bytes: u64,
    /// Each disk's mounted file system, largest first.
    pub disks: Vec<DiskSpace>,
    /// The library's disk.
    pub library: LibrarySpace,
}

/// One mounted file system, in [`SystemStatus::disks`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
pub struct DiskSpace {
    /// Where it is mounted (a drive letter on Windows).
    pub mount: String,
    /// The device's or volume's name, when it has one.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub name: String,
    /// Bytes free to this user.
    pub free_bytes: u64,
    /// Size.
    pub total_bytes: u64,
    /// A removable disk (a card reader, a USB drive).
    #[serde(default)]
    pub removable: bool,
}

/// The library's disk, in [`SystemStatus::library`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
pub struct LibrarySpace {
    /// The library folder.
    pub path: String,
    /// Bytes free to this user on its file system.
    pub free_bytes: u64,
    /// Size of its file system.
    pub total_bytes: u64,
    /// The session's average frame size so far (none before its first frame).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub average_frame_bytes: Option<u64>,
    /// How many more frames of that size fit in the free space.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub frames_room: Option<u64>,
    /// Free space against the thresholds (`[library] warn_below`, `critical_below`).
    pub state: SpaceState,
    /// The warning threshold, in bytes free.
    pub warn_below_bytes: u64,
    /// The critical threshold, in bytes free.
    pub critical_below_bytes: u64,
}

/// Free space on the library's disk against its thresholds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
#[serde(rename_all = "snake_case")]
pub enum SpaceState {
    /// More than the warning threshold free.
    Ok,
    /// Below the warning threshold.
    Low,
    /// Below the critical threshold.
    Critical,
    /// The space could not be read (the folder is missing or unreadable).
    Unknown,
}

/// State of a tethered camera.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
#[serde(rename_all = "snake_case")]
pub enum CameraState {
    /// Connected and ready to shoot.
    Connected,
    /// Unplugged or switched off.
    Disconnected,
    /// Claimed by another program.
    Busy,
    /// Connected but failing.
    Error,
}

/// Payload of [`Event::CameraStatus`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
pub struct CameraStatus {
    /// The camera's port (e.g. `usb:001,005`), which identifies it while plugged in.
    pub port: String,
    /// Model name, e.g. `Nikon D750`.
    pub model: String,
    /// Current state.
    pub state: CameraState,
    /// Battery level in percent, when the camera reports it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub battery: Option<u8>,
    /// Free space on the memory card in bytes, when the camera reports it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub card_free_bytes: Option<u64>,
    /// What is wrong and what to do, when it is not connected.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// The key settings the camera reports (ISO, shutter speed, aperture, white balance,
    /// image format), each with the values it takes; those it does not report are absent.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[cfg_attr(feature = "ts", ts(optional, as = "Option<Vec<CameraSetting>>"))]
    pub settings: Vec<CameraSetting>,
    /// Live view, once someone asked for it on this camera.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ts", ts(optional))]
    pub live: Option<LiveView>,
}

/// Live view on a camera.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
pub struct LiveView {
    /// Pictures are coming.
    pub on: bool,
    /// Why it stopped or cannot start.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ts", ts(optional))]
    pub message: Option<String>,
    /// The camera's answer to the last focus drive (`focused`, `moved near 2`, `at the
    /// near end of the lens`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ts", ts(optional))]
    pub focus: Option<String>,
}

/// One of a camera's key settings, as the camera reports it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
pub struct CameraSetting {
    /// Shotline's name for it, the same on every camera: `iso`, `shutterspeed`,
    /// `aperture`, `whitebalance` or `imageformat`.
    pub name: String,
    /// The camera's own configuration key it is read from (e.g. `f-number` on a Nikon).
    pub key: String,
    /// The camera's label, e.g. `F-Number`.
    pub label: String,
    /// The value now, in the camera's words (`f/5.6`, `1/125`, `Auto`).
    pub value: String,
    /// The values the camera takes now; empty when it takes free text.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[cfg_attr(feature = "ts", ts(optional, as = "Option<Vec<String>>"))]
    pub choices: Vec<String>,
    /// Shown but not settable from here now (set by the mode dial or the lens).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    #[cfg_attr(feature = "ts", ts(optional, as = "Option<bool>"))]
    pub readonly: bool,
}

/// Payload of [`Event::UploadProgress`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
pub struct UploadProgress {
    /// Journal id of the shot.
    pub shot_id: i64,
    /// Object key in the bucket.
    pub key: String,
    /// Bytes sent and acknowledged so far.
    pub bytes_done: u64,
    /// Size of the shot.
    pub bytes_total: u64,
}

/// Payload of [`Event::UploadComplete`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
pub struct UploadComplete {
    /// Journal id of the shot.
    pub shot_id: i64,
    /// Object key in the bucket.
    pub key: String,
    /// Size in bytes.
    pub size: u64,
    /// Public URL, when a public base URL is configured.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
}

/// Payload of [`Event::QueueStatus`].
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
pub struct QueueStatus {
    /// Shots recorded in the journal (stored and duplicates).
    pub shots: u64,
    /// Shots found but not yet in the library.
    pub ingesting: u64,
    /// Backup copies still to make, over all targets.
    pub backups_pending: u64,
    /// Backup copies verified, over all targets.
    pub backups_verified: u64,
    /// Backup copies given up on after repeated failures.
    pub backups_failed: u64,
}

/// Severity of a [`Notification`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
#[serde(rename_all = "snake_case")]
pub enum Level {
    /// For the record.
    Info,
    /// Needs attention soon.
    Warning,
    /// Frames are at risk until someone acts.
    Critical,
}

/// Payload of [`Event::Notification`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
pub struct Notification {
    /// How urgent it is.
    pub level: Level,
    /// A stable category a UI can mute, e.g. `"target_full"`.
    pub category: String,
    /// One short line.
    pub title: String,
    /// What happened and what to do.
    pub message: String,
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn wire_shape_is_type_and_payload() {
        let event = Event::Notification(Notification {
            level: Level::Critical,
            category: "target_full".into(),
            title: "Backup full".into(),
            message: "Free space on backup".into(),
        });
        let json = serde_json::to_value(&event).expect("serialise");
        assert_eq!(json["type"], "notification");
        assert_eq!(json["payload"]["level"], "critical");
        assert_eq!(event.kind(), "notification");
    }

    #[test]
    fn kind_matches_serialised_type() {
        let events = [
            Event::QueueStatus(QueueStatus::default()),
            Event::TargetStatus(TargetStatus {
                target: "t".into(),
                path: "/t".into(),
                state: TargetState::Full,
                free_bytes: Some(0),
                total_bytes: None,
                message: None,
            }),
            Event::CameraStatus(CameraStatus {
                port: "usb:001,005".into(),
                model: "Nikon D750".into(),
                state: CameraState::Connected,
                battery: Some(80),
                card_free_bytes: None,
                message: None,
                settings: vec![CameraSetting {
                    name: "aperture".into(),
                    key: "f-number".into(),
                    label: "F-Number".into(),
                    value: "f/2.8".into(),
                    choices: vec!["f/2.8".into(), "f/4".into()],
                    readonly: false,
                }],
                live: Some(LiveView {
                    on: true,
                    message: None,
                    focus: Some("focused".into()),
                }),
            }),
            Event::UploadProgress(UploadProgress {
                shot_id: 1,
                key: "k".into(),
                bytes_done: 1,
                bytes_total: 2,
            }),
            Event::UploadComplete(UploadComplete {
                shot_id: 1,
                key: "k".into(),
                size: 2,
                url: None,
            }),
        ];
        for event in events {
            let json = serde_json::to_value(&event).expect("serialise");
            assert_eq!(json["type"], event.kind());
        }
    }

    proptest! {
        #[test]
        fn shot_stored_round_trips(id in any::<i64>(), path in ".{0,40}", size in any::<u64>(),
                                   hash in "[0-9a-f]{32}", dup in proptest::option::of(any::<i64>())) {
            let event = Event::ShotStored(ShotStored {
                shot_id: id, session: "s".into(), path, size, hash, duplicate_of: dup,
            });
            let text = serde_json::to_string(&event).expect("serialise");
            let back: Event = serde_json::from_str(&text).expect("parse");
            prop_assert_eq!(back, event);
        }
    }
}
