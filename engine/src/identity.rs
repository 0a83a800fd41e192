//! Whole-file identity. An exact copy is the strongest finding and the
//! cheapest to look up, so every file gets two digests: of its bytes, and of
//! its bytes with CRLF turned into LF, so a copy that only went through a
//! Windows checkout still matches.

use std::fmt;

/// A blake3 digest.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Digest(pub [u8; 32]);

impl Digest {
    pub fn of(bytes: &[u8]) -> Digest {
        Digest(*blake3::hash(bytes).as_bytes())
    }

    pub fn to_hex(&self) -> String {
        blake3::Hash::from_bytes(self.0).to_hex().to_string()
    }
}

impl fmt::Debug for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Digest({})", &self.to_hex()[..16])
    }
}

/// Files shorter than this are never reported as whole-file copies: a
/// 3-byte serial number or a one-line stub is identical in countless
/// projects and says nothing about where a copy came from. (Snippet
/// matching still sees them, and finds nothing in so little.)
pub const MIN_IDENTIFYING_LEN: u64 = 64;

/// Both digests of one file.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct FileDigests {
    pub exact: Digest,
    /// Of the content with every CRLF replaced by LF.
    pub normalized: Digest,
}

impl FileDigests {
    pub fn of(bytes: &[u8]) -> FileDigests {
        let exact = Digest::of(bytes);
        let normalized = if bytes.windows(2).any(|w| w == b"\r\n") {
            let mut hasher = blake3::Hasher::new();
            let mut rest = bytes;
            while let Some(i) = rest.windows(2).position(|w| w == b"\r\n") {
                hasher.update(&rest[..i]);
                rest = &rest[i + 1..];
            }
            hasher.update(rest);
            Digest(*hasher.finalize().as_bytes())
        } else {
            exact
        };
        FileDigests { exact, normalized }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crlf_and_lf_share_the_normalized_digest() {
        let lf = FileDigests::of(b"a\nb\r\nc\n");
        let crlf = FileDigests::of(b"a\r\nb\r\r\nc\r\n");
        let plain = FileDigests::of(b"a\nb\rc\n");
        assert_ne!(lf.exact, crlf.exact);
        assert_eq!(
            FileDigests::of(b"a\nb\nc\n").normalized,
            FileDigests::of(b"a\r\nb\r\nc\r\n").normalized
        );
        assert_eq!(lf.normalized, FileDigests::of(b"a\nb\nc\n").exact);
        assert_ne!(plain.normalized, lf.normalized);
        assert_eq!(crlf.normalized, FileDigests::of(b"a\nb\r\nc\n").exact);
    }

    #[test]
    fn hex_is_stable() {
        assert_eq!(Digest::of(b"").to_hex().len(), 64);
    }
}
