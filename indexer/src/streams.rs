//! The forward store's record: one content's [`SymbolStream`], compressed.
//!
//! Columns, each a run of varints, then zstd over the whole:
//! a dictionary of the fixed symbols in order of first use; per token a
//! symbol reference (`2 × dictionary index`, or `2 × name ordinal + 1`);
//! line deltas; lines spanned by each token; byte-offset deltas; token
//! lengths; then whether literal values follow, and the 16-bit value of
//! each literal token; then the number of names and, per name ordinal, the
//! 16-bit hash of its text (two bytes, little-endian; a record written
//! before names were kept ends before this, and decodes with none). Keywords and punctuation then take one byte before compression
//! and layout columns are nearly all zeros and ones, which zstd shrinks to
//! little (see `docs/index.md` for the measured cost per source byte).

use engine::stream::{is_literal, SymbolStream, NAME_BIT};

use crate::codec::{get_varint, put_varint};

/// zstd level: the stream is written once and read per candidate, so a
/// level that decompresses fast and compresses well enough.
const LEVEL: i32 = 3;

/// Largest stream decoded: more tokens than any file the analyzer accepts
/// (16 MiB) could hold, so a damaged length never allocates without bound.
const MAX_TOKENS: u64 = 1 << 25;

pub fn encode(s: &SymbolStream) -> Vec<u8> {
    let mut dict: Vec<u32> = Vec::new();
    let mut dict_at: std::collections::HashMap<u32, u64> = Default::default();
    let mut refs = Vec::with_capacity(s.len() * 2);
    for &sym in &s.syms {
        let r = if sym & NAME_BIT != 0 {
            2 * u64::from(sym & !NAME_BIT) + 1
        } else {
            let next = dict.len() as u64;
            let at = *dict_at.entry(sym).or_insert_with(|| {
                dict.push(sym);
                next
            });
            2 * at
        };
        put_varint(&mut refs, r);
    }
    let mut raw = Vec::with_capacity(refs.len() * 3 + dict.len() * 5 + 16);
    put_varint(&mut raw, s.len() as u64);
    put_varint(&mut raw, dict.len() as u64);
    for d in &dict {
        put_varint(&mut raw, u64::from(*d));
    }
    raw.extend_from_slice(&refs);
    let mut prev = 0u32;
    for &l in &s.lines {
        put_varint(&mut raw, u64::from(l - prev));
        prev = l;
    }
    for (l, e) in s.lines.iter().zip(&s.end_lines) {
        put_varint(&mut raw, u64::from(e - l));
    }
    let mut prev = 0u32;
    for &b in &s.starts {
        put_varint(&mut raw, u64::from(b - prev));
        prev = b;
    }
    for (b, e) in s.starts.iter().zip(&s.ends) {
        put_varint(&mut raw, u64::from(e - b));
    }
    put_varint(&mut raw, u64::from(!s.values.is_empty()));
    for (&sym, &v) in s.syms.iter().zip(&s.values) {
        if is_literal(sym) {
            put_varint(&mut raw, u64::from(v));
        }
    }
    put_varint(&mut raw, s.names.len() as u64);
    for &v in &s.names {
        raw.extend_from_slice(&v.to_le_bytes());
    }
    crate::zstd_ctx::compress(&raw, LEVEL)
}

