//! The settings file: defaults, and bad values named by key.

use super::*;

#[test]
fn the_default_file_is_the_defaults() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("relay.toml");
    std::fs::write(&path, DEFAULT_TOML).expect("write");
    let mut config = Config::new("s".repeat(16));
    apply_file(&mut config, &path).expect("the default file loads");
    let defaults = Config::new("s".repeat(16));
    assert_eq!(config.history, defaults.history);
    assert_eq!(config.history_age, defaults.history_age);
    assert_eq!(config.max_frame, defaults.max_frame);
    assert_eq!(config.publish_rate, defaults.publish_rate);
    assert_eq!(config.queue, defaults.queue);
    assert_eq!(config.ping_interval, defaults.ping_interval);
    assert_eq!(config.ping_timeout, defaults.ping_timeout);
    assert_eq!(config.guest_rate, defaults.guest_rate);
    assert_eq!(config.previews_limit, defaults.previews_limit);
    assert_eq!(config.publisher_reserve, defaults.publisher_reserve);
    assert_eq!(config.max_per_address, defaults.max_per_address);
    assert_eq!(config.max_per_guest, defaults.max_per_guest);
    assert_eq!(config.max_subscriptions, defaults.max_subscriptions);
    assert_eq!(config.guest_joins, defaults.guest_joins);
    assert_eq!(config.address_answers, defaults.address_answers);
    assert_eq!(config.address_answers_rate, defaults.address_answers_rate);
    assert_eq!(config.guest_answers, defaults.guest_answers);
    assert_eq!(config.share_answers, defaults.share_answers);
}

#[test]
fn a_bad_value_names_its_key() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("relay.toml");
    let mut config = Config::new("s".repeat(16));
    std::fs::write(&path, "history_age = \"soon\"\n").expect("write");
    let e = apply_file(&mut config, &path).expect_err("refused");
    assert_eq!(e.key, "history_age");
    std::fs::write(&path, "colour = 1\n").expect("write");
    let e = apply_file(&mut config, &path).expect_err("refused");
    assert!(e.to_string().contains("colour"), "{e}");
    std::fs::write(&path, "ping_interval = \"30s\"\nping_timeout = \"10s\"\n").expect("write");
    assert_eq!(
        apply_file(&mut config, &path).expect_err("refused").key,
        "ping_timeout"
    );
    std::fs::write(&path, "previews_limit = \"lots\"\n").expect("write");
    let mut config = Config::new("s".repeat(16));
    assert_eq!(
        apply_file(&mut config, &path).expect_err("refused").key,
        "previews_limit"
    );
    assert_eq!(parse_size("2GB"), Some(2_000_000_000));
    assert_eq!(parse_size("64 KiB"), Some(65_536));
    std::fs::write(&path, "jwt_public_key = \"/nowhere.pem\"\n").expect("write");
    let mut config = Config::new("s".repeat(16));
    assert_eq!(
        apply_file(&mut config, &path).expect_err("refused").key,
        "jwt_public_key"
    );
}
