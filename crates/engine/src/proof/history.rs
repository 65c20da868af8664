//! One root's ASC MHL history (`<root>/ascmhl/`): loaded and checked before anything is
//! added to it, and extended one generation at a time, crash-safely.
//!
//! A history is refused (by name, never "fixed") when a generation in the chain is
//! missing or changed, or a generation file is not in the chain and is not the last one
//! (the only one an interrupted seal can leave). A seal writes the generation to a hidden
//! partial name, fsyncs, renames it into place, then replaces the chain the same way; a
//! crash in between leaves a generation the chain does not list yet, which the reference
//! tool accepts and the next seal adopts.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use super::ProofError;
use super::c4::c4;
use super::mhl::{self, Action, ChainEntry, Generation};
use crate::platform;

/// The history folder's name.
pub const FOLDER: &str = "ascmhl";
/// The chain file's name.
pub const CHAIN: &str = "ascmhl_chain.xml";

/// A root's history, checked.
#[derive(Debug)]
pub struct History {
    root: PathBuf,
    chain: Vec<ChainEntry>,
    /// Paths with an `original` entry in some generation.
    originals: HashSet<String>,
}

/// A generation file's number, from its name (`0001_...mhl`).
fn number(name: &str) -> Option<u32> {
    let stem = name.strip_suffix(".mhl")?;
    let digits: String = stem.chars().take_while(char::is_ascii_digit).collect();
    if digits.len() < 4 || !(stem.len() == digits.len() || stem[digits.len()..].starts_with('_')) {
        return None;
    }
    digits.parse().ok()
}

impl History {
    /// Load and check the history of `root` (empty when there is none yet).
    pub fn load(root: &Path) -> Result<Self, ProofError> {
        let dir = root.join(FOLDER);
        let tampered = |detail: String| ProofError::Tampered {
            root: root.to_path_buf(),
            detail,
        };
        let mut history = Self {
            root: root.to_path_buf(),
            chain: Vec::new(),
            originals: HashSet::new(),
        };
        let mut files: Vec<(u32, String)> = match std::fs::read_dir(&dir) {
            Ok(entries) => entries
                .filter_map(|e| e.ok()?.file_name().into_string().ok())
                .filter(|n| !n.starts_with('.') && n.ends_with(".mhl"))
                .map(|n| (number(&n).unwrap_or(0), n))
                .collect(),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(history),
            Err(e) => return Err(ProofError::io(&dir, e)),
        };
        files.sort();
        let chain_path = dir.join(CHAIN);
        history.chain = match std::fs::read(&chain_path) {
            Ok(bytes) => mhl::read_chain(&bytes)
                .map_err(|e| tampered(format!("{CHAIN} cannot be read: {e}")))?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound && files.is_empty() => Vec::new(),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(tampered(format!(
                    "{CHAIN} is missing but generations are there"
                )));
            }
            Err(e) => return Err(ProofError::io(&chain_path, e)),
        };
        for entry in history.chain.clone() {
            let bytes = std::fs::read(dir.join(&entry.path)).map_err(|_| {
                tampered(format!("generation {} in the chain is missing", entry.path))
            })?;
            if c4(&bytes) != entry.c4 {
                return Err(tampered(format!(
                    "generation {} was changed after it was sealed (its C4 id no longer matches the chain)",
                    entry.path
                )));
            }
            history.learn(&entry.path, &bytes)?;
        }
        let chained: HashSet<&str> = history.chain.iter().map(|e| e.path.as_str()).collect();
        let loose: Vec<(u32, String)> = files
            .iter()
            .filter(|(_, n)| !chained.contains(n.as_str()))
            .cloned()
            .collect();
        let last = history.chain.iter().map(|e| e.sequence).max().unwrap_or(0);
        match loose.as_slice() {
            [] => {}
            // What an interrupted seal leaves: the next generation, not in the chain yet.
            [(n, name)] if *n == last + 1 => {
                let bytes = std::fs::read(dir.join(name))
                    .map_err(|e| ProofError::io(&dir.join(name), e))?;
                history.learn(name, &bytes)?;
                history.chain.push(ChainEntry {
                    sequence: *n,
                    path: name.clone(),
                    c4: c4(&bytes),
                });
            }
            _ => {
                let names: Vec<&str> = loose.iter().map(|(_, n)| n.as_str()).collect();
                return Err(tampered(format!(
                    "generation file(s) {} are not in {CHAIN}",
                    names.join(", ")
                )));
            }
        }
        Ok(history)
    }

    fn learn(&mut self, name: &str, bytes: &[u8]) -> Result<(), ProofError> {
        let entries = mhl::read_generation(bytes).map_err(|e| ProofError::Tampered {
            root: self.root.clone(),
            detail: format!("generation {name} cannot be read: {e}"),
        })?;
        for (path, action) in entries {
            if action == Some(Action::Original) {
                self.originals.insert(path);
            }
        }
        Ok(())
    }

    /// The number the next generation gets.
    pub fn next_number(&self) -> u32 {
        self.chain.iter().map(|e| e.sequence).max().unwrap_or(0) + 1
    }

    /// True when `path` already has its `original` entry.
    pub fn knows(&self, path: &str) -> bool {
        self.originals.contains(path)
    }

    /// Write `generation` (numbered [`History::next_number`]) and chain it; its file name.
    /// The first generation and its chain are staged in the root's `.shotline/` and the
    /// folder renamed into place, so a root never has an `ascmhl/` without its chain.
    pub fn append(&mut self, generation: &Generation) -> Result<String, ProofError> {
        let dir = self.root.join(FOLDER);
        let name = generation.file_name(&self.root);
        let bytes = mhl::write_generation(generation);
        let mut chain = self.chain.clone();
        chain.push(ChainEntry {
            sequence: generation.number,
            path: name.clone(),
            c4: c4(&bytes),
        });
        let chain_bytes = mhl::write_chain(&chain);
        if self.chain.is_empty() && !dir.exists() {
            let staging = self.root.join(".shotline").join("ascmhl.partial");
            if staging.exists() {
                std::fs::remove_dir_all(&staging).map_err(|e| ProofError::io(&staging, e))?;
            }
            crate::copy::create_dirs(&staging).map_err(|e| ProofError::io(&staging, e))?;
            write_atomically(&staging, &name, &bytes)?;
            write_atomically(&staging, CHAIN, &chain_bytes)?;
            interrupted_here();
            std::fs::rename(&staging, &dir).map_err(|e| ProofError::io(&dir, e))?;
            platform::sync_dir(&self.root).map_err(|e| ProofError::io(&self.root, e))?;
        } else {
            std::fs::create_dir_all(&dir).map_err(|e| ProofError::io(&dir, e))?;
            write_atomically(&dir, &name, &bytes)?;
            interrupted_here();
            write_atomically(&dir, CHAIN, &chain_bytes)?;
        }
        self.chain = chain;
        for hash in &generation.hashes {
            if hash.action == Action::Original {
                self.originals.insert(hash.path.clone());
            }
        }
        Ok(name)
    }
}

