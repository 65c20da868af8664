//! `cargo xtask bench relay`: one publisher, N WebSocket subscribers (1k and 5k), 1 KB
//! events, against the relay (release build) over its own WebSocket protocol and over its
//! Socket.IO endpoint, and, on the same load from the same client, a Socket.IO 4.8 server
//! (Node) doing the same broadcast.
//!
//! Per server and N: idle RSS per connection (server RSS after N subscribers settle, less
//! its RSS before), publish-to-receive latency p50/p99 at a steady 5 and 20 events/s, and
//! delivered messages per second for a burst of events sent back to back (until every
//! subscriber has every event), each timed to the event's arrival on the subscriber's
//! socket (the kernel's stamp: the server's share) and to the client's read of it.
//! Lost or cut-off subscribers are counted and printed.
//! The client ([`bench_relay_wire`](crate::bench_relay_wire)) speaks the relay's protocol,
//! and Engine.IO v4 / Socket.IO v5 for the endpoint and the peer; the server processes
//! and tokens are [`bench_relay_servers`](crate::bench_relay_servers).
//!
//! On Linux with two or more cores, each server runs on core 0 alone and the client (this
//! process, every thread) on the others (`taskset`), so the latency is the server's and
//! not the client's fight with it for a core: every server gets one core, as Node's one
//! thread has anyway.

use std::sync::{Arc, Mutex as StdMutex};
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use tokio::sync::{Mutex, Semaphore};
use tokio_tungstenite::tungstenite::Message;

use crate::bench_relay_servers::{Server, Tokens, mint, pin_client};
use crate::bench_relay_wire::{Clock, Record, connect, frame, subscriber};
use crate::sys;

/// Steady phases: (events, per second). A studio sends a few events a second; 20/s with
/// 5k subscribers is 100k deliveries a second.
const STEADY: [(u64, u64); 2] = [(30, 5), (60, 20)];

const BURST_EVENTS: u64 = 200;

const PAD: usize = 1000;

/// Which server is measured.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Relay,
    /// The relay's `/socket.io/` endpoint, with the Socket.IO client the peer gets.
    RelaySocketIo,
    SocketIo,
    /// The least a server can do (`bench_relay_floor`): the relay's protocol, one write
    /// per subscriber, nothing else.
    Floor,
}

impl Kind {
    /// Every server, in the order they are measured.
    pub const ALL: [Kind; 4] = [
        Kind::Floor,
        Kind::Relay,
        Kind::RelaySocketIo,
        Kind::SocketIo,
    ];

    /// A server by its short name on the command line.
    pub fn parse(name: &str) -> anyhow::Result<Self> {
        Ok(match name {
            "floor" => Kind::Floor,
            "relay" => Kind::Relay,
            "relay-socketio" => Kind::RelaySocketIo,
            "socketio" => Kind::SocketIo,
            other => anyhow::bail!(
                "bench relay: no server {other:?}; choose from floor, relay, relay-socketio, socketio"
            ),
        })
    }

    pub fn name(self) -> &'static str {
        match self {
            Kind::Relay => "shotline-relay",
            Kind::RelaySocketIo => "relay socket.io",
            Kind::SocketIo => "socket.io 4.8",
            Kind::Floor => "floor (writes)",
        }
    }

    /// Speaks Engine.IO / Socket.IO on the wire.
    pub fn socket_io(self) -> bool {
        matches!(self, Kind::RelaySocketIo | Kind::SocketIo)
    }
}

/// What one run measured.
#[derive(Debug, Default, Clone)]
struct Figures {
    rss_per_conn: f64,
    /// (p50, p99) in ms per steady phase, from publish to the event's bytes queued on the
    /// subscriber's socket: the server's share, whatever the client's speed.
    arrived: [(f64, f64); 2],
    /// The same to the client's read of it (the client's own queueing added).
    read: [(f64, f64); 2],
    /// Delivered messages a second over the burst: (by arrival, by read).
    msgs_per_sec: (f64, f64),
    /// Server CPU time (user + system) per delivered message, in µs, over the whole run
    /// after the subscribers settled (both steady phases and the burst).
    server_us_per_msg: f64,
    /// The same for the bench client (this process): how much of the run was its work.
    client_us_per_msg: f64,
    missing: u64,
}

