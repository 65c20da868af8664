//! The camera's key settings (ISO, shutter speed, aperture, white balance, image format):
//! which of libgphoto2's configuration keys each is read from on which make of camera, and
//! a wanted value checked against the values the camera takes before the camera is asked.

pub use shotline_protocol::CameraSetting;

/// Shotline's setting names, each with the libgphoto2 keys it goes by, tried in order
/// (Canon's names first, then Nikon's and the rest).
pub const KEYS: &[(&str, &[&str])] = &[
    ("iso", &["iso", "isospeed"]),
    ("shutterspeed", &["shutterspeed", "shutterspeed2"]),
    ("aperture", &["aperture", "f-number"]),
    ("whitebalance", &["whitebalance"]),
    ("imageformat", &["imageformat", "imagequality"]),
];

/// How a setting is called to people.
pub fn title(name: &str) -> &str {
    match name {
        "iso" => "ISO",
        "shutterspeed" => "shutter speed",
        "aperture" => "aperture",
        "whitebalance" => "white balance",
        "imageformat" => "image format",
        other => other,
    }
}

/// What to ask the camera for: its own key and the value in its own words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resolved {
    /// The camera's configuration key.
    pub key: String,
    /// The value, as one of the camera's choices where it has them.
    pub value: String,
    /// The setting as reported, when the request named a reported one.
    pub setting: Option<CameraSetting>,
}

/// Resolve a request to set `name` (Shotline's name or the camera's own key) to `value`
/// against the settings the camera reported; or why it cannot be done, in words for the
/// person who asked. Keys that are not key settings (`capturetarget`, `opcode`, …) pass
/// through to the camera as they are.
pub fn resolve(settings: &[CameraSetting], name: &str, value: &str) -> Result<Resolved, String> {
    let name = name.trim();
    let Some(setting) = settings.iter().find(|s| s.name == name || s.key == name) else {
        // Refused only when the camera's settings could be read at all; else the camera
        // itself is asked, under the name's first key.
        if let Some((_, keys)) = KEYS.iter().find(|(ours, _)| *ours == name)
            && settings.is_empty()
        {
            return Ok(Resolved {
                key: keys[0].to_string(),
                value: value.trim().to_string(),
                setting: None,
            });
        }
        if KEYS.iter().any(|(ours, _)| *ours == name) {
            return Err(format!(
                "this camera does not report its {} (it has no such setting, or libgphoto2 does not know it for this model)",
                title(name)
            ));
        }
        return Ok(Resolved {
            key: name.to_string(),
            value: value.to_string(),
            setting: None,
        });
    };
    if setting.readonly {
        return Err(format!(
            "the camera does not let its {} be set now (it is {}; the mode dial or the lens decides it)",
            title(&setting.name),
            setting.value
        ));
    }
    if setting.choices.is_empty() {
        return Ok(Resolved {
            key: setting.key.clone(),
            value: value.trim().to_string(),
            setting: Some(setting.clone()),
        });
    }
    match choose(&setting.choices, value) {
        Some(choice) => Ok(Resolved {
            key: setting.key.clone(),
            value: choice.to_string(),
            setting: Some(setting.clone()),
        }),
        None => Err(format!(
            "the camera takes no {} `{}`; it takes {}",
            title(&setting.name),
            value.trim(),
            listing(&setting.choices)
        )),
    }
}

/// The camera's choice `value` means: the same text, then the same ignoring case, then
/// the same once the usual decorations are dropped (`f/5.6` for `5.6`, `1/125s` for
/// `1/125`, `ISO 400` for `400`).
fn choose<'a>(choices: &'a [String], value: &str) -> Option<&'a str> {
    let value = value.trim();
    if value.is_empty() {
        return None;
    }
    choices
        .iter()
        .find(|c| c.as_str() == value)
        .or_else(|| choices.iter().find(|c| c.eq_ignore_ascii_case(value)))
        .or_else(|| {
            let want = bare(value);
            choices.iter().find(|c| bare(c) == want)
        })
        .map(String::as_str)
}

/// A value without its decorations, for comparing.
fn bare(value: &str) -> String {
    let lower = value.trim().to_ascii_lowercase();
    let lower = lower.strip_prefix("iso").unwrap_or(&lower).trim_start();
    let lower = lower.strip_prefix("f/").unwrap_or(lower);
    let lower = lower.strip_suffix('s').unwrap_or(lower);
    let lower = lower.trim();
    // `5.60` and `5.6` are the same aperture.
    match lower.parse::<f64>() {
        Ok(n) => format!("{n}"),
        Err(_) => lower.to_string(),
    }
}

