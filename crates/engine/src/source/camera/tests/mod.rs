//! The camera thread's state machine against a camera double (the unplug, busy and
//! disk-full paths that libgphoto2's virtual camera cannot play): a real journal, bus and
//! spool, a scripted camera.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use shotline_protocol::{CameraState, Event, Level};
use tokio::sync::{broadcast, mpsc};

use super::driver::DeviceEvent;
use crate::Bus;
use crate::config;
use crate::ingest::Candidate;
use crate::journal::Journal;

mod double;
use double::{FakeDriver, Shared};

struct Rig {
    world: Shared,
    events: broadcast::Receiver<Event>,
    candidates: mpsc::UnboundedReceiver<Candidate>,
    control: super::CameraControl,
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
    _dir: tempfile::TempDir,
}

impl Rig {
    fn new(card: &[&str]) -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        let journal = Arc::new(Journal::open(&dir.path().join("j.sqlite")).expect("journal"));
        let world = Shared::default();
        for name in card {
            world.shoot(name, false);
        }
        world.lock().present = true;
        let bus = Bus::new();
        let events = bus.subscribe();
        let (tx, candidates) = mpsc::unbounded_channel();
        let stop = Arc::new(AtomicBool::new(false));
        let ctx = super::Context {
            journal,
            bus,
            session: "s".into(),
            library: dir.path().join("library"),
            config: config::Camera::default(),
            candidates: tx,
            live: crate::live::LiveFeed::new(),
        };
        let (control, thread) =
            super::spawn(Box::new(FakeDriver(world.clone())), ctx, stop.clone()).expect("spawn");
        Self {
            world,
            events,
            candidates,
            control,
            stop,
            thread: Some(thread),
            _dir: dir,
        }
    }

    /// The first event that `want` picks, within 5 s.
    fn event<T>(&mut self, what: &str, want: impl Fn(&Event) -> Option<T>) -> T {
        let start = Instant::now();
        while start.elapsed() < Duration::from_secs(5) {
            match self.events.try_recv() {
                Ok(e) => {
                    if let Some(t) = want(&e) {
                        return t;
                    }
                }
                Err(_) => std::thread::sleep(Duration::from_millis(10)),
            }
        }
        panic!("no {what} within 5 s");
    }

    fn state(&mut self, state: CameraState) -> Option<String> {
        self.event(&format!("{state:?}"), |e| match e {
            Event::CameraStatus(s) if s.state == state => Some(s.message.clone()),
            _ => None,
        })
    }

    fn notification(&mut self, category: &str) -> Level {
        self.event(category, |e| match e {
            Event::Notification(n) if n.category == category => Some(n.level),
            _ => None,
        })
    }

    fn candidate(&mut self) -> Candidate {
        let start = Instant::now();
        loop {
            if let Ok(c) = self.candidates.try_recv() {
                return c;
            }
            assert!(
                start.elapsed() < Duration::from_secs(5),
                "no frame within 5 s"
            );
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    fn no_candidate(&mut self) {
        std::thread::sleep(Duration::from_millis(300));
        if let Ok(c) = self.candidates.try_recv() {
            panic!("unexpected frame {c:?}");
        }
    }
}

impl Drop for Rig {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        self.control.wake();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

#[test]
fn unplug_reconnect_busy_and_a_full_disk_lose_nothing() {
    let mut rig = Rig::new(&["OLD_0001.NEF"]);
    rig.state(CameraState::Connected);
    rig.no_candidate(); // the card's earlier frames are left alone

    rig.world.shoot("DSC_0002.NEF", true);
    let c = rig.candidate();
    assert_eq!(c.original, "DSC_0002.NEF");
    assert_eq!(std::fs::read(&c.path).expect("spool file"), b"DSC_");

    // Kicked out: said at once, and loudly.
    let unplugged = Instant::now();
    rig.world.lock().present = false;
    rig.state(CameraState::Disconnected);
    assert!(unplugged.elapsed() < Duration::from_millis(1500));
    assert_eq!(rig.notification("camera_lost"), Level::Critical);

    // Shot while away, taken when it is back; nothing taken twice.
    rig.world.shoot("DSC_0003.NEF", false);
    rig.world.lock().present = true;
    rig.state(CameraState::Connected);
    assert_eq!(rig.candidate().original, "DSC_0003.NEF");
    rig.no_candidate();

    // Held by another program: told which way to free it, connected once free.
    rig.world.lock().present = false;
    rig.state(CameraState::Disconnected);
    {
        let mut w = rig.world.lock();
        w.busy = true;
        w.present = true;
    }
    let message = rig.state(CameraState::Busy).unwrap_or_default();
    assert!(message.contains("held by"), "{message}");
    rig.world.lock().busy = false;
    rig.state(CameraState::Connected);

    // The library's disk is full: critical, and the frame comes once there is room.
    rig.world.lock().disk_full_downloads = 1;
    rig.world.shoot("DSC_0004.NEF", true);
    assert_eq!(rig.notification("library_full"), Level::Critical);
    assert_eq!(rig.candidate().original, "DSC_0004.NEF");
}

#[test]
fn a_capture_resolves_to_the_frames_it_produced() {
    let mut rig = Rig::new(&[]);
    rig.state(CameraState::Connected);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .expect("runtime");
    let answer = runtime.block_on(rig.control.capture(None));
    assert_eq!(answer, Ok("DSC_0001.NEF".to_string()));
    assert_eq!(rig.candidate().original, "DSC_0001.NEF");
    let wrong = runtime.block_on(rig.control.capture(Some("usb:009,009".into())));
    assert_eq!(
        wrong,
        Err(super::CameraError::NotReady(
            "no camera on usb:009,009".to_string()
        ))
    );
    let set = runtime.block_on(rig.control.set(None, "iso".into(), "400".into()));
    assert!(set.is_err_and(|e| e.to_string().contains("cannot set iso")));
}

#[test]
fn a_request_from_another_process_rings_the_camera_threads_bell() {
    let dir = tempfile::tempdir().expect("tempdir");
    let journal = Journal::open(&dir.path().join("j.sqlite")).expect("journal");
    let (tx, rx) = std::sync::mpsc::channel();
    let _watcher = super::watch_bell(&journal.camera_bell(), tx).expect("the bell is watched");
    assert!(rx.try_recv().is_err(), "no ring before a request");
    // Another process's journal handle, as `shotline capture` has.
    let other = Journal::open(&dir.path().join("j.sqlite")).expect("journal");
    other
        .request_camera(None, &crate::journal::CameraAction::Capture)
        .expect("request");
    match rx.recv_timeout(Duration::from_secs(10)) {
        Ok(super::Command::Rung) => {}
        other => panic!("no ring: {other:?}"),
    }
}

/// The waits of the next `time`, once the ones before are forgotten.
fn waits_over(world: &Shared, time: Duration) -> Vec<Duration> {
    world.lock().waits.clear();
    std::thread::sleep(time);
    std::mem::take(&mut world.lock().waits)
}

#[test]
fn a_camera_whose_waits_last_twice_what_is_asked_is_asked_for_half_the_round() {
    let mut rig = Rig::new(&[]);
    rig.world.lock().wait_multiplier = 2;
    rig.state(CameraState::Connected);
    let round = super::service::ROUND;
    let waits = waits_over(&rig.world, Duration::from_millis(900));
    // The first timed-out wait may still ask for the whole round; it shows the camera
    // doubles it, and every later one asks for half.
    assert!(waits.len() >= 4, "{waits:?}");
    assert!(waits[1..].iter().all(|&t| t == round / 2), "{waits:?}");
}

#[test]
fn a_camera_whose_waits_were_slow_for_a_while_is_asked_for_the_whole_round_again() {
    let mut rig = Rig::new(&[]);
    // Slow enough that the round's divided wait (50 / 3 ms) is under the 20 ms from which
    // quick rounds would set the scale: the slow spell must still be measured away.
    rig.world.lock().wait_multiplier = 3;
    rig.state(CameraState::Connected);
    let round = super::service::ROUND;
    let slow = waits_over(&rig.world, Duration::from_millis(600));
    assert!(slow.iter().any(|&t| t == round / 3), "{slow:?}");
    rig.world.lock().wait_multiplier = 1;
    let _ = waits_over(&rig.world, Duration::from_millis(300));
    let after = waits_over(&rig.world, Duration::from_millis(400));
    assert!(
        after.len() >= 3 && after.iter().all(|&t| t == round),
        "{after:?}"
    );
}

/// Fire a capture whose frame the test shoots later; returns once the shutter fired.
fn slow_capture(rig: &Rig) -> std::thread::JoinHandle<super::Answer> {
    rig.world.lock().slow_shutter = true;
    let before = rig.world.lock().triggers;
    let control = rig.control.clone();
    let capture = std::thread::spawn(move || {
        tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .expect("runtime")
            .block_on(control.capture(None))
    });
    let start = Instant::now();
    while rig.world.lock().triggers == before {
        assert!(start.elapsed() < Duration::from_secs(5), "no trigger");
        std::thread::sleep(Duration::from_millis(5));
    }
    capture
}

/// Shoot the frame `capture` (from [`slow_capture`]) waits for, end it with a "capture
/// complete", and check the capture is answered with that frame.
fn finish_capture(rig: &Rig, capture: std::thread::JoinHandle<super::Answer>, name: &str) {
    rig.world.shoot(name, true);
    rig.world
        .lock()
        .events
        .push_back(DeviceEvent::CaptureComplete);
    assert_eq!(
        capture.join().expect("the capture thread"),
        Ok(name.to_string())
    );
}

#[test]
fn quick_waits_with_a_fixed_cost_do_not_shorten_the_capture_wait() {
    let mut rig = Rig::new(&[]);
    // Every wait costs 15 ms more than asked: 4x a quick round, a twentieth of a capture's.
    rig.world.lock().wait_extra = Duration::from_millis(15);
    rig.state(CameraState::Connected);
    let first = slow_capture(&rig);
    finish_capture(&rig, first, "DSC_0001.NEF");
    // Someone is shooting: quick rounds, each timing out 15 ms late.
    let quick = waits_over(&rig.world, Duration::from_millis(300));
    assert!(
        quick.len() > 3 && quick.iter().all(|&t| t <= super::service::QUICK_ROUND),
        "{quick:?}"
    );
    // The next capture still waits for its frames as long as a capture should, from its
    // first wait on.
    let second = slow_capture(&rig);
    std::thread::sleep(Duration::from_millis(700));
    let pending: Vec<Duration> = (rig.world.lock().waits_after.iter())
        .filter(|(triggers, _)| *triggers == 2)
        .map(|(_, t)| *t)
        .collect();
    assert!(
        pending.len() >= 2 && pending.iter().all(|&t| t == super::service::CAPTURE_ROUND),
        "{pending:?}"
    );
    finish_capture(&rig, second, "DSC_0002.NEF");
}

#[test]
fn rounds_are_quick_while_shooting_and_long_while_a_capture_waits_for_its_frames() {
    let mut rig = Rig::new(&[]);
    rig.state(CameraState::Connected);
    let long = super::service::ROUND;
    let quick = super::service::QUICK_ROUND;
    let capturing = super::service::CAPTURE_ROUND;
    // Nobody has asked for anything: the cheap, long rounds.
    let idle = waits_over(&rig.world, Duration::from_millis(400));
    assert!(
        !idle.is_empty() && idle.iter().all(|&t| t == long),
        "{idle:?}"
    );
    // A capture whose frames are slow to come: the capture's round (see CAPTURE_ROUND).
    let capture = slow_capture(&rig);
    let pending = waits_over(&rig.world, Duration::from_millis(700));
    assert!(
        !pending.is_empty() && pending.iter().all(|&t| t == capturing),
        "{pending:?}"
    );
    finish_capture(&rig, capture, "DSC_0001.NEF");
    // Answered, and someone is shooting: the next request is taken within a quick round.
    let shooting = waits_over(&rig.world, Duration::from_millis(400));
    assert!(
        !shooting.is_empty() && shooting.iter().all(|&t| t == quick),
        "{shooting:?}"
    );
}