/// `None` when the bytes are not a stream record (damage, or another format).
pub fn decode(bytes: &[u8]) -> Option<SymbolStream> {
    let raw = crate::zstd_ctx::decompress(bytes, MAX_RAW)?;
    let mut at = 0;
    let mut next = || get_varint(&raw, &mut at);
    let n = next()?;
    if n > MAX_TOKENS {
        return None;
    }
    let n = n as usize;
    let dict_len = next()?;
    if dict_len > n as u64 {
        return None;
    }
    let dict: Vec<u32> = (0..dict_len)
        .map(|_| next().and_then(|d| u32::try_from(d).ok()))
        .collect::<Option<_>>()?;
    let mut s = SymbolStream {
        syms: Vec::with_capacity(n),
        lines: Vec::with_capacity(n),
        end_lines: Vec::with_capacity(n),
        starts: Vec::with_capacity(n),
        ends: Vec::with_capacity(n),
        values: Vec::new(),
        names: Vec::new(),
        derived: Default::default(),
    };
    for _ in 0..n {
        let r = next()?;
        let sym = if r & 1 == 1 {
            NAME_BIT | u32::try_from(r >> 1).ok().filter(|o| o & NAME_BIT == 0)?
        } else {
            *dict.get((r >> 1) as usize)?
        };
        s.syms.push(sym);
    }
    let mut acc = 0u32;
    for _ in 0..n {
        acc = acc.checked_add(u32::try_from(next()?).ok()?)?;
        s.lines.push(acc);
    }
    for i in 0..n {
        s.end_lines
            .push(s.lines[i].checked_add(u32::try_from(next()?).ok()?)?);
    }
    let mut acc = 0u32;
    for _ in 0..n {
        acc = acc.checked_add(u32::try_from(next()?).ok()?)?;
        s.starts.push(acc);
    }
    for i in 0..n {
        s.ends
            .push(s.starts[i].checked_add(u32::try_from(next()?).ok()?)?);
    }
    match next()? {
        0 => {}
        1 => {
            for i in 0..n {
                let v = if is_literal(s.syms[i]) {
                    u16::try_from(next()?).ok().filter(|&v| v != 0)?
                } else {
                    0
                };
                s.values.push(v);
            }
        }
        _ => return None,
    }
    if at < raw.len() {
        let count = get_varint(&raw, &mut at)?;
        if count > n as u64 {
            return None;
        }
        let count = count as usize;
        let bytes = raw.get(at..at + 2 * count)?;
        s.names = bytes
            .chunks_exact(2)
            .map(|b| u16::from_le_bytes([b[0], b[1]]))
            .collect();
        if s.names.contains(&0) {
            return None;
        }
        at += 2 * count;
    }
    (at == raw.len() && s.is_consistent()).then_some(s)
}

/// Most bytes a record may decompress to: far more than the largest
/// stream takes (a few bytes per token), so only damage is refused.
const MAX_RAW: u64 = 64 * MAX_TOKENS;

#[cfg(test)]
mod tests {
    use super::*;
    use engine::lang::Language;
    use engine::token::Tokenizer;

    #[test]
    fn streams_round_trip_and_damage_is_refused() {
        let src = b"int main(int argc, char **argv) {\n  /* hi */\n  return argc > 1 ? atoi(argv[1]) : \"x\\\ny\"[0];\n}\n";
        let tokens = Tokenizer::default().tokenize(Language::C, src).tokens;
        let s = SymbolStream::of_file(&tokens, src);
        assert!(s.values.iter().any(|&v| v != 0), "literal values kept");
        let bytes = encode(&s);
        assert_eq!(decode(&bytes), Some(s.clone()));
        let without = SymbolStream::from_tokens(&tokens);
        assert_eq!(decode(&encode(&without)), Some(without));
        assert_eq!(decode(&bytes[..bytes.len() / 2]), None);
        assert_eq!(decode(b"not a stream"), None);
        let empty = SymbolStream::default();
        assert_eq!(decode(&encode(&empty)), Some(empty));
    }

    #[test]
    fn records_written_before_names_were_kept_decode_without_them() {
        let src = b"fn add(a: u32, b: u32) -> u32 { a + b }\n";
        let tokens = Tokenizer::default().tokenize(Language::Rust, src).tokens;
        let s = SymbolStream::of_file(&tokens, src);
        assert_eq!(s.names.len(), 3, "add, a, b");
        // The older record: everything up to the name section.
        let mut older = s.clone();
        older.names.clear();
        let raw = zstd::stream::decode_all(&encode(&older)[..]).unwrap();
        let raw = &raw[..raw.len() - 1]; // the name count, 0
        let bytes = zstd::bulk::compress(raw, LEVEL).unwrap();
        assert_eq!(decode(&bytes), Some(older));
        // A name hash of 0, or names the symbols outrun, is damage.
        let mut bad = s.clone();
        bad.names[1] = 0;
        assert_eq!(decode(&encode(&bad)), None);
        bad.names.truncate(1);
        assert_eq!(decode(&encode(&bad)), None);
    }
}