/// Some of the choices, for a message.
fn listing(choices: &[String]) -> String {
    const SHOWN: usize = 24;
    let shown: Vec<&str> = choices.iter().take(SHOWN).map(String::as_str).collect();
    let more = choices.len().saturating_sub(SHOWN);
    if more > 0 {
        format!("{} and {more} more", shown.join(", "))
    } else {
        shown.join(", ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn aperture() -> CameraSetting {
        CameraSetting {
            name: "aperture".into(),
            key: "f-number".into(),
            label: "F-Number".into(),
            value: "f/2.8".into(),
            choices: ["f/2.8", "f/4", "f/5.6", "f/8"].map(String::from).to_vec(),
            readonly: false,
        }
    }

    #[test]
    fn our_name_finds_the_cameras_key_and_its_spelling_of_the_value() {
        let r = resolve(&[aperture()], "aperture", "5.6").expect("resolves");
        assert_eq!((r.key.as_str(), r.value.as_str()), ("f-number", "f/5.6"));
        let r = resolve(&[aperture()], "f-number", "F/8").expect("resolves");
        assert_eq!(r.value, "f/8");
        let r = resolve(&[aperture()], "aperture", "4.0").expect("resolves");
        assert_eq!(r.value, "f/4");
    }

    #[test]
    fn a_value_the_camera_does_not_take_says_what_it_takes() {
        let e = resolve(&[aperture()], "aperture", "f/3.3").expect_err("refused");
        assert!(e.contains("no aperture `f/3.3`"), "{e}");
        assert!(e.contains("f/2.8, f/4, f/5.6, f/8"), "{e}");
        assert!(resolve(&[aperture()], "aperture", " ").is_err());
    }

    #[test]
    fn a_setting_the_camera_does_not_report_or_lock_is_refused() {
        let e = resolve(&[aperture()], "iso", "400").expect_err("refused");
        assert!(e.contains("does not report its ISO"), "{e}");
        let mut locked = aperture();
        locked.readonly = true;
        let e = resolve(&[locked], "aperture", "f/4").expect_err("refused");
        assert!(e.contains("does not let its aperture be set"), "{e}");
    }

    #[test]
    fn with_no_settings_read_the_camera_itself_is_asked() {
        let r = resolve(&[], "aperture", "5.6").expect("passes");
        assert_eq!((r.key.as_str(), r.value.as_str()), ("aperture", "5.6"));
        assert!(r.setting.is_none());
    }

    #[test]
    fn other_keys_and_free_text_pass_through() {
        let r = resolve(&[aperture()], "capturetarget", "Memory card").expect("passes");
        assert_eq!(r.key, "capturetarget");
        assert!(r.setting.is_none());
        let mut text = aperture();
        text.choices.clear();
        let r = resolve(&[text], "aperture", " 7.1 ").expect("passes");
        assert_eq!(r.value, "7.1");
    }

    #[test]
    fn shutter_speeds_and_iso_match_without_their_decorations() {
        let speed = CameraSetting {
            name: "shutterspeed".into(),
            key: "shutterspeed".into(),
            label: "Shutter Speed".into(),
            value: "1/100".into(),
            choices: ["1/125s", "1/100s", "1s"].map(String::from).to_vec(),
            readonly: false,
        };
        assert_eq!(
            resolve(std::slice::from_ref(&speed), "shutterspeed", "1/125")
                .expect("resolves")
                .value,
            "1/125s"
        );
        assert_eq!(
            resolve(&[speed], "shutterspeed", "1")
                .expect("resolves")
                .value,
            "1s"
        );
        let iso = CameraSetting {
            name: "iso".into(),
            key: "iso".into(),
            label: "ISO Speed".into(),
            value: "100".into(),
            choices: ["Auto", "100", "400"].map(String::from).to_vec(),
            readonly: false,
        };
        assert_eq!(
            resolve(std::slice::from_ref(&iso), "iso", "ISO 400")
                .expect("resolves")
                .value,
            "400"
        );
        assert_eq!(
            resolve(&[iso], "iso", "auto").expect("resolves").value,
            "Auto"
        );
    }
}
