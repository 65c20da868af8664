//! What a person may be called: names (and comments) without the characters that steer
//! how text is shown or hide in it, and guest names that would pass for the studio
//! refused, however they are spelled (look-alike letters, fullwidth, accents, invisible
//! characters).

/// True for characters that steer how text is shown rather than being text: controls,
/// the bidirectional overrides and isolates (a name must not turn the page around), and
/// the invisible ones (zero-width spaces and joiners, soft hyphens, fillers) that make
/// two names look alike.
pub fn is_steering(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{200E}'
                | '\u{200F}'
                | '\u{202A}'..='\u{202E}'
                | '\u{2066}'..='\u{2069}'
                | '\u{00AD}'
                | '\u{034F}'
                | '\u{061C}'
                | '\u{115F}'
                | '\u{1160}'
                | '\u{17B4}'
                | '\u{17B5}'
                | '\u{180B}'..='\u{180E}'
                | '\u{200B}'..='\u{200D}'
                | '\u{2060}'..='\u{2065}'
                | '\u{3164}'
                | '\u{FE00}'..='\u{FE0F}'
                | '\u{FEFF}'
                | '\u{FFA0}'
        )
}

/// Names a guest may not take, as [`skeleton`]s: they would pass for the studio.
const RESERVED: [&str; 6] = [
    "studio",
    "thestudio",
    "shotline",
    "admin",
    "administrator",
    "photographer",
];

/// `text` as it looks: letters folded to plain lower-case ASCII where they look like one
/// (fullwidth and mathematical letters, Cyrillic and Greek look-alikes, accents, `0` for
/// `o`, `1` and `l` for `i`), spaces and punctuation gone.
pub fn skeleton(text: &str) -> String {
    let mut out = String::new();
    for c in text.chars() {
        let c = match c as u32 {
            // Fullwidth ASCII.
            0xFF01..=0xFF5E => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
            // Mathematical alphanumerics: 52 letters a style.
            n @ 0x1D400..=0x1D6A3 => {
                let i = (n - 0x1D400) % 52;
                char::from(if i < 26 {
                    b'a' + i as u8
                } else {
                    b'a' + (i - 26) as u8
                })
            }
            // Combining marks (accents).
            0x0300..=0x036F => continue,
            _ => c,
        };
        let folded = match c {
            'а' | 'А' | 'α' | 'Α' | 'à'..='å' | 'À'..='Å' => 'a',
            'В' | 'Β' | 'ь' => 'b',
            'с' | 'С' | 'ç' | 'Ç' | 'ϲ' => 'c',
            'ԁ' => 'd',
            'е' | 'Е' | 'Ε' | 'è'..='ë' | 'È'..='Ë' | 'ё' | 'Ё' => 'e',
            'һ' | 'Н' | 'Η' => 'h',
            'і' | 'І' | 'ι' | 'Ι' | 'ì'..='ï' | 'Ì'..='Ï' | 'ı' | '1' | 'l' | 'L' | '|' | 'ӏ' => {
                'i'
            }
            'ј' | 'Ј' => 'j',
            'к' | 'К' | 'κ' | 'Κ' => 'k',
            'М' | 'Μ' => 'm',
            'Ν' => 'n',
            'о' | 'О' | 'ο' | 'Ο' | 'σ' | 'ò'..='ö' | 'Ò'..='Ö' | 'ø' | 'Ø' | '0' => 'o',
            'р' | 'Р' | 'ρ' | 'Ρ' => 'p',
            'ѕ' | 'Ѕ' | '5' | '$' => 's',
            'т' | 'Т' | 'τ' | 'Τ' | '7' => 't',
            'υ' | 'ù'..='ü' | 'Ù'..='Ü' | 'μ' => 'u',
            'ν' => 'v',
            'х' | 'Х' | 'χ' | 'Χ' => 'x',
            'у' | 'У' | 'Υ' | 'ý' | 'ÿ' => 'y',
            'Ζ' => 'z',
            c => c,
        };
        for lower in folded.to_lowercase() {
            if lower.is_alphanumeric() {
                out.push(lower);
            }
        }
    }
    out
}

/// True when a guest may not be called `name`: it would pass for the studio.
pub fn is_reserved(name: &str) -> bool {
    let look = skeleton(name);
    RESERVED.iter().any(|r| skeleton(r) == look)
}

/// `text` without control characters and bidirectional overrides, trimmed; `None` when
/// nothing is left.
pub fn clean_name(text: &str) -> Option<String> {
    let cleaned: String = text.chars().filter(|c| !is_steering(*c)).collect();
    let cleaned = cleaned.trim();
    (!cleaned.is_empty()).then(|| cleaned.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nobody_passes_for_the_studio() {
        for name in [
            "Studio",
            " studio ",
            "S\u{200B}tudio",
            "Ｓｔｕｄｉｏ",
            "Stud\u{0456}o",
            "Ѕtudіо",
            "Stúdio",
            "St udio",
            "Stud1o",
            "𝐒𝐭𝐮𝐝𝐢𝐨",
            "Shotline",
        ] {
            let cleaned = clean_name(name).expect("a name");
            assert!(is_reserved(&cleaned), "{name:?} was taken");
        }
        for name in ["Studio Ana", "Claudio", "Ana"] {
            assert!(!is_reserved(name), "{name:?} was refused");
        }
        assert_eq!(clean_name("A\u{200B}n\u{FEFF}a").as_deref(), Some("Ana"));
    }
}
