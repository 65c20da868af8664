//! Shotline's relay: fans studio events out by channel to live dashboards.
//!
//! - [`hub`]: this node's fan-out of channels to subscribers, with resume (`since`,
//!   `epoch`) and idempotent publish, over a [`backend`]: the channels' offsets, history,
//!   epoch and snapshot, in memory or shared through Redis.
//! - [`queue`]: each connection's bounded outgoing queue; a slow one is cut off.
//! - [`outbox`]: a plain WebSocket's queue, written straight to its socket by the fan-out.
//! - [`rate`]: each connection's publish budget.
//! - [`auth`]: tokens (JWT: HS256, or EdDSA/RS256 from a studio backend), roles and
//!   channel patterns, and token exchange.
//! - [`access`]: every token checked (revocation too), every connection registered, the
//!   admin's disconnects and revocations carried out on every node.
//! - [`ws`]: the WebSocket protocol (`subscribe`, `unsubscribe`, `publish`, `ping`).
//! - [`http`]: health, stats, metrics, HTTP publish, polling and Server-Sent Events.
//! - [`admin`]: `POST /v1/tokens` and the admin API; [`cors`]: the origins allow-list.
//! - [`socketio`]: the Socket.IO endpoint, bridged onto the hub.
//! - [`gallery`]: the live gallery's shares, previews and page (`/g/{share}`).
//! - [`live`]: the camera's live view, a volatile stream to dashboards and guests.
//! - [`dashboard`]: the live dashboard page at `/` and every page's assets, built from
//!   `ui/` and embedded.
//! - [`tls`]: optional TLS with rustls.
//! - [`settings`]: the settings file and its commented defaults.
//!
//! [`run`] serves a bound listener until a shutdown future resolves, then closes every
//! WebSocket with "going away" and waits for the connections to end.

pub mod access;
pub mod admin;
pub mod auth;
pub mod backend;
pub mod contention;
pub mod cors;
pub mod dashboard;
pub mod gallery;
pub mod http;
pub mod hub;
pub mod live;
pub mod outbox;
pub mod queue;
pub mod rate;
pub mod settings;
pub mod socketio;
pub mod tls;
pub mod ws;

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post, put};
use tokio::net::TcpListener;
use tokio::sync::watch;

use crate::hub::{Hub, HubConfig};
pub use settings::Config;

/// Shared by every handler.
#[derive(Debug)]
pub struct State {
    /// The channels.
    pub hub: Arc<Hub>,
    /// Tokens and connections.
    pub access: Arc<access::Access>,
    /// The gallery's previews.
    pub blobs: gallery::blobs::Blobs,
    /// Originals the engine sent for guests.
    pub originals: gallery::originals::store::Originals,
    /// The gallery's answers.
    pub answers: gallery::answers::Answers,
    /// The gallery's PIN checks.
    pub pins: gallery::pin::Pins,
    /// Live view streams.
    pub live: Arc<live::Live>,
    /// Settings.
    pub config: Config,
    /// Open WebSocket connections.
    pub connections: AtomicU64,
    /// Long polls waiting for an event.
    pub polls_waiting: AtomicU64,
    next_conn: AtomicU64,
    started: Instant,
    shutdown: watch::Receiver<bool>,
}

impl State {
    /// A new connection id.
    pub fn next_conn(&self) -> u64 {
        self.next_conn.fetch_add(1, Ordering::Relaxed)
    }

    /// Resolves once shutdown has begun.
    pub async fn stopping(&self) {
        let mut rx = self.shutdown.clone();
        while !*rx.borrow_and_update() {
            if rx.changed().await.is_err() {
                return;
            }
        }
    }

    /// Seconds since start.
    pub fn uptime(&self) -> u64 {
        self.started.elapsed().as_secs()
    }
}

/// How long a stopping relay waits for its connections to close.
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);

/// The relay's routes over `state`.
pub fn router(state: Arc<State>) -> Router {
    let routes = Router::new()
        .route("/", get(dashboard::index))
        .route("/assets/{page}/{name}", get(dashboard::asset))
        .route("/g/{share}", get(gallery::gallery))
        .route(
            "/v1/shares/{share}",
            put(gallery::put_share).delete(gallery::close_share),
        )
        .route("/v1/shares", get(gallery::shares))
        .route("/v1/shares/{share}/answers", get(gallery::logs::answers))
        .route("/v1/shares/{share}/activity", get(gallery::logs::activity))
        .route(
            "/v1/shares/{share}/download/{frame}",
            get(gallery::downloads::one),
        )
        .route(
            "/v1/shares/{share}/original/{frame}",
            get(gallery::originals::get)
                .put(gallery::originals::put)
                .layer(DefaultBodyLimit::disable()),
        )
        .route("/v1/originals/wanted", get(gallery::originals::wanted))
        .route("/v1/shares/{share}/live", get(live::share_view))
        .route("/v1/live/{channel}", get(live::view))
        .route("/v1/live/{channel}/publish", get(live::publish))
        .route(
            "/v1/shares/{share}/download.zip",
            get(gallery::downloads::zip),
        )
        .route(
            "/v1/blobs/{channel}/{name}",
            put(gallery::put_blob)
                .get(gallery::get_blob)
                .layer(DefaultBodyLimit::max(gallery::blobs::MAX_BLOB)),
        )
        .route("/health", get(http::health))
        .route("/stats", get(http::stats))
        .route("/metrics", get(http::metrics))
        .route("/v1/ws", get(ws::upgrade))
        .route(
            "/v1/channels/{channel}/events",
            post(http::publish).get(http::poll),
        )
        .route("/v1/channels/{channel}/sse", get(http::sse))
        .route("/v1/tokens", post(admin::exchange))
        .route("/v1/admin/connections", get(admin::connections))
        .route("/v1/admin/disconnect", post(admin::disconnect))
        .route("/v1/admin/revoke", post(admin::revoke))
        .route("/v1/admin/broadcast", post(admin::broadcast));
    socketio::mount(routes, state.clone())
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            socketio::handshakes,
        ))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            cors::layer,
        ))
        .with_state(state)
}

