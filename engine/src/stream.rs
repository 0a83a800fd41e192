//! A file's normalized token stream in the form alignment needs: one
//! symbol per token, and where each token sits.
//!
//! Fingerprints only *find* a copy; deciding where it starts and ends, and
//! whether it is a copy at all, takes the two token streams side by side
//! ([`crate::extend`]). The index keeps this form of every origin (the
//! forward store), and a target is put in the same form before matching.
//!
//! Names are symbols by ordinal: each distinct name of a file gets a small
//! one, in order of first use. That is all alignment and the renaming
//! check need (is the map between the two files' names one to one?), and
//! it compresses far better than hashes. A 16-bit hash of each name's
//! text is kept beside, once per ordinal, to tell which of two equally
//! close places a copy that kept its names came from.

use crate::token::{class, Token, TokenKind};

/// Symbols with this bit set are names; the rest is the name's ordinal.
pub const NAME_BIT: u32 = 1 << 31;

/// One file's tokens as symbols, with lines and bytes.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SymbolStream {
    /// Fixed tokens: their normalized code with [`NAME_BIT`] cleared;
    /// names: `NAME_BIT | ordinal`.
    pub syms: Vec<u32>,
    /// 1-based line of each token's first byte.
    pub lines: Vec<u32>,
    /// 1-based line of each token's last byte.
    pub end_lines: Vec<u32>,
    /// Byte offset of each token's start, and of its end (exclusive).
    pub starts: Vec<u32>,
    pub ends: Vec<u32>,
    /// Per token, a 16-bit hash of a literal's text (never 0), 0 for other
    /// tokens; empty when the stream was built without the file's bytes.
    /// Alignment treats literals by class (a T2 copy changes values); the
    /// verify step compares values, so that two different tables of the
    /// same shape do not pass for a copy.
    pub values: Vec<u16>,
    /// Per name ordinal, a 16-bit hash of the name's text (never 0);
    /// empty when not known (streams of index records written before
    /// names were kept).
    pub names: Vec<u16>,
    /// What alignment derives from the columns above, kept once computed.
    pub derived: Derived,
}

/// Per-stream data computed on first use and kept with the stream: a
/// scan's cached origin is aligned against by many targets (on the bench's
/// copies tree, 74 thousand uses of 5 thousand streams), and deriving its
/// text keys per use cost 5 % of the scan. Computed from the columns as
/// they are then, so a stream is filled in before it is first aligned
/// against. Never part of a stream's equality. (The reseed's gram keys of
/// each origin were kept here too for a while: 2 % of the scan for 90 MB
/// more at its peak, not kept.)
#[derive(Clone, Debug, Default)]
pub struct Derived {
    text_keys: std::sync::OnceLock<Vec<u16>>,
}

impl PartialEq for Derived {
    fn eq(&self, _: &Derived) -> bool {
        true
    }
}

impl Eq for Derived {}

impl SymbolStream {
    pub fn from_tokens(tokens: &[Token]) -> SymbolStream {
        let mut names: rustc_hash::FxHashMap<u32, u32> = Default::default();
        let mut s = SymbolStream {
            syms: Vec::with_capacity(tokens.len()),
            lines: Vec::with_capacity(tokens.len()),
            end_lines: Vec::with_capacity(tokens.len()),
            starts: Vec::with_capacity(tokens.len()),
            ends: Vec::with_capacity(tokens.len()),
            values: Vec::new(),
            names: Vec::new(),
            derived: Derived::default(),
        };
        for t in tokens {
            let sym = match t.kind {
                TokenKind::Fixed => t.code & !NAME_BIT,
                TokenKind::Ident => {
                    let next = names.len() as u32;
                    let ordinal = *names.entry(t.code).or_insert(next);
                    if ordinal == next {
                        s.names.push(fold16(t.code));
                    }
                    NAME_BIT | ordinal
                }
            };
            s.syms.push(sym);
            s.lines.push(t.line);
            s.end_lines.push(t.end_line.max(t.line));
            s.starts.push(t.start);
            s.ends.push(t.end.max(t.start));
        }
        s
    }

    /// [`SymbolStream::from_tokens`] with the literal values of `bytes`,
    /// the file the tokens came from.
    pub fn of_file(tokens: &[Token], bytes: &[u8]) -> SymbolStream {
        let mut s = SymbolStream::from_tokens(tokens);
        s.values = s
            .syms
            .iter()
            .zip(s.starts.iter().zip(&s.ends))
            .map(|(&sym, (&a, &b))| {
                if is_literal(sym) {
                    let text = bytes.get(a as usize..b as usize).unwrap_or_default();
                    literal_value(text)
                } else {
                    0
                }
            })
            .collect();
        s
    }

    /// A token's text as one key: a name's hash, or a literal's value with
    /// bit 16 set (so that a name and a value never share a key); `None`
    /// for other tokens and for text the stream does not know.
    pub fn text_key(&self, i: usize) -> Option<u32> {
        self.key_of(i, self.syms[i])
    }

    fn key_of(&self, i: usize, sym: u32) -> Option<u32> {
        if is_name(sym) {
            self.names
                .get((sym & !NAME_BIT) as usize)
                .map(|&h| u32::from(h))
        } else if is_literal(sym) {
            self.values.get(i).map(|&v| 1 << 16 | u32::from(v))
        } else {
            None
        }
    }

