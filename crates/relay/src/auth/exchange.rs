//! Token exchange (`POST /v1/tokens`): any token buys a token never wider than itself.
//! Its channels must be covered by the caller's, its role no higher (guest < subscriber <
//! publisher < admin), its expiry no later, and its `publish` types a subset of what the
//! caller may publish. A guest's link token buys each guest a token of their own, with a
//! subject nobody else has, so the relay can say who answered and nobody can answer as
//! another.

use std::time::Duration;

use serde::Deserialize;

use super::names::{clean_name, is_reserved};
use super::{Claims, Role, now_secs, random_id};

/// The start of every subject the relay mints for a guest.
pub const GUEST_PREFIX: &str = "guest-";

/// Display names, at most (characters).
pub const MAX_NAME: usize = 64;

/// What the caller asks for.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Request {
    /// Channel names or prefixes.
    pub channels: Vec<String>,
    /// Lifetime, e.g. `"1h"` (default: as long as the caller's token).
    #[serde(default)]
    pub ttl: Option<String>,
    /// Role (default: the caller's).
    #[serde(default)]
    pub role: Option<Role>,
    /// Subject (default: the caller's; a guest gets one of its own).
    #[serde(default)]
    pub sub: Option<String>,
    /// Display name.
    #[serde(default)]
    pub name: Option<String>,
    /// Event types a guest may publish.
    #[serde(default)]
    pub publish: Option<Vec<String>>,
    /// A PIN-protected share's PIN (checked by the exchange's handler, not here).
    #[serde(default)]
    pub pin: Option<String>,
}

/// Why an exchange was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refused {
    /// The request would widen the caller's token.
    #[error("{0}")]
    Forbidden(String),
    /// The request is malformed.
    #[error("{0}")]
    Invalid(String),
}