/// Serve on `listener` until `shutdown` resolves; then close every WebSocket with
/// "going away" (1001) and wait for connections to finish. With `config.tls`, every
/// connection is TLS; a certificate or key that cannot be used is an error. With `config.redis`, the
/// channels live in Redis and the relay starts even while Redis is down (its `/health`
/// says 503 until Redis answers); a malformed URL is an error.
pub async fn run(
    listener: TcpListener,
    config: Config,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let tls = match &config.tls {
        Some(files) => Some(tls::server_config(files).map_err(std::io::Error::other)?),
        None => None,
    };
    let (stop, stopped) = watch::channel(false);
    let limits = HubConfig {
        history: config.history,
        history_age: config.history_age,
    };
    let hub = match &config.redis {
        None => Hub::memory(limits),
        Some(url) => Hub::new(
            limits,
            Box::new(
                backend::Redis::open(url, config.history, config.history_age)
                    .map_err(std::io::Error::other)?,
            ),
        ),
    };
    let access = Arc::new(
        access::Access::new(&access::AccessConfig {
            secret: config.secret.clone(),
            public_key: config.jwt_public_key.clone(),
            data: config.data.clone(),
            redis: config.redis.clone(),
            guest_rate: config.guest_rate,
            gate: access::gate::GateLimits {
                max: config.max_connections,
                reserve: config.publisher_reserve,
                per_address: config.max_per_address,
                per_guest: config.max_per_guest,
            },
            guest_joins: config.guest_joins,
            address_answers: (config.address_answers, config.address_answers_rate),
            // One address holds a quarter of a share's log at most: a flood from one
            // network never fills it for everyone else.
            address_hold: (
                (gallery::answers::MAX_ANSWERS / 4) as u64,
                config.share_answers / 4,
            ),
        })
        .map_err(std::io::Error::other)?,
    );
    access.prepare().await;
    let blobs = gallery::blobs::Blobs::open(
        config.data.as_deref(),
        config.redis.as_deref(),
        config.previews_limit,
    )?;
    let originals = gallery::originals::store::Originals::open(
        config.data.as_deref(),
        config.redis.as_deref(),
        config.originals_limit,
    )?;
    let answers = gallery::answers::Answers::open(
        config.data.as_deref(),
        config.redis.as_deref(),
        gallery::answers::Quotas {
            share: config.share_answers,
            guest: config.guest_answers,
        },
    )?;
    let live = live::Live::new(config.redis.as_deref())?;
    let live_task = tokio::spawn(live.clone().run());
    let follower = tokio::spawn(hub.clone().follow());
    let access_task = tokio::spawn(access.clone().run());
    let sweeper = tokio::spawn(access.clone().sweep());
    let state = Arc::new(State {
        hub,
        access,
        blobs,
        originals,
        answers,
        pins: gallery::pin::Pins::default(),
        live,
        config,
        connections: AtomicU64::new(0),
        polls_waiting: AtomicU64::new(0),
        next_conn: AtomicU64::new(1),
        started: Instant::now(),
        shutdown: stopped,
    });
    let app = router(state.clone());
    let closing = state.clone();
    let graceful = async move {
        shutdown.await;
        let _ = stop.send(true);
    };
    let until_stopping = async move { closing.stopping().await };
    let serve = async move {
        match tls {
            Some(tls) => {
                let app = app.into_make_service_with_connect_info::<tls::TlsPeer>();
                axum::serve(tls::TlsListener::new(listener, tls)?, app)
                    .with_graceful_shutdown(until_stopping)
                    .await
            }
            None => {
                // Events are small and latency matters: no Nagle delay (with delayed
                // ACKs, up to 40 ms).
                let listener = axum::serve::ListenerExt::tap_io(listener, |tcp| {
                    if let Err(e) = tcp.set_nodelay(true) {
                        tracing::debug!("TCP_NODELAY: {e}");
                    }
                });
                let app = app.into_make_service_with_connect_info::<std::net::SocketAddr>();
                axum::serve(listener, app)
                    .with_graceful_shutdown(until_stopping)
                    .await
            }
        }
    };
    // A connection whose client stopped reading (an MJPEG viewer, say) would hold the
    // graceful shutdown forever: after SHUTDOWN_GRACE, the relay stops without it.
    let lingering = state.clone();
    let serve = async move {
        tokio::select! {
            served = serve => served,
            () = async {
                lingering.stopping().await;
                tokio::time::sleep(SHUTDOWN_GRACE).await;
            } => {
                tracing::warn!("some connections did not close in time; stopping without them");
                Ok(())
            }
        }
    };
    let (served, ()) = tokio::join!(serve, graceful);
    let deadline = Instant::now() + Duration::from_secs(5);
    while state.connections.load(Ordering::Relaxed) > 0 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    follower.abort();
    live_task.abort();
    access_task.abort();
    sweeper.abort();
    served
}
