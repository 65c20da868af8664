//! Focus drives: nearer or farther in three step sizes (the lens's own steps, as a
//! Nikon's manual focus drive counts them), or autofocus. Written `near 2`, `far 1`,
//! `auto` in requests and on the command line.

use std::fmt;

/// Lens steps of each size, 1 (fine) to 3 (coarse).
pub const STEPS: [u32; 3] = [30, 200, 1000];

/// One focus drive.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Focus {
    /// Towards the nearest distance, by step size 1–3.
    Near(u8),
    /// Towards infinity, by step size 1–3.
    Far(u8),
    /// Autofocus.
    Auto,
}

impl Focus {
    /// From `near|far [1-3]` or `auto`; the error says what is accepted.
    pub fn parse(text: &str) -> Result<Self, String> {
        let words: Vec<&str> = text.split_whitespace().collect();
        let size = |w: Option<&&str>| -> Result<u8, String> {
            match w.map(|w| w.parse::<u8>()) {
                None => Ok(1),
                Some(Ok(n @ 1..=3)) => Ok(n),
                _ => Err(format!(
                    "`{text}`: the step size is 1 (fine), 2 or 3 (coarse)"
                )),
            }
        };
        match words.as_slice() {
            ["auto"] => Ok(Focus::Auto),
            ["near", rest @ ..] if rest.len() <= 1 => Ok(Focus::Near(size(rest.first())?)),
            ["far", rest @ ..] if rest.len() <= 1 => Ok(Focus::Far(size(rest.first())?)),
            _ => Err(format!(
                "`{text}` is not a focus drive: near|far [1-3] or auto"
            )),
        }
    }

    /// The manual drive in lens steps: negative is nearer; `None` for autofocus.
    pub fn steps(self) -> Option<i32> {
        let of = |n: u8| STEPS[usize::from(n.clamp(1, 3)) - 1] as i32;
        match self {
            Focus::Near(n) => Some(-of(n)),
            Focus::Far(n) => Some(of(n)),
            Focus::Auto => None,
        }
    }
}

impl fmt::Display for Focus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Focus::Near(n) => write!(f, "near {n}"),
            Focus::Far(n) => write!(f, "far {n}"),
            Focus::Auto => f.write_str("auto"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn drives_parse_and_print_back() {
        for (text, focus) in [
            ("near", Focus::Near(1)),
            ("near 3", Focus::Near(3)),
            ("far 2", Focus::Far(2)),
            ("auto", Focus::Auto),
        ] {
            assert_eq!(Focus::parse(text), Ok(focus));
            assert_eq!(Focus::parse(&focus.to_string()), Ok(focus));
        }
        assert_eq!(Focus::Near(2).steps(), Some(-200));
        assert_eq!(Focus::Far(3).steps(), Some(1000));
        assert_eq!(Focus::Auto.steps(), None);
        for bad in ["near 4", "far 0", "sideways", "auto 2", "", "near 1 2"] {
            assert!(Focus::parse(bad).is_err(), "{bad}");
        }
    }
}
