//! The address guests open: `<relay>/g/<share id>#<guest token>`. With the embedded relay
//! that is this computer's address on `[relay] listen`: its network address when it
//! listens on every interface (`0.0.0.0`), and plainly loopback-only when it listens on
//! 127.0.0.1 (the default), which other devices cannot open. With a remote relay, the
//! relay's own address.

use std::net::{IpAddr, Ipv4Addr, SocketAddr, UdpSocket};

use super::relay_http::http_base;

/// Where guests reach the relay, and what they should know about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkBase {
    /// `http(s)://host:port`.
    pub base: String,
    /// Set when other devices cannot open links on this base.
    pub note: Option<String>,
}

/// The loopback-only note.
pub const LOOPBACK_NOTE: &str = "this link works on this computer only (the relay listens on loopback): \
     to share with other devices, set [relay] listen = \"0.0.0.0:7878\" and restart";

/// The link base for the relay whose WebSocket is `ws_url`.
pub fn base_for(ws_url: &str) -> LinkBase {
    let base = http_base(ws_url);
    let Ok(url) = url::Url::parse(&base) else {
        return LinkBase { base, note: None };
    };
    let host: Option<IpAddr> = match url.host() {
        Some(url::Host::Ipv4(ip)) => Some(IpAddr::V4(ip)),
        Some(url::Host::Ipv6(ip)) => Some(IpAddr::V6(ip)),
        Some(url::Host::Domain(d)) if d.eq_ignore_ascii_case("localhost") => {
            Some(IpAddr::V4(Ipv4Addr::LOCALHOST))
        }
        _ => None,
    };
    let port = url.port_or_known_default().unwrap_or(80);
    let scheme = url.scheme();
    match host {
        Some(ip) if ip.is_loopback() => LinkBase {
            base,
            note: Some(LOOPBACK_NOTE.to_string()),
        },
        Some(ip) if ip.is_unspecified() => match network_address() {
            Some(lan) => LinkBase {
                base: format!("{scheme}://{}", SocketAddr::new(lan, port)),
                note: None,
            },
            None => LinkBase {
                base: format!("{scheme}://127.0.0.1:{port}"),
                note: Some(
                    "this computer has no network address right now: the link works on this computer only"
                        .to_string(),
                ),
            },
        },
        _ => LinkBase { base, note: None },
    }
}

/// This computer's address on its network: the source address of the route to a private
/// address (no packet is sent: a UDP socket is only connected).
pub fn network_address() -> Option<IpAddr> {
    ["10.255.255.255:9", "192.168.255.255:9", "172.31.255.255:9"]
        .iter()
        .find_map(|probe| {
            let socket = UdpSocket::bind("0.0.0.0:0").ok()?;
            socket.connect(probe).ok()?;
            let ip = socket.local_addr().ok()?.ip();
            (!ip.is_unspecified() && !ip.is_loopback()).then_some(ip)
        })
}

/// The link of share `id` with the guest `token`.
pub fn link(base: &str, id: &str, token: &str) -> String {
    format!("{}/g/{id}#{token}", base.trim_end_matches('/'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_says_so_and_a_remote_relay_is_its_own_address() {
        let local = base_for("ws://127.0.0.1:7878/v1/ws");
        assert_eq!(local.base, "http://127.0.0.1:7878");
        assert!(
            local
                .note
                .as_deref()
                .is_some_and(|n| n.contains("loopback"))
        );
        let remote = base_for("wss://relay.example.com/v1/ws");
        assert_eq!(
            remote,
            LinkBase {
                base: "https://relay.example.com".into(),
                note: None
            }
        );
        let every = base_for("ws://0.0.0.0:7878/v1/ws");
        assert!(
            every.base.ends_with(":7878") && !every.base.contains("0.0.0.0"),
            "{every:?}"
        );
        assert_eq!(
            link("http://h:1/", "abc", "t.o.k"),
            "http://h:1/g/abc#t.o.k"
        );
    }
}
