//! The session being shot: the `{session}` in names, what a share shows. One handle is
//! shared by ingest, the cameras and the window, so the studio can start a new session
//! ("Acme spring catalogue") or go back to an earlier one without a restart: frames
//! offered after the switch go to the new session, frames already on their way keep
//! theirs. The running engine also notes it in the journal, for `shotline share create`.

use std::sync::{Arc, RwLock};

use crate::journal::Journal;

/// A session name cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SessionError {
    /// Empty, or only spaces.
    #[error("a session needs a name, e.g. \"Acme spring catalogue\"")]
    Empty,
    /// Too long.
    #[error("a session name is at most {0} characters")]
    TooLong(usize),
    /// Holds characters that cannot be in a folder name.
    #[error("a session name cannot hold / \\ or control characters (it names a folder)")]
    BadCharacter,
}

/// Session names, at most (characters).
pub const MAX_NAME: usize = 100;

/// `name` trimmed, if it can name a session.
pub fn check(name: &str) -> Result<String, SessionError> {
    let name = name.trim();
    if name.is_empty() {
        return Err(SessionError::Empty);
    }
    if name.chars().count() > MAX_NAME {
        return Err(SessionError::TooLong(MAX_NAME));
    }
    if name
        .chars()
        .any(|c| c.is_control() || c == '/' || c == '\\')
        || name == "."
        || name == ".."
    {
        return Err(SessionError::BadCharacter);
    }
    Ok(name.to_string())
}

/// The current session, shared.
#[derive(Debug, Clone)]
pub struct Session(Arc<RwLock<String>>);

impl Session {
    /// Start in `name`.
    pub fn new(name: impl Into<String>) -> Self {
        Self(Arc::new(RwLock::new(name.into())))
    }

    /// The session now.
    pub fn current(&self) -> String {
        self.0.read().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Shoot in `name` from now on (noted in `journal`); the name as kept.
    pub fn switch(&self, name: &str, journal: &Journal) -> Result<String, SwitchError> {
        let name = check(name)?;
        journal.set_meta("session", &name)?;
        *self.0.write().unwrap_or_else(|p| p.into_inner()) = name.clone();
        tracing::info!("session: {name}");
        Ok(name)
    }
}

impl From<&str> for Session {
    fn from(name: &str) -> Self {
        Self::new(name)
    }
}

/// A switch that did not happen.
#[derive(Debug, thiserror::Error)]
pub enum SwitchError {
    /// The name cannot be used.
    #[error(transparent)]
    Name(#[from] SessionError),
    /// The journal could not note it.
    #[error(transparent)]
    Journal(#[from] crate::Error),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_that_cannot_name_a_folder_are_refused() {
        assert_eq!(
            check("  Acme spring catalogue "),
            Ok("Acme spring catalogue".into())
        );
        assert_eq!(check(" "), Err(SessionError::Empty));
        assert_eq!(check("a/b"), Err(SessionError::BadCharacter));
        assert_eq!(check(".."), Err(SessionError::BadCharacter));
        assert_eq!(check(&"x".repeat(101)), Err(SessionError::TooLong(100)));
        let dir = tempfile::tempdir().expect("tempdir");
        let journal = Journal::open(&dir.path().join("j.db")).expect("journal");
        let session = Session::new("2026-12-01");
        let seen_by_ingest = session.clone();
        session.switch("Acme", &journal).expect("switch");
        assert_eq!(seen_by_ingest.current(), "Acme");
        assert_eq!(
            journal.meta("session").expect("meta").as_deref(),
            Some("Acme")
        );
        assert!(session.switch("", &journal).is_err());
        assert_eq!(
            session.current(),
            "Acme",
            "a refused switch changes nothing"
        );
    }
}
