//! A share's activity as the relay records it (`GET /v1/shares/{id}/activity`): who
//! opened the share, wrong PINs, downloads — brought into the journal as answers are,
//! from where the journal says it stopped. Wrong PINs past a threshold (5, then every
//! 10 more) are told to the studio as a warning: someone may be guessing.

use serde_json::Value;
use shotline_protocol::Event;
use shotline_protocol::event::{Level, Notification};

use super::relay_http::RelayHttp;
use crate::bus::Bus;
use crate::journal::{Activity, Journal, Share, now_ms};

/// The notification category of wrong PINs.
pub const CATEGORY: &str = "gallery_pin";

/// One entry of the relay's activity log; `None` for what is not one.
pub fn parse(entry: &Value) -> Option<Activity> {
    let event = &entry["event"];
    let payload = &event["payload"];
    let kind = event["type"].as_str()?.strip_prefix("gallery_")?;
    let detail = match kind {
        "opened" => String::new(),
        "pin_failed" => payload["count"].as_u64().unwrap_or(0).to_string(),
        "download" => payload["what"].as_str().unwrap_or_default().to_string(),
        _ => return None,
    };
    Some(Activity {
        id: entry["id"].as_str()?.to_string(),
        seq: entry["seq"].as_u64()?,
        ts_ms: entry["ts"].as_i64().unwrap_or_else(now_ms),
        kind: kind.to_string(),
        sub: payload["sub"].as_str().map(String::from),
        name: payload["name"].as_str().map(String::from),
        detail,
    })
}

/// Does the `count`th wrong PIN warrant telling the studio?
fn alarming(count: u64) -> bool {
    count == 5 || (count > 5 && count % 10 == 5)
}

/// Bring `share`'s new activity into the journal; tell the studio of wrong PINs.
pub fn read(
    journal: &Journal,
    relay: &RelayHttp,
    bus: &Bus,
    share: &Share,
) -> Result<usize, super::relay_http::RelayError> {
    let mut count = 0;
    loop {
        let after = journal.activity_seq(&share.id).unwrap_or(0);
        let (entries, total, next) = relay.activity(&share.id, after)?;
        if total < after {
            // The relay's log is shorter than what was read (a relay without its data
            // folder): read it again from the start; what is known counts once.
            if journal.reset_activity_seq(&share.id).is_err() {
                return Ok(count);
            }
            continue;
        }
        if next <= after {
            return Ok(count);
        }
        let entries: Vec<Activity> = entries.iter().filter_map(parse).collect();
        let new = match journal.record_activity(&share.id, &entries, next) {
            Ok(new) => new,
            Err(e) => {
                tracing::warn!("gallery {} activity: {e}", share.id);
                return Ok(count);
            }
        };
        count += new.len();
        if let Some(worst) = new
            .iter()
            .filter(|a| a.kind == "pin_failed")
            .filter_map(|a| a.detail.parse::<u64>().ok())
            .filter(|n| alarming(*n))
            .max()
        {
            bus.publish(Event::Notification(Notification {
                level: Level::Warning,
                category: CATEGORY.into(),
                title: format!("{worst} wrong PINs on a gallery"),
                message: format!(
                    "{}: someone may be guessing its PIN. If the guests have it, nothing to do; else `shotline share set {} --pin NEW`, or revoke it",
                    share.title.clone().unwrap_or_else(|| format!("share {}", share.id)),
                    share.id
                ),
            }));
        }
        if next >= total {
            return Ok(count);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn entries_become_activity_and_guessing_is_told_now_and_then() {
        let entry = json!({"seq": 2, "id": "r:1", "ts": 5, "event": {"type": "gallery_opened",
            "payload": {"sub": "guest-1", "name": "Ana"}}});
        let a = parse(&entry).expect("activity");
        assert_eq!(
            (a.kind.as_str(), a.name.as_deref()),
            ("opened", Some("Ana"))
        );
        assert!(parse(&json!({"seq": 1, "id": "x", "event": {"type": "gallery_like"}})).is_none());
        let told: Vec<u64> = (1..=40).filter(|n| alarming(*n)).collect();
        assert_eq!(told, vec![5, 15, 25, 35]);
    }
}
