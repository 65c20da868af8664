//! What a guest's answer may be: a share's channel, one of the guests' types, and a
//! payload fit for its type (the frame id a number, stars 0–5, a known label, a boolean
//! like, a comment of 1 to 2,000 characters), with control characters and bidirectional
//! overrides taken out. The relay stamps and logs only what passes.

use serde_json::{Value, json};
use shotline_protocol::gallery::{GUEST_TYPES, Label, MAX_COMMENT};
use shotline_protocol::relay::ErrorCode;

/// Is `channel` a share's (`<studio>:gallery:<id>`)?
pub fn is_share_channel(channel: &str) -> bool {
    channel.contains(":gallery:")
}

/// Is `kind` one of the answers guests give, or the studio's `gallery_unlock` (kept in
/// the same log, as it changes what a guest may answer)?
pub fn is_answer(kind: &str) -> bool {
    GUEST_TYPES.contains(&kind) || kind == "gallery_unlock"
}

/// Control characters and bidirectional overrides out, as in names (a comment keeps its
/// line breaks and tabs); whitespace trimmed.
pub fn clean_text(text: &str, multiline: bool) -> String {
    text.chars()
        .filter(|c| !crate::auth::names::is_steering(*c) || (multiline && matches!(c, '\n' | '\t')))
        .collect::<String>()
        .trim()
        .to_string()
}

/// Check an answer's payload for its type (the frame id a number, stars 0–5, a known
/// label, a boolean like or pick, a comment of 1 to 2,000 characters, control characters
/// out; a submit's count, an unlock's guest); the frame it answers (none for a submit or
/// an unlock) and the cleaned event, or what is wrong.
pub fn check(event: &Value) -> Result<(Option<i64>, Value), (ErrorCode, String)> {
    let bad = |m: &str| (ErrorCode::InvalidEvent, m.to_string());
    let kind = event["type"].as_str().unwrap_or_default();
    let payload = event["payload"]
        .as_object()
        .ok_or_else(|| bad("an answer's payload is an object"))?;
    match kind {
        "gallery_submit" => {
            let picked = payload
                .get("picked")
                .and_then(Value::as_u64)
                .filter(|n| *n <= u64::from(shotline_protocol::gallery::MAX_CHOOSE))
                .ok_or_else(|| bad("\"picked\" is how many frames the selection holds"))?;
            return Ok((None, json!({"type": kind, "payload": {"picked": picked}})));
        }
        "gallery_unlock" => {
            let guest = payload
                .get("guest")
                .and_then(Value::as_str)
                .filter(|g| (1..=128).contains(&g.len()) && !g.chars().any(char::is_control))
                .ok_or_else(|| bad("\"guest\" is the sub of the guest to unlock"))?;
            return Ok((None, json!({"type": kind, "payload": {"guest": guest}})));
        }
        _ => {}
    }
    let frame = payload
        .get("frame")
        .and_then(Value::as_i64)
        .ok_or_else(|| bad("an answer names its frame: \"frame\": <frame id>"))?;
    let body = match kind {
        "gallery_rating" => {
            let stars = payload
                .get("stars")
                .and_then(Value::as_u64)
                .filter(|s| *s <= 5)
                .ok_or_else(|| bad("\"stars\" is 0 to 5"))?;
            json!({"frame": frame, "stars": stars})
        }
        "gallery_label" => {
            let label: Label = payload
                .get("label")
                .cloned()
                .and_then(|l| serde_json::from_value(l).ok())
                .ok_or_else(|| bad("\"label\" is one of red, yellow, green, blue, purple, none"))?;
            json!({"frame": frame, "label": label})
        }
        "gallery_like" => {
            let liked = payload
                .get("liked")
                .and_then(Value::as_bool)
                .ok_or_else(|| bad("\"liked\" is true or false"))?;
            json!({"frame": frame, "liked": liked})
        }
        "gallery_pick" => {
            let picked = payload
                .get("picked")
                .and_then(Value::as_bool)
                .ok_or_else(|| bad("\"picked\" is true or false"))?;
            json!({"frame": frame, "picked": picked})
        }
        "gallery_comment" => {
            let text = payload
                .get("text")
                .and_then(Value::as_str)
                .ok_or_else(|| bad("\"text\" is the comment"))?;
            let text = clean_text(text, true);
            let length = text.chars().count();
            if length == 0 {
                return Err(bad("an empty comment"));
            }
            if length > MAX_COMMENT {
                return Err((
                    ErrorCode::FrameTooLarge,
                    format!("a comment is at most {MAX_COMMENT} characters; this one has {length}"),
                ));
            }
            json!({"frame": frame, "text": text})
        }
        other => return Err(bad(&format!("{other} is not an answer"))),
    };
    Ok((Some(frame), json!({"type": kind, "payload": body})))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_are_checked_and_cleaned() {
        let ok = |e: Value| check(&e).map(|(_, v)| v["payload"].clone());
        assert_eq!(
            ok(json!({"type": "gallery_pick", "payload": {"frame": 3, "picked": true}}))
                .expect("a pick"),
            json!({"frame": 3, "picked": true})
        );
        assert_eq!(
            check(&json!({"type": "gallery_submit", "payload": {"picked": 20, "frames": [1]}}))
                .expect("a submit"),
            (
                None,
                json!({"type": "gallery_submit", "payload": {"picked": 20}})
            )
        );
        assert!(ok(json!({"type": "gallery_unlock", "payload": {"guest": ""}})).is_err());
        assert_eq!(
            ok(json!({"type": "gallery_rating", "payload": {"frame": 3, "stars": 5, "x": 1}}))
                .expect("a rating"),
            json!({"frame": 3, "stars": 5})
        );
        assert!(
            ok(json!({"type": "gallery_rating", "payload": {"frame": 3, "stars": 6}})).is_err()
        );
        assert!(
            ok(json!({"type": "gallery_label", "payload": {"frame": 3, "label": "pink"}})).is_err()
        );
        assert!(
            ok(json!({"type": "gallery_like", "payload": {"frame": "3", "liked": true}})).is_err()
        );
        assert_eq!(
            ok(json!({"type": "gallery_comment", "payload": {"frame": 1, "text": " a\u{0}b\nc\u{7}\u{202E} "}}))
                .expect("a comment")["text"],
            "ab\nc"
        );
        let long = "é".repeat(MAX_COMMENT + 1);
        let (code, _) =
            check(&json!({"type": "gallery_comment", "payload": {"frame": 1, "text": long}}))
                .expect_err("too long");
        assert_eq!(code, ErrorCode::FrameTooLarge);
        assert!(
            ok(json!({"type": "gallery_comment", "payload": {"frame": 1, "text": "\u{1}"}}))
                .is_err()
        );
    }
}
