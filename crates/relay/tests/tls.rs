//! TLS: with a certificate and key the relay speaks only `https://` and `wss://`; a client
//! that trusts the certificate gets health and a WebSocket subscription; plain HTTP gets
//! nothing; a key that does not match the certificate is refused at start, naming both.

use std::sync::Arc;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use rustls_pki_types::{CertificateDer, ServerName, pem::PemObject};
use serde_json::{Value, json};
use shotline_relay::auth::{Claims, Role, mint, now_secs};
use shotline_relay::tls::TlsFiles;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::TlsConnector;
use tokio_rustls::rustls::{ClientConfig, RootCertStore};
use tokio_tungstenite::tungstenite::Message;

const SECRET: &[u8] = b"tls-test-secret-0123456789";

fn certificate(dir: &std::path::Path, name: &str) -> TlsFiles {
    let made = rcgen::generate_simple_self_signed(vec!["localhost".to_string()]).expect("cert");
    let files = TlsFiles {
        cert: dir.join(format!("{name}.crt")),
        key: dir.join(format!("{name}.key")),
    };
    std::fs::write(&files.cert, made.cert.pem()).expect("write cert");
    std::fs::write(&files.key, made.signing_key.serialize_pem()).expect("write key");
    files
}

fn connector(cert: &std::path::Path) -> TlsConnector {
    let mut roots = RootCertStore::empty();
    for c in CertificateDer::pem_file_iter(cert).expect("pem") {
        roots.add(c.expect("cert")).expect("root");
    }
    let config = ClientConfig::builder_with_provider(Arc::new(
        tokio_rustls::rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .expect("versions")
    .with_root_certificates(roots)
    .with_no_client_auth();
    TlsConnector::from(Arc::new(config))
}

async fn tls(
    addr: std::net::SocketAddr,
    connector: &TlsConnector,
) -> tokio_rustls::client::TlsStream<TcpStream> {
    let tcp = TcpStream::connect(addr).await.expect("connect");
    connector
        .connect(ServerName::try_from("localhost").expect("name"), tcp)
        .await
        .expect("TLS handshake")
}

#[tokio::test]
async fn https_and_wss_with_a_trusted_certificate_and_nothing_in_plain_text() {
    let dir = tempfile::tempdir().expect("tempdir");
    let files = certificate(dir.path(), "relay");
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let mut config = shotline_relay::Config::new(SECRET);
    config.tls = Some(files.clone());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(shotline_relay::run(listener, config, async move {
        let _ = stopped.await;
    }));
    let connector = connector(&files.cert);

    let mut stream = tls(addr, &connector).await;
    stream
        .write_all(b"GET /health HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
        .await
        .expect("write");
    let mut response = String::new();
    stream.read_to_string(&mut response).await.expect("read");
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    assert!(response.contains(r#"{"status":"ok"}"#), "{response}");

    let token = mint(
        &Claims {
            role: Role::Subscriber,
            channels: vec!["s:*".into()],
            exp: now_secs() + 60,
            ..Claims::new(Role::Guest, Vec::new(), std::time::Duration::ZERO)
        },
        SECRET,
    );
    let (mut ws, _) = tokio_tungstenite::client_async(
        format!("wss://localhost/v1/ws?token={token}"),
        tls(addr, &connector).await,
    )
    .await
    .expect("WebSocket over TLS");
    ws.send(Message::Text(
        json!({"type": "subscribe", "channel": "s:camera"})
            .to_string()
            .into(),
    ))
    .await
    .expect("send");
    let reply = tokio::time::timeout(Duration::from_secs(5), ws.next())
        .await
        .expect("in time")
        .expect("frame")
        .expect("ok");
    let reply: Value = serde_json::from_str(reply.to_text().expect("text")).expect("json");
    assert_eq!(reply["type"], "subscribed");

    // Plain HTTP to the TLS port: no answer in HTTP.
    let mut plain = TcpStream::connect(addr).await.expect("connect");
    plain
        .write_all(b"GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .await
        .expect("write");
    let mut answer = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(5), plain.read_to_end(&mut answer)).await;
    assert!(
        !String::from_utf8_lossy(&answer).contains("200 OK"),
        "plain HTTP was served"
    );

    let _ = stop.send(());
    task.await.expect("join").expect("served");
}

#[tokio::test]
async fn a_key_that_does_not_match_the_certificate_is_refused_at_start() {
    let dir = tempfile::tempdir().expect("tempdir");
    let one = certificate(dir.path(), "one");
    let other = certificate(dir.path(), "other");
    let mut config = shotline_relay::Config::new(SECRET);
    config.tls = Some(TlsFiles {
        cert: one.cert.clone(),
        key: other.key.clone(),
    });
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let err = shotline_relay::run(listener, config, async {})
        .await
        .expect_err("a mismatched pair must not start");
    let text = err.to_string();
    assert!(
        text.contains("one.crt") && text.contains("other.key"),
        "{text}"
    );

    let mut config = shotline_relay::Config::new(SECRET);
    config.tls = Some(TlsFiles {
        cert: dir.path().join("missing.crt"),
        key: one.key,
    });
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let err = shotline_relay::run(listener, config, async {})
        .await
        .expect_err("a missing certificate must not start");
    assert!(err.to_string().contains("missing.crt"), "{err}");
}
