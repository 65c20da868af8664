//! A relay for the engine's gallery tests, in the test's process with its data folder,
//! and the HTTP calls a guest's page makes.

use std::time::{Duration, Instant};

use serde_json::Value;

pub const SECRET: &str = "gallery-test-secret-0123456789";

/// A relay on `port` with `data`, on its own runtime until dropped.
pub struct Relay {
    runtime: Option<tokio::runtime::Runtime>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
}

impl Relay {
    pub fn start(port: u16, data: &std::path::Path) -> Self {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("runtime");
        let mut config = shotline_relay::Config::new(SECRET.as_bytes().to_vec());
        config.data = Some(data.to_path_buf());
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        runtime.block_on(async {
            let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
                .await
                .expect("bind");
            tokio::spawn(shotline_relay::run(listener, config, async move {
                let _ = stopped.await;
            }));
        });
        let relay = Self {
            runtime: Some(runtime),
            stop: Some(stop),
        };
        let start = Instant::now();
        while call("GET", &format!("http://127.0.0.1:{port}/health"), "", None).0 != 200 {
            assert!(
                start.elapsed() < Duration::from_secs(10),
                "the relay did not start"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        relay
    }
}

impl Drop for Relay {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_timeout(Duration::from_secs(5));
        }
    }
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("port")
}

pub fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(10)))
        .build()
        .into()
}

pub fn call(method: &str, url: &str, token: &str, body: Option<Value>) -> (u16, Value) {
    let agent = agent();
    let auth = format!("Bearer {token}");
    let response = match (method, body) {
        ("POST", Some(body)) => agent
            .post(url)
            .header("authorization", &auth)
            .header("content-type", "application/json")
            .send(body.to_string().as_bytes()),
        _ => agent.get(url).header("authorization", &auth).call(),
    };
    let Ok(mut response) = response else {
        return (0, Value::Null);
    };
    let status = response.status().as_u16();
    let text = response.body_mut().read_to_string().unwrap_or_default();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

/// The link's base (`http://host:port`), share id and token.
pub fn parse_link(link: &str) -> (String, String, String) {
    let (page, token) = link.split_once('#').expect("token in the fragment");
    let (base, id) = page.rsplit_once("/g/").expect("/g/ in the link");
    (base.to_string(), id.to_string(), token.to_string())
}

pub fn exiftool(path: &std::path::Path, tags: &[&str]) -> Value {
    let out = std::process::Command::new("exiftool")
        .arg("-json")
        .args(tags)
        .arg(path)
        .output()
        .expect("exiftool (apt libimage-exiftool-perl; cargo xtask setup installs it)");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice::<Value>(&out.stdout).expect("json")[0].clone()
}

/// A studio with one backup whose engine publishes to the relay on `port` (a publisher
/// token for `studio:*` in its environment).
pub fn studio_on(port: u16) -> super::Studio {
    let mut studio = super::Studio::with_backup("b");
    let toml = std::fs::read_to_string(&studio.config).expect("config");
    std::fs::write(
        &studio.config,
        toml.replace(
            "listen = \"127.0.0.1:0\"",
            &format!("url = \"ws://127.0.0.1:{port}/v1/ws\""),
        ),
    )
    .expect("config");
    let publisher = shotline_relay::auth::mint(
        &shotline_relay::auth::Claims::new(
            shotline_relay::auth::Role::Publisher,
            vec!["studio:*".into()],
            Duration::from_secs(3600),
        ),
        SECRET.as_bytes(),
    );
    studio.env.push(("SHOTLINE_RELAY_TOKEN".into(), publisher));
    studio
}