pub fn bench(sizes: &[usize], kinds: &[Kind], rounds: usize) -> anyhow::Result<()> {
    let root = sys::workspace_root();
    let relay_bin = crate::bench::release_relay()?;
    let peers = root.join("xtask").join("peers");
    crate::ui::npm_install(&peers)?;
    let tokens = Tokens {
        subscriber: mint(&relay_bin, "subscriber")?,
        publisher: mint(&relay_bin, "publisher")?,
    };
    // Before the runtime: its threads take this thread's cores.
    let pinned = pin_client();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let mut table = Vec::new();
    for &n in sizes {
        // Rounds interleaved, so a slow spell of the machine hits every server alike.
        for round in 1..=rounds {
            for &kind in kinds {
                eprintln!(
                    "bench relay: {} with {n} subscribers, round {round} of {rounds}",
                    kind.name()
                );
                let mut server = Server::start(kind, &relay_bin, &peers, pinned)?;
                let figures =
                    runtime.block_on(measure(kind, server.port, server.pid(), n, &tokens));
                server.stop();
                table.push((n, kind, figures?));
            }
        }
    }
    println!();
    println!("relay fan-out: 1 publisher, 1 KB events, WebSocket subscribers (loopback)");
    if pinned {
        println!("  each server on core 0 alone, the client on the other cores");
    } else {
        println!("  server and client share the cores (not pinned)");
    }
    println!(
        "  latency p50/p99 ms at {}/s and {}/s, publish to arrival on the subscriber's socket \
         (kernel stamp: the server's share) and to the client's read",
        STEADY[0].1, STEADY[1].1
    );
    println!("  msg/s over a burst of {BURST_EVENTS} events, by arrival and by read");
    println!("  CPU µs/msg: server's and client's CPU time (user + system) per delivered message");
    println!(
        "  {:>6}  {:<15} {:>10} {:>13} {:>13} {:>13} {:>13} {:>17} {:>13} {:>8}",
        "subs",
        "server",
        "RSS/conn",
        "arrived slow",
        "arrived fast",
        "read slow",
        "read fast",
        "msg/s arr/read",
        "CPU s/c",
        "missing"
    );
    for (n, kind, f) in &table {
        let pair = |(p50, p99): (f64, f64)| format!("{p50:.1}/{p99:.1}");
        println!(
            "  {n:>6}  {:<15} {:>7.1} KB {:>13} {:>13} {:>13} {:>13} {:>8.0}/{:<8.0} {:>6.2}/{:<6.2} {:>8}",
            kind.name(),
            f.rss_per_conn / 1024.0,
            pair(f.arrived[0]),
            pair(f.arrived[1]),
            pair(f.read[0]),
            pair(f.read[1]),
            f.msgs_per_sec.0,
            f.msgs_per_sec.1,
            f.server_us_per_msg,
            f.client_us_per_msg,
            f.missing
        );
    }
    for &n in sizes {
        let find = |k| {
            let runs: Vec<&Figures> = table
                .iter()
                .filter(|(m, kind, _)| *m == n && *kind == k)
                .map(|t| &t.2)
                .collect();
            (!runs.is_empty()).then(|| median(&runs))
        };
        if rounds > 1 {
            for &kind in kinds {
                if let Some(f) = find(kind) {
                    println!(
                        "  {n:>6}  {:<15} median of {rounds}: p50/p99 to arrival {:.1}/{:.1} at {}/s, {:.1}/{:.1} at {}/s; {:.0} msg/s by arrival; {:.2} µs CPU/msg",
                        kind.name(),
                        f.arrived[0].0,
                        f.arrived[0].1,
                        STEADY[0].1,
                        f.arrived[1].0,
                        f.arrived[1].1,
                        STEADY[1].1,
                        f.msgs_per_sec.0,
                        f.server_us_per_msg
                    );
                }
            }
        }
        let ratio = |label: &str, ours: &Figures, peer: &Figures| {
            let of = |a: f64, b: f64| a / b.max(1e-9);
            println!(
                "  {n:>6}  ratio {label}: msg/s {:.2}x by arrival, {:.2}x by read; p99 to arrival {:.2}x and {:.2}x, to read {:.2}x and {:.2}x; RSS/conn {:.2}x, server CPU/msg {:.2}x (lower is better)",
                of(ours.msgs_per_sec.0, peer.msgs_per_sec.0),
                of(ours.msgs_per_sec.1, peer.msgs_per_sec.1),
                of(ours.arrived[0].1, peer.arrived[0].1),
                of(ours.arrived[1].1, peer.arrived[1].1),
                of(ours.read[0].1, peer.read[0].1),
                of(ours.read[1].1, peer.read[1].1),
                of(ours.rss_per_conn, peer.rss_per_conn),
                of(ours.server_us_per_msg, peer.server_us_per_msg)
            );
        };
        if let (Some(ours), Some(peer)) = (find(Kind::Relay), find(Kind::SocketIo)) {
            ratio("relay/socket.io", &ours, &peer);
        }
        if let (Some(ours), Some(peer)) = (find(Kind::RelaySocketIo), find(Kind::SocketIo)) {
            ratio("relay socket.io/socket.io", &ours, &peer);
        }
        if let (Some(ours), Some(own)) = (find(Kind::RelaySocketIo), find(Kind::Relay)) {
            ratio("relay socket.io/relay ws", &ours, &own);
        }
        if let (Some(ours), Some(floor)) = (find(Kind::Relay), find(Kind::Floor)) {
            ratio("relay/floor", &ours, &floor);
        }
    }
    Ok(())
}