    /// [`SymbolStream::text_key`] of every token in 16 bits, 0 where there
    /// is none (names and values are never 0). The extension scores a pair
    /// of the same text above a pair of the same class only, so that it
    /// keeps a copy's names in step; it compares names with names and
    /// literals with literals, so the bit that keeps them apart is not
    /// needed there.
    pub fn text_keys(&self) -> &[u16] {
        self.derived.text_keys.get_or_init(|| {
            self.syms
                .iter()
                .enumerate()
                .map(|(i, &sym)| self.key_of(i, sym).map_or(0, |k| k as u16))
                .collect()
        })
    }

    pub fn len(&self) -> usize {
        self.syms.len()
    }

    pub fn is_empty(&self) -> bool {
        self.syms.is_empty()
    }

    /// Lines from token `first` to token `last`, inclusive.
    pub fn line_range(&self, first: usize, last: usize) -> (u32, u32) {
        let last = last.min(self.len().saturating_sub(1));
        (self.lines[first], self.end_lines[last])
    }

    /// Bytes from token `first` to token `last`, end exclusive.
    pub fn byte_range(&self, first: usize, last: usize) -> (u32, u32) {
        let last = last.min(self.len().saturating_sub(1));
        (self.starts[first], self.ends[last])
    }

    /// Whether the stream is internally sound: equal column lengths, lines
    /// and offsets that never go backwards. A decoded stream that is not
    /// would make the aligner index out of bounds or report nonsense.
    pub fn is_consistent(&self) -> bool {
        let n = self.syms.len();
        [
            self.lines.len(),
            self.end_lines.len(),
            self.starts.len(),
            self.ends.len(),
        ]
        .iter()
        .all(|&l| l == n)
            && (self.values.is_empty() || self.values.len() == n)
            && (self.names.is_empty()
                || self
                    .syms
                    .iter()
                    .all(|&s| !is_name(s) || ((s & !NAME_BIT) as usize) < self.names.len()))
            && self.lines.windows(2).all(|w| w[0] <= w[1])
            && self.starts.windows(2).all(|w| w[0] <= w[1])
            && (0..n).all(|i| self.end_lines[i] >= self.lines[i] && self.ends[i] >= self.starts[i])
    }
}

/// Whether two symbols can stand for each other in an alignment: equal
/// fixed tokens, or any two names (whether the names correspond is checked
/// over the whole alignment, see [`crate::extend::NameMap`]).
#[inline]
pub fn compatible(a: u32, b: u32) -> bool {
    a == b || (a & b & NAME_BIT) != 0
}

#[inline]
pub fn is_name(sym: u32) -> bool {
    sym & NAME_BIT != 0
}

/// Whether a symbol is a literal collapsed to its class.
#[inline]
pub fn is_literal(sym: u32) -> bool {
    matches!(sym, class::STRING | class::NUMBER | class::CHAR)
}

/// Whether the names of target token `i` and origin token `j`, both names,
/// have the same text. False when either stream lacks its names' hashes.
#[inline]
pub fn same_name(t: &SymbolStream, i: usize, o: &SymbolStream, j: usize) -> bool {
    let ordinal = |s: &SymbolStream, k: usize| (s.syms[k] & !NAME_BIT) as usize;
    match (t.names.get(ordinal(t, i)), o.names.get(ordinal(o, j))) {
        (Some(a), Some(b)) => a == b,
        _ => false,
    }
}

/// A name's text code folded to 16 bits, never 0.
fn fold16(code: u32) -> u16 {
    let h = code ^ (code >> 16);
    ((h & 0xffff) % 65535 + 1) as u16
}

/// A literal's value ([`crate::token::literal_text`]) hashed to 16 bits,
/// never 0 (0 marks "not a literal").
pub fn literal_value(text: &[u8]) -> u16 {
    let h = xxhash_rust::xxh3::xxh3_64(crate::token::literal_text(text));
    ((h % 65535) + 1) as u16
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tok(kind: TokenKind, code: u32, line: u32, start: u32) -> Token {
        Token {
            kind,
            code,
            start,
            end: start + 1,
            line,
            end_line: line,
        }
    }

    #[test]
    fn names_become_ordinals_of_first_use() {
        let t = [
            tok(TokenKind::Ident, 77, 1, 0),
            tok(TokenKind::Fixed, 5, 1, 2),
            tok(TokenKind::Ident, 99, 2, 4),
            tok(TokenKind::Ident, 77, 2, 6),
        ];
        let s = SymbolStream::from_tokens(&t);
        assert_eq!(s.syms, vec![NAME_BIT, 5, NAME_BIT | 1, NAME_BIT]);
        assert_eq!(s.line_range(1, 3), (1, 2));
        assert_eq!(s.byte_range(0, 9), (0, 7));
        assert!(s.is_consistent());
        assert_eq!(s.names.len(), 2);
        assert!(same_name(&s, 0, &s, 3));
        assert!(!same_name(&s, 0, &s, 2));
        assert!(compatible(s.syms[0], s.syms[2]));
        assert!(!compatible(s.syms[0], s.syms[1]));
    }

    #[test]
    fn text_keys_are_kept_and_leave_equality_alone() {
        let t = [
            tok(TokenKind::Ident, 77, 1, 0),
            tok(TokenKind::Fixed, 5, 1, 2),
            tok(TokenKind::Ident, 77, 2, 4),
        ];
        let s = SymbolStream::from_tokens(&t);
        let fresh = s.clone();
        let keys = s.text_keys();
        assert_eq!(keys[0], keys[2]);
        assert_ne!(keys[0], 0);
        assert_eq!(keys[1], 0);
        // The second call hands back the same buffer, not a new one.
        assert!(std::ptr::eq(keys, s.text_keys()));
        assert_eq!(s, fresh);
    }
}
