use std::path::Path;

use super::*;

fn parse(text: &str) -> Result<Config, ConfigError> {
    Config::parse(text, Path::new("test.toml"))
}

#[test]
fn the_embedded_default_file_parses_to_the_defaults() {
    let config = parse(DEFAULT_TOML).expect("default parses");
    assert_eq!(config, Config::default());
    assert!(validate::validate(&config).is_empty());
}

#[test]
fn unknown_keys_are_named() {
    let err = parse("[library]\npath = \"/x\"\ncolour = 1\n").expect_err("unknown key");
    assert!(err.problem.contains("colour"), "{err}");
    let err = parse("[libary]\n").expect_err("unknown table");
    assert!(err.problem.contains("libary"), "{err}");
}

#[test]
fn a_bad_duration_is_explained() {
    let err = parse("[[hot_folder]]\npath = \"/in\"\npoll_interval = \"soon\"\n").expect_err("bad");
    assert!(err.problem.contains("soon"), "{err}");
    let ok = parse("[[hot_folder]]\npath = \"/in\"\npoll_interval = \"2s\"\n").expect("good");
    assert_eq!(
        ok.hot_folder[0].poll_interval,
        Some(std::time::Duration::from_secs(2))
    );
}

fn keys(config: &Config) -> Vec<String> {
    validate::validate(config)
        .into_iter()
        .map(|e| e.key)
        .collect()
}

#[test]
fn nested_and_shared_folders_are_rejected_with_their_keys() {
    let config = parse(
        r#"
        [[hot_folder]]
        path = "/studio/in"
        [library]
        path = "/studio/in/library"
        [[backup]]
        name = "a"
        path = "/mnt/a"
        [[backup]]
        name = "b"
        path = "/mnt/a/"
        "#,
    )
    .expect("parse");
    let errors = validate::validate(&config);
    let keys: Vec<_> = errors.iter().map(|e| e.key.as_str()).collect();
    assert_eq!(keys, ["library.path", "backup[1].path"], "{errors:?}");
    assert!(
        errors[0].problem.contains("is inside `hot_folder[0].path`"),
        "{errors:?}"
    );
    assert!(
        errors[1]
            .problem
            .contains("same folder as `backup[0].path`"),
        "{errors:?}"
    );
}

#[test]
fn bad_values_name_their_keys() {
    let mut config = Config::default();
    config.studio.id = "my studio!".into();
    config.library.naming = "{date}/{bogus}".into();
    config.relay.listen = "localhost".into();
    config.relay.url = Some("http://x".into());
    config.backup.push(config.backup[0].clone());
    config.backup[1].path = "/elsewhere".into();
    let keys = keys(&config);
    for key in [
        "studio.id",
        "library.naming",
        "relay.listen",
        "relay.url",
        "backup[1].name",
    ] {
        assert!(
            keys.contains(&key.to_string()),
            "{key} missing from {keys:?}"
        );
    }
}

#[test]
fn backup_names_default_to_the_folder_name() {
    let config = parse("[[backup]]\npath = \"/mnt/usb/Shots\"\n").expect("parse");
    assert_eq!(config.backup[0].name, "Shots");
}

#[test]
fn the_defaults_check_clean_on_a_fresh_home() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut config = Config::default();
    let root = dir.path().join("Pictures/Shotline");
    config.hot_folder[0].path = root.join("Incoming");
    config.library.path = root.join("Library");
    config.backup[0].path = root.join("Backup");
    assert_eq!(check_folders(&config), Vec::new());
    assert!(!root.exists(), "checking creates nothing");
    assert!(prepare_folders(&config).is_empty());
    assert!(root.join("Backup").is_dir());
}

#[test]
fn folders_are_created_and_checked() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut config = Config::default();
    config.hot_folder[0].path = dir.path().join("a/in");
    config.library.path = dir.path().join("a/lib");
    config.backup[0].path = dir.path().join("b");
    assert!(prepare_folders(&config).is_empty());
    assert!(config.library.path.is_dir() && config.backup[0].path.is_dir());

    config.backup[0].path = dir.path().join("gone/drive/b");
    let errors = check_folders(&config);
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert_eq!(errors[0].key, "backup[0].path");

    config.backup[0].require_mount = true;
    assert!(
        check_folders(&config).is_empty(),
        "an unmounted drive is offline, not an error"
    );

    std::fs::write(dir.path().join("file"), b"x").expect("write");
    config.library.path = dir.path().join("file");
    assert_eq!(check_folders(&config)[0].key, "library.path");
}

#[test]
fn the_library_space_thresholds_are_sizes_critical_at_most_warn() {
    let config =
        parse("[library]\nwarn_below = \"10GB\"\ncritical_below = \"2GB\"\n").expect("parse");
    assert!(keys(&config).is_empty(), "{:?}", keys(&config));
    assert_eq!(config.library.warn_below_bytes(), 10 << 30);
    assert_eq!(config.library.critical_below_bytes(), 2 << 30);
    let defaults = Config::default();
    assert_eq!(defaults.library.warn_below_bytes(), 20 << 30);
    assert_eq!(defaults.library.critical_below_bytes(), 5 << 30);

    let bad = parse("[library]\nwarn_below = \"lots\"\n").expect("parse");
    assert_eq!(keys(&bad), ["library.warn_below"]);
    let upside_down =
        parse("[library]\nwarn_below = \"1GB\"\ncritical_below = \"3GB\"\n").expect("parse");
    let errors = validate::validate(&upside_down);
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert_eq!(errors[0].key, "library.critical_below");
    assert!(errors[0].fix.contains("warn_below"), "{errors:?}");
}