/// Test hook (feature `test-hooks`): `SHOTLINE_TEST_SEAL_DELAY_MS` milliseconds between
/// the generation and the chain, so a test can kill a seal there.
#[cfg(feature = "test-hooks")]
fn interrupted_here() {
    if let Some(ms) = std::env::var("SHOTLINE_TEST_SEAL_DELAY_MS")
        .ok()
        .and_then(|v| v.parse::<u64>().ok())
    {
        std::thread::sleep(std::time::Duration::from_millis(ms));
    }
}

#[cfg(not(feature = "test-hooks"))]
fn interrupted_here() {}

/// `bytes` as `dir/name`: a hidden partial file, fsynced, renamed over, the folder fsynced.
fn write_atomically(dir: &Path, name: &str, bytes: &[u8]) -> Result<(), ProofError> {
    use std::io::Write;
    let partial = dir.join(format!(".{name}.partial"));
    let target = dir.join(name);
    let mut file = std::fs::File::create(&partial).map_err(|e| ProofError::io(&partial, e))?;
    file.write_all(bytes)
        .and_then(|()| platform::sync_file(&file))
        .map_err(|e| ProofError::io(&partial, e))?;
    drop(file);
    std::fs::rename(&partial, &target).map_err(|e| ProofError::io(&target, e))?;
    platform::sync_dir(dir).map_err(|e| ProofError::io(dir, e))
}

#[cfg(test)]
mod tests {
    use super::number;

    #[test]
    fn generation_numbers_come_from_the_name() {
        assert_eq!(number("0001_Card_2024-05-01_120000Z.mhl"), Some(1));
        assert_eq!(number("0012.mhl"), Some(12));
        assert_eq!(number("12_x.mhl"), None);
        assert_eq!(number("0001x.mhl"), None);
        assert_eq!(number("ascmhl_chain.xml"), None);
    }
}