/// The claims of the token `caller` may have for `request` at `now`.
pub fn narrow(caller: &Claims, request: &Request) -> Result<Claims, Refused> {
    let now = now_secs();
    let forbidden = |m: String| Err(Refused::Forbidden(m));
    if request.channels.is_empty() {
        return Err(Refused::Invalid("name at least one channel".into()));
    }
    for pattern in &request.channels {
        let name = pattern.strip_suffix('*').unwrap_or(pattern);
        if !name.is_empty() && !shotline_protocol::relay::valid_channel(name) {
            return Err(Refused::Invalid(format!(
                "`{pattern}` is not a channel name or prefix"
            )));
        }
        if !caller.covers(pattern) {
            return forbidden(format!("channel {pattern} is not covered by your token"));
        }
    }
    let role = request.role.unwrap_or(caller.role);
    if role > caller.role {
        return forbidden(format!(
            "a {} token cannot grant the {} role",
            caller.role.as_str(),
            role.as_str()
        ));
    }
    let exp = match &request.ttl {
        Some(ttl) => {
            let ttl = crate::settings::parse_duration(ttl)
                .filter(|d| *d > Duration::ZERO)
                .ok_or_else(|| {
                    Refused::Invalid(format!("ttl {ttl:?} is not a duration; write e.g. \"1h\""))
                })?;
            now.saturating_add(ttl.as_secs())
        }
        None => caller.exp,
    };
    if exp > caller.exp {
        return forbidden("the expiry would be later than your token's".into());
    }
    let publish = match &request.publish {
        Some(types) => {
            if let Some(t) = types.iter().find(|t| !caller.may_publish(t)) {
                return forbidden(format!("your token may not publish {t}"));
            }
            Some(types.clone())
        }
        None if role == Role::Guest => caller.publish.clone(),
        None => None,
    };
    let sub = match &request.sub {
        Some(sub) if caller.role >= Role::Publisher || Some(sub) == caller.sub.as_ref() => {
            Some(sub.clone())
        }
        Some(_) => {
            return forbidden(format!(
                "a {} token cannot choose another subject",
                caller.role.as_str()
            ));
        }
        // A guest's own token stays theirs (their picks, their selection's lock).
        None if caller.role == Role::Guest
            && caller
                .sub
                .as_deref()
                .is_some_and(|s| s.starts_with(GUEST_PREFIX)) =>
        {
            caller.sub.clone()
        }
        // Every guest is someone of their own.
        None if caller.role == Role::Guest => Some(format!("{GUEST_PREFIX}{}", &random_id()[..16])),
        None => caller.sub.clone(),
    };
    let name = match &request.name {
        Some(name) if name.chars().count() > MAX_NAME => {
            return Err(Refused::Invalid(format!(
                "a name is at most {MAX_NAME} characters"
            )));
        }
        Some(name) => clean_name(name),
        None => caller.name.clone(),
    };
    if role == Role::Guest
        && let Some(name) = name.as_deref().filter(|n| is_reserved(n))
    {
        return Err(Refused::Invalid(format!(
            "{name:?} would pass for the studio; choose your own name"
        )));
    }
    Ok(Claims {
        role,
        channels: request.channels.clone(),
        exp,
        sub,
        jti: Some(random_id()),
        iat: Some(now),
        name,
        publish,
        parents: caller.lineage().ok_or_else(|| {
            Refused::Forbidden(format!(
                "this token comes from {} exchanges already, the most; exchange the link itself",
                super::MAX_PARENTS
            ))
        })?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn caller(role: Role) -> Claims {
        Claims {
            publish: (role == Role::Guest).then(|| vec!["gallery_like".to_string()]),
            ..Claims::new(role, vec!["s:gallery:*".into()], Duration::from_secs(7200))
                .with_sub("me")
        }
    }

    fn ask(channels: &[&str]) -> Request {
        Request {
            channels: channels.iter().map(|c| c.to_string()).collect(),
            ..Request::default()
        }
    }

    #[test]
    fn every_way_of_widening_is_refused() {
        let publisher = caller(Role::Publisher);
        let refused = |c: &Claims, r: Request| matches!(narrow(c, &r), Err(Refused::Forbidden(_)));
        assert!(refused(&publisher, ask(&["s:camera"])), "another channel");
        assert!(refused(&publisher, ask(&["s:*"])), "a wider prefix");
        assert!(refused(&publisher, ask(&["*"])), "everything");
        assert!(
            refused(
                &publisher,
                Request {
                    role: Some(Role::Admin),
                    ..ask(&["s:gallery:1"])
                }
            ),
            "a higher role"
        );
        assert!(
            refused(
                &publisher,
                Request {
                    ttl: Some("3h".into()),
                    ..ask(&["s:gallery:1"])
                }
            ),
            "a later expiry"
        );
        let subscriber = caller(Role::Subscriber);
        assert!(
            refused(
                &subscriber,
                Request {
                    publish: Some(vec!["gallery_like".into()]),
                    role: Some(Role::Guest),
                    ..ask(&["s:gallery:1"])
                }
            ),
            "a subscriber cannot grant publishing"
        );
        assert!(
            refused(
                &subscriber,
                Request {
                    sub: Some("someone-else".into()),
                    ..ask(&["s:gallery:1"])
                }
            ),
            "another subject"
        );
        let guest = caller(Role::Guest);
        assert!(
            refused(
                &guest,
                Request {
                    publish: Some(vec!["gallery_comment".into()]),
                    ..ask(&["s:gallery:1"])
                }
            ),
            "more types"
        );
        assert!(
            refused(
                &guest,
                Request {
                    role: Some(Role::Subscriber),
                    ..ask(&["s:gallery:1"])
                }
            ),
            "a guest cannot grant subscriber"
        );
        assert!(matches!(
            narrow(
                &guest,
                &Request {
                    name: Some("x".repeat(65)),
                    ..ask(&["s:gallery:1"])
                }
            ),
            Err(Refused::Invalid(_))
        ));
    }

    #[test]
    fn a_chain_of_exchanges_is_never_cut_short_but_refused_past_its_length() {
        let mut token = caller(Role::Publisher);
        for depth in 1..=crate::auth::MAX_PARENTS {
            token = narrow(&token, &ask(&["s:gallery:1"])).expect("exchanged");
            assert_eq!(token.parents.len(), depth);
        }
        assert!(matches!(
            narrow(&token, &ask(&["s:gallery:1"])),
            Err(Refused::Forbidden(_))
        ));
        assert_eq!(token.parents[0].sub, "me", "the first stays");
    }

    #[test]
    fn a_guest_cannot_pass_for_the_studio() {
        let asked = Request {
            name: Some("Ｓｔ\u{200B}udiо".into()),
            ..ask(&["s:gallery:1"])
        };
        assert!(matches!(
            narrow(&caller(Role::Guest), &asked),
            Err(Refused::Invalid(_))
        ));
    }

    #[test]
    fn a_guest_link_buys_each_guest_a_subject_of_their_own() {
        let link = caller(Role::Guest);
        let ask = Request {
            name: Some(" Ana\u{7}\u{202e} ".into()),
            ttl: Some("1h".into()),
            ..ask(&["s:gallery:1"])
        };
        let a = narrow(&link, &ask).expect("allowed");
        let b = narrow(&link, &ask).expect("allowed");
        assert_eq!(a.role, Role::Guest);
        assert_eq!(a.publish, link.publish, "the link's types");
        assert_ne!(a.sub, b.sub, "two guests, two subjects");
        let renewed = narrow(
            &a,
            &Request {
                sub: None,
                ..ask.clone()
            },
        )
        .expect("renewed");
        assert_eq!(renewed.sub, a.sub, "a guest's own token stays theirs");
        assert!(a.sub.as_deref().is_some_and(|s| s.starts_with("guest-")));
        assert_eq!(
            a.name.as_deref(),
            Some("Ana"),
            "control characters stripped"
        );
        assert!(a.exp <= link.exp && a.exp > now_secs() + 3500);
        let again = narrow(
            &a,
            &Request {
                sub: a.sub.clone(),
                ttl: None,
                ..ask.clone()
            },
        )
        .expect("its own subject");
        assert_eq!(again.sub, a.sub);
        let publisher = caller(Role::Publisher);
        let minted = narrow(
            &publisher,
            &Request {
                sub: Some("share:1".into()),
                role: Some(Role::Guest),
                publish: Some(vec!["gallery_rating".into()]),
                ..ask
            },
        )
        .expect("a publisher mints share links");
        assert_eq!(minted.sub.as_deref(), Some("share:1"));
    }
}