/// Each figure's median over several rounds (of an even count, the upper one); the
/// missing messages are the sum over the rounds.
fn median(runs: &[&Figures]) -> Figures {
    let mid = |get: &dyn Fn(&Figures) -> f64| {
        let mut v: Vec<f64> = runs.iter().map(|f| get(f)).collect();
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    Figures {
        rss_per_conn: mid(&|f| f.rss_per_conn),
        arrived: [0, 1].map(|i| (mid(&|f| f.arrived[i].0), mid(&|f| f.arrived[i].1))),
        read: [0, 1].map(|i| (mid(&|f| f.read[i].0), mid(&|f| f.read[i].1))),
        msgs_per_sec: (mid(&|f| f.msgs_per_sec.0), mid(&|f| f.msgs_per_sec.1)),
        server_us_per_msg: mid(&|f| f.server_us_per_msg),
        client_us_per_msg: mid(&|f| f.client_us_per_msg),
        missing: runs.iter().map(|f| f.missing).sum(),
    }
}

async fn measure(
    kind: Kind,
    port: u16,
    pid: u32,
    n: usize,
    tokens: &Tokens,
) -> anyhow::Result<Figures> {
    tokio::time::sleep(Duration::from_millis(500)).await;
    let before = crate::bench::rss_bytes(pid);
    let clock = Clock::start();
    let steady_events: u64 = STEADY.iter().map(|s| s.0).sum();
    let total = steady_events + BURST_EVENTS;
    let gate = Arc::new(Semaphore::new(100));
    let records: Arc<Mutex<Vec<Arc<StdMutex<Record>>>>> =
        Arc::new(Mutex::new(Vec::with_capacity(n)));
    let mut tasks = Vec::with_capacity(n);
    let (ready_tx, mut ready_rx) = tokio::sync::mpsc::channel::<()>(n.max(1));
    for _ in 0..n {
        let (gate, records, ready) = (gate.clone(), records.clone(), ready_tx.clone());
        let token = tokens.subscriber.clone();
        tasks.push(tokio::spawn(async move {
            let ws = {
                let _permit = gate.acquire().await;
                connect(kind, port, &token, true).await
            };
            let _ = ready.send(()).await;
            if let Ok(ws) = ws {
                let record = Arc::new(StdMutex::new(Vec::with_capacity(total as usize)));
                records.lock().await.push(record.clone());
                subscriber(kind, ws, clock, total, &record).await;
            }
        }));
    }
    drop(ready_tx);
    for _ in 0..n {
        ready_rx.recv().await;
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    let after = crate::bench::rss_bytes(pid);
    let rss_per_conn = after.saturating_sub(before) as f64 / n as f64;

    let cpu_start = (
        crate::bench::cpu_seconds(pid),
        crate::bench::cpu_seconds(std::process::id()),
    );
    let publisher = connect(kind, port, &tokens.publisher, false).await?;
    // Drain the publisher's acks (and Engine.IO pings) so they never back up.
    let pad = "x".repeat(PAD);
    let (mut sink, mut stream) = publisher.split();
    let drain = tokio::spawn(async move { while let Some(Ok(_)) = stream.next().await {} });
    let mut seq = 0;
    for (events, rate) in STEADY {
        let mut tick = tokio::time::interval(Duration::from_millis(1000 / rate));
        for _ in 0..events {
            tick.tick().await;
            sink.send(Message::Text(frame(kind, seq, clock, &pad).into()))
                .await?;
            seq += 1;
        }
        tokio::time::sleep(Duration::from_millis(1000)).await;
    }
    let burst_start = clock.now();
    for seq in steady_events..total {
        sink.send(Message::Text(frame(kind, seq, clock, &pad).into()))
            .await?;
    }
    let deadline = tokio::time::Instant::now() + Duration::from_secs(120);
    for task in &mut tasks {
        if tokio::time::timeout_at(deadline, task).await.is_err() {
            break;
        }
    }
    let cpu = (
        crate::bench::cpu_seconds(pid) - cpu_start.0,
        crate::bench::cpu_seconds(std::process::id()) - cpu_start.1,
    );
    // Who has not got every event by now will not: what each got counts.
    for task in &tasks {
        task.abort();
    }
    drain.abort();
    let _ = sink.close().await;
    let records: Vec<Record> = records
        .lock()
        .await
        .iter()
        .map(|r| std::mem::take(&mut *r.lock().unwrap_or_else(|p| p.into_inner())))
        .collect();
    // (to arrival, to read) latencies in µs per steady phase.
    let mut steady: [(Vec<u64>, Vec<u64>); 2] = Default::default();
    let (mut arrived_last, mut read_last) = (burst_start, burst_start);
    let mut delivered_burst = 0u64;
    let mut missing = 0u64;
    let delivered: u64 = records.iter().map(|r| r.len() as u64).sum();
    for record in records.iter() {
        missing += total.saturating_sub(record.len() as u64);
        for got in record {
            let phase = if got.seq < STEADY[0].0 {
                Some(0)
            } else if got.seq < steady_events {
                Some(1)
            } else {
                None
            };
            if let Some(phase) = phase {
                steady[phase].0.push(got.arrived.saturating_sub(got.sent));
                steady[phase].1.push(got.read.saturating_sub(got.sent));
            } else {
                delivered_burst += 1;
                arrived_last = arrived_last.max(got.arrived);
                read_last = read_last.max(got.read);
            }
        }
    }
    missing += (n - records.len()) as u64 * total;
    let short = records.iter().filter(|r| (r.len() as u64) < total).count() + n - records.len();
    if short > 0 {
        eprintln!("bench relay: {short} of {n} subscribers did not get every event");
    }
    let pct = |samples: &mut Vec<u64>| {
        samples.sort_unstable();
        let at = |p: f64| {
            samples
                .get(((samples.len() as f64 * p) as usize).min(samples.len().saturating_sub(1)))
                .map_or(f64::NAN, |us| *us as f64 / 1000.0)
        };
        (at(0.50), at(0.99))
    };
    let [(slow_arrived, slow_read), (fast_arrived, fast_read)] = &mut steady;
    let rate = |last: u64| delivered_burst as f64 / ((last - burst_start) as f64 / 1e6).max(1e-6);
    Ok(Figures {
        rss_per_conn,
        arrived: [pct(slow_arrived), pct(fast_arrived)],
        read: [pct(slow_read), pct(fast_read)],
        msgs_per_sec: (rate(arrived_last), rate(read_last)),
        server_us_per_msg: cpu.0 * 1e6 / delivered.max(1) as f64,
        client_us_per_msg: cpu.1 * 1e6 / delivered.max(1) as f64,
        missing,
    })
}
