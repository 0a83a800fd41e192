//! Winnowed k-gram fingerprints over a normalized token stream.
//!
//! Each k-gram of tokens is hashed with a polynomial rolling hash. Names are
//! not hashed by their text but by *how far back the same name last appeared
//! inside the gram* (or "first use in this gram"), so a consistently renamed
//! copy produces the very same gram hashes as the original. Since this
//! encoding depends only on the gram's own tokens, the winnowing guarantee
//! still holds: two streams sharing a run of at least `w + k - 1` normalized
//! tokens share at least one fingerprint.
//!
//! Robust winnowing (Schleimer, Wilkerson & Aiken, 2003) keeps the previous
//! pick when a window's minimum is tied, which thins fingerprints in
//! repetitive code (tables, unrolled loops).

use crate::token::{class, Token, TokenKind};

/// Winnowing parameters: `k` tokens per gram, `w` grams per window, and
/// the fewest distinct tokens a gram needs to be fingerprinted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Params {
    pub k: usize,
    pub w: usize,
    /// Grams with fewer distinct tokens (names count as one token, each
    /// keyword, operator and literal class as its own) are never picked:
    /// `{N, N}, {N, N},` or `A, B, C, D,` look the same in every table and
    /// every enum of every project, so they only make false matches.
    pub min_distinct: usize,
}

impl Params {
    /// Chosen with the accuracy harness (see `docs/accuracy.md`).
    pub const DEFAULT: Params = Params {
        k: 24,
        w: 8,
        min_distinct: 6,
    };

    /// Shortest shared run of tokens that is certain to be found.
    pub fn guarantee(&self) -> usize {
        self.w + self.k - 1
    }
}

impl Default for Params {
    fn default() -> Self {
        Params::DEFAULT
    }
}

/// Bump when the token normalization or hashing changes: stored fingerprints
/// from another version would silently stop matching.
pub const NORMALIZATION_VERSION: u32 = 6;

/// One selected gram: its hash and where it sits.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Fingerprint {
    pub hash: u64,
    /// Index of the gram's first token.
    pub pos: u32,
    /// Lines of the gram's first and last token.
    pub first_line: u32,
    pub last_line: u32,
}

const BASE: u64 = 0x9e37_79b9_7f4a_7c15 | 1;
const NEW_NAME: u64 = 0x6a09_e667_f3bc_c909;

/// Code of a name whose previous use is `distance` tokens back in the same gram.
fn back_code(distance: usize) -> u64 {
    mix(0x5851_f42d_4c95_7f2d ^ distance as u64)
}

/// Final avalanche so that the minimum of a window is an unbiased pick.
fn mix(mut x: u64) -> u64 {
    x ^= x >> 30;
    x = x.wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x ^= x >> 27;
    x = x.wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

fn fixed_code(code: u32) -> u64 {
    mix(code as u64 | 1 << 40)
}

/// Per token: distance back to the previous use of the same name (0 = none),
/// and the index of its next use (usize::MAX = none).
fn name_links(tokens: &[Token]) -> (Vec<u32>, Vec<usize>) {
    let mut back = vec![0u32; tokens.len()];
    let mut next = vec![usize::MAX; tokens.len()];
    // One entry per name of the file, asked once per name token: a hasher
    // made for small integer keys (SipHash was 2 % of a scan of new code).
    let mut last: rustc_hash::FxHashMap<u32, usize> = Default::default();
    for (i, t) in tokens.iter().enumerate() {
        if t.kind == TokenKind::Ident {
            if let Some(prev) = last.insert(t.code, i) {
                back[i] = (i - prev) as u32;
                next[prev] = i;
            }
        }
    }
    (back, next)
}

/// Hashes of every k-gram, position `s` for the gram `s..s+k`.
pub fn gram_hashes(tokens: &[Token], k: usize) -> Vec<u64> {
    assert!(k >= 1, "k must be at least 1");
    if tokens.len() < k {
        return Vec::new();
    }
    let (back, next) = name_links(tokens);
    let fixed: Vec<u64> = tokens.iter().map(|t| fixed_code(t.code)).collect();
    // Code of token i as seen from a gram starting at s.
    let code = |i: usize, s: usize| -> u64 {
        if tokens[i].kind == TokenKind::Fixed {
            fixed[i]
        } else if back[i] != 0 && i - back[i] as usize >= s {
            back_code(back[i] as usize)
        } else {
            NEW_NAME
        }
    };
    let mut pow = vec![1u64; k];
    for j in 1..k {
        pow[j] = pow[j - 1].wrapping_mul(BASE);
    }
    let mut h = (0..k).fold(0u64, |h, i| h.wrapping_mul(BASE).wrapping_add(code(i, 0)));
    let mut out = Vec::with_capacity(tokens.len() - k + 1);
    out.push(mix(h));
    for s in 0..tokens.len() - k {
        h = h.wrapping_sub(code(s, s).wrapping_mul(pow[k - 1]));
        h = h.wrapping_mul(BASE).wrapping_add(code(s + k, s + 1));
        // The next use of token s's name loses its back-reference once s leaves.
        let n = next[s];
        if n < s + k {
            let coeff = pow[k - 1 - (n - s - 1)];
            h = h
                .wrapping_add(NEW_NAME.wrapping_mul(coeff))
                .wrapping_sub(back_code(n - s).wrapping_mul(coeff));
        }
        out.push(mix(h));
    }
    out
}

/// Positions picked by robust winnowing over `hashes` with window `w`.
/// A stream shorter than one window still yields its minimum.
pub fn winnow_positions(hashes: &[u64], w: usize) -> Vec<usize> {
    assert!(w >= 1, "w must be at least 1");
    let mut picks = Vec::new();
    if hashes.is_empty() {
        return picks;
    }
    let w = w.min(hashes.len());
    let rightmost_min = |from: usize, to: usize| {
        (from..to).fold(
            from,
            |best, i| if hashes[i] <= hashes[best] { i } else { best },
        )
    };
    let mut min = rightmost_min(0, w);
    picks.push(min);
    for end in w..hashes.len() {
        let start = end + 1 - w;
        if min < start {
            min = rightmost_min(start, end + 1);
            picks.push(min);
        } else if hashes[end] < hashes[min] {
            min = end;
            picks.push(min);
        }
    }
    picks
}

/// Class of a token for [`informative`]: every name is one class.
fn distinct_slot(t: &Token) -> usize {
    const NAME: u32 = 0x4e41_4d45;
    let c = if t.kind == TokenKind::Ident {
        NAME
    } else {
        t.code
    };
    // 4,096 slots: two codes sharing one slot merely count once, the same
    // way on every machine, so indexing and scanning agree.
    (c.wrapping_mul(0x9e37_79b1) >> 20) as usize
}

/// For each k-gram, whether it holds at least `min_distinct` (capped at k)
/// distinct token classes. One pass with a sliding count.
pub fn informative(tokens: &[Token], k: usize, min_distinct: usize) -> Vec<bool> {
    if tokens.len() < k || k == 0 {
        return Vec::new();
    }
    let need = min_distinct.min(k);
    let mut counts = vec![0u16; 4096];
    let mut distinct = 0usize;
    let slots: Vec<usize> = tokens.iter().map(distinct_slot).collect();
    for &s in &slots[..k] {
        distinct += usize::from(counts[s] == 0);
        counts[s] += 1;
    }
    let mut out = Vec::with_capacity(tokens.len() - k + 1);
    out.push(distinct >= need);
    for start in 0..tokens.len() - k {
        let (gone, new) = (slots[start], slots[start + k]);
        counts[gone] -= 1;
        distinct -= usize::from(counts[gone] == 0);
        distinct += usize::from(counts[new] == 0);
        counts[new] += 1;
        out.push(distinct >= need);
    }
    out
}

/// Fingerprints of a token stream. Uninformative grams (see
/// [`Params::min_distinct`]) take the largest hash, so they lose every
/// window, and are dropped if a window holds nothing else.
pub fn fingerprint(tokens: &[Token], params: Params) -> Vec<Fingerprint> {
    let mut hashes = gram_hashes(tokens, params.k);
    let keep = informative(tokens, params.k, params.min_distinct);
    for (h, ok) in hashes.iter_mut().zip(&keep) {
        if !ok {
            *h = u64::MAX;
        }
    }
    winnow_positions(&hashes, params.w)
        .into_iter()
        .filter(|&pos| keep[pos])
        .map(|pos| Fingerprint {
            hash: hashes[pos],
            pos: pos as u32,
            first_line: tokens[pos].line,
            last_line: tokens[pos + params.k - 1].end_line,
        })
        .collect()
}

/// Fingerprints of a whole file: [`fingerprint`]'s, and for data tables
/// [`table_fingerprints`], in position order. What the index stores and
/// what a scan looks up.
/// Keeps the fingerprints whose hash is a multiple of `every` (all for 1):
/// a sparser set of seeds that both sides pick alike.
pub fn sample_seeds(fps: &mut Vec<Fingerprint>, every: u64) {
    if every > 1 {
        fps.retain(|f| f.hash % every == 0);
    }
}

pub fn fingerprint_file(tokens: &[Token], bytes: &[u8], params: Params) -> Vec<Fingerprint> {
    let mut out = fingerprint(tokens, params);
    let tables = table_fingerprints(tokens, bytes, params);
    if !tables.is_empty() {
        out.extend(tables);
        out.sort_unstable_by_key(|f| (f.pos, f.hash));
        out.dedup_by_key(|f| f.pos);
    }
    out
}

/// Fingerprints of the grams [`fingerprint`] leaves out as uninformative
/// that are *data*: a third of their tokens literals, three distinct values
/// at least. Their hash keeps the literals' values, so a table copied value
/// for value matches and another table of the same shape does not. Winnowed
/// among themselves with the same window.
pub fn table_fingerprints(tokens: &[Token], bytes: &[u8], params: Params) -> Vec<Fingerprint> {
    let k = params.k;
    if tokens.len() < k {
        return Vec::new();
    }
    let keep = informative(tokens, k, params.min_distinct);
    if keep.iter().all(|&informative| informative) {
        return Vec::new();
    }
    // Per token: the literal's value, or none.
    let values: Vec<Option<u32>> = tokens
        .iter()
        .map(|t| {
            let literal = t.kind == TokenKind::Fixed
                && matches!(t.code, class::STRING | class::NUMBER | class::CHAR);
            literal.then(|| {
                let text = bytes.get(t.start as usize..t.end as usize).unwrap_or(&[]);
                crate::token::text_code(crate::token::literal_text(text))
            })
        })
        .collect();
    let structure = gram_hashes(tokens, k);
    let mut hashes = vec![u64::MAX; structure.len()];
    let mut literals = 0usize;
    let mut rolling = 0u64;
    let mut pow = 1u64;
    for _ in 1..k {
        pow = pow.wrapping_mul(BASE);
    }
    let code = |v: Option<u32>| v.map_or(0, |v| mix(u64::from(v) | 1 << 41));
    for (i, v) in values.iter().enumerate() {
        if i >= k {
            rolling = rolling.wrapping_sub(code(values[i - k]).wrapping_mul(pow));
            literals -= usize::from(values[i - k].is_some());
        }
        rolling = rolling.wrapping_mul(BASE).wrapping_add(code(*v));
        literals += usize::from(v.is_some());
        if i + 1 < k {
            continue;
        }
        let start = i + 1 - k;
        if keep[start] || literals * 3 < k {
            continue;
        }
        let mut distinct: Vec<u32> = values[start..=i].iter().flatten().copied().collect();
        distinct.sort_unstable();
        distinct.dedup();
        if distinct.len() >= 3 {
            hashes[start] = mix(structure[start] ^ rolling);
        }
    }
    winnow_positions(&hashes, params.w)
        .into_iter()
        .filter(|&pos| hashes[pos] != u64::MAX)
        .map(|pos| Fingerprint {
            hash: hashes[pos],
            pos: pos as u32,
            first_line: tokens[pos].line,
            last_line: tokens[pos + k - 1].end_line,
        })
        .collect()
}

/// Every gram (not only the winnowed ones) starting within `radius` tokens
/// of one of `centers`, except those at `exclude` positions; in position
/// order. The matcher looks these up around the hits of the winnowed
/// fingerprints: an origin's fingerprint is then found wherever its gram
/// lies inside the copy, not only where the copy's own winnowing picked the
/// same gram, which is what loses short and edited copies.
pub fn grams_near(
    tokens: &[Token],
    params: Params,
    centers: &[u32],
    radius: u32,
    exclude: &[u32],
) -> Vec<Fingerprint> {
    let k = params.k;
    if tokens.len() < k || centers.is_empty() {
        return Vec::new();
    }
    let last_start = (tokens.len() - k) as u32;
    let mut wanted = vec![false; last_start as usize + 1];
    for &c in centers {
        let lo = c.saturating_sub(radius);
        let hi = c.saturating_add(radius).min(last_start);
        for p in lo..=hi {
            wanted[p as usize] = true;
        }
    }
    for &p in exclude {
        if let Some(x) = wanted.get_mut(p as usize) {
            *x = false;
        }
    }
    let keep = informative(tokens, k, params.min_distinct);
    let hashes = gram_hashes(tokens, k);
    wanted
        .iter()
        .enumerate()
        .filter(|(pos, w)| **w && keep[*pos])
        .map(|(pos, _)| Fingerprint {
            hash: hashes[pos],
            pos: pos as u32,
            first_line: tokens[pos].line,
            last_line: tokens[pos + k - 1].end_line,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn tables_match_value_for_value_and_only_so() {
        use crate::lang::Language;
        use crate::token::Tokenizer;
        let table = |seed: u32| -> String {
            let mut s = String::from("TABLE = [\n");
            for i in 0..200u32 {
                let v = (i * 7919 + seed * 104_729) % 65_521;
                s += &format!("    ({}, {}, {}),\n", v, v % 97, (v * 31) % 1000);
            }
            s + "]\n"
        };
        let params = Params::DEFAULT;
        let fps = |src: &str| {
            let tokens = Tokenizer::default()
                .tokenize(Language::Python, src.as_bytes())
                .tokens;
            // Only the grams around `TABLE = [` are informative code.
            assert!(fingerprint(&tokens, params).len() <= 3);
            table_fingerprints(&tokens, src.as_bytes(), params)
        };
        let a = fps(&table(1));
        assert!(a.len() > 50, "{}", a.len());
        // The same table inside another file: most fingerprints shared.
        let copy = fps(&format!("import os\n\n{}", table(1)));
        let set: std::collections::HashSet<u64> = a.iter().map(|f| f.hash).collect();
        let shared = copy.iter().filter(|f| set.contains(&f.hash)).count();
        assert!(shared * 10 >= a.len() * 9, "{shared} of {}", a.len());
        // Another table of the same shape: nothing shared.
        assert!(fps(&table(2)).iter().all(|f| !set.contains(&f.hash)));
        // Repeated values are not a table worth a fingerprint.
        assert!(fps(&"X = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0]\n".repeat(40)).is_empty());
    }

    #[test]
    fn grams_near_covers_the_radius_and_skips_excluded() {
        let tokens: Vec<Token> = (0..40).map(|i| tok(TokenKind::Fixed, i % 7)).collect();
        let all = gram_hashes(&tokens, 5);
        let params = Params {
            k: 5,
            w: 4,
            min_distinct: 0,
        };
        let near = grams_near(&tokens, params, &[10, 33], 2, &[11]);
        let positions: Vec<u32> = near.iter().map(|f| f.pos).collect();
        // 33 + 2 is past the last gram start (35 is the last, 40 - 5).
        assert_eq!(positions, [8, 9, 10, 12, 31, 32, 33, 34, 35]);
        assert!(near.iter().all(|f| f.hash == all[f.pos as usize]));
        assert!(grams_near(&tokens, params, &[], 2, &[]).is_empty());
    }

    fn tok(kind: TokenKind, code: u32) -> Token {
        Token {
            kind,
            code,
            start: 0,
            end: 0,
            line: 1,
            end_line: 1,
        }
    }

    /// The straightforward O(k) hash of one gram, to check the rolling one.
    fn direct_gram_hash(tokens: &[Token]) -> u64 {
        let mut h = 0u64;
        for (j, t) in tokens.iter().enumerate() {
            let prev = tokens[..j].iter().rposition(|p| {
                p.kind == TokenKind::Ident && t.kind == TokenKind::Ident && p.code == t.code
            });
            let c = match (t.kind, prev) {
                (TokenKind::Fixed, _) => fixed_code(t.code),
                (TokenKind::Ident, Some(p)) => back_code(j - p),
                (TokenKind::Ident, None) => NEW_NAME,
            };
            h = h.wrapping_mul(BASE).wrapping_add(c);
        }
        mix(h)
    }

    fn token_strategy() -> impl Strategy<Value = Token> {
        (any::<bool>(), 0u32..12).prop_map(|(ident, code)| {
            tok(
                if ident {
                    TokenKind::Ident
                } else {
                    TokenKind::Fixed
                },
                code,
            )
        })
    }

    /// Whether two token streams have a fingerprint hash in common.
    fn share_a_fingerprint(a: &[Token], b: &[Token], params: Params) -> bool {
        let fa: std::collections::HashSet<u64> =
            fingerprint(a, params).iter().map(|f| f.hash).collect();
        fingerprint(b, params).iter().any(|f| fa.contains(&f.hash))
    }

    fn stream(len: std::ops::Range<usize>) -> impl Strategy<Value = Vec<Token>> {
        prop::collection::vec(token_strategy(), len)
    }

    /// Renames every name through a bijection, as a consistent rename does.
    fn rename(tokens: &[Token], salt: u32) -> Vec<Token> {
        tokens
            .iter()
            .map(|t| match t.kind {
                TokenKind::Ident => {
                    tok(TokenKind::Ident, t.code.wrapping_mul(2_654_435_761) ^ salt)
                }
                TokenKind::Fixed => *t,
            })
            .collect()
    }

    proptest! {
        #[test]
        fn rolling_hash_equals_direct_hash(tokens in stream(0..80), k in 1usize..25) {
            let rolled = gram_hashes(&tokens, k);
            let direct: Vec<u64> = tokens.windows(k).map(direct_gram_hash).collect();
            prop_assert_eq!(rolled, direct);
        }

        /// The winnowing guarantee, with the copy consistently renamed.
        #[test]
        fn shared_run_shares_a_fingerprint(
            before_a in stream(0..60),
            after_a in stream(0..60),
            before_b in stream(0..60),
            after_b in stream(0..60),
            k in 2usize..20,
            w in 1usize..20,
            extra in 0usize..10,
            shared in stream(60..80),
            salt in any::<u32>(),
        ) {
            let params = Params { k, w, min_distinct: 0 };
            let run = &shared[..(params.guarantee() + extra).min(shared.len())];
            let a = [&before_a[..], run, &after_a[..]];
            let b = [&before_b[..], &rename(run, salt)[..], &after_b[..]];
            prop_assert!(share_a_fingerprint(&a.concat(), &b.concat(), params));
        }

        /// With the filter on, the guarantee holds for runs whose grams are
        /// all informative.
        #[test]
        fn shared_informative_run_shares_a_fingerprint(
            before_a in stream(0..60),
            after_a in stream(0..60),
            before_b in stream(0..60),
            after_b in stream(0..60),
            k in 10usize..24,
            w in 1usize..12,
            shared in stream(60..80),
            salt in any::<u32>(),
        ) {
            let params = Params { k, w, min_distinct: 6 };
            let run = &shared[..params.guarantee().min(shared.len())];
            prop_assume!(informative(run, k, 6).iter().all(|x| *x));
            let a = [&before_a[..], run, &after_a[..]];
            let b = [&before_b[..], &rename(run, salt)[..], &after_b[..]];
            prop_assert!(share_a_fingerprint(&a.concat(), &b.concat(), params));
        }

        #[test]
        fn informative_matches_a_direct_count(tokens in stream(0..80), k in 1usize..25, need in 0usize..10) {
            let fast = informative(&tokens, k, need);
            let direct: Vec<bool> = tokens
                .windows(k)
                .map(|g| {
                    let set: std::collections::HashSet<usize> = g.iter().map(distinct_slot).collect();
                    set.len() >= need.min(k)
                })
                .collect();
            prop_assert_eq!(fast, direct);
        }

        #[test]
        fn every_window_holds_a_pick(hashes in prop::collection::vec(0u64..50, 1..200), w in 1usize..30) {
            let picks = winnow_positions(&hashes, w);
            let w = w.min(hashes.len());
            for start in 0..=hashes.len() - w {
                let lo = *hashes[start..start + w].iter().min().unwrap();
                prop_assert!(picks.iter().any(|&p| p >= start && p < start + w && hashes[p] == lo));
            }
        }
    }

    #[test]
    fn tables_and_enum_lists_are_not_fingerprinted() {
        let f = |c| tok(TokenKind::Fixed, c);
        let i = |c| tok(TokenKind::Ident, c);
        // `{N, N}, {N, N}, …`: four classes.
        let table: Vec<Token> = (0..60)
            .map(|n| match n % 6 {
                0 => f(1),
                2 => f(3),
                4 => f(4),
                5 => f(3),
                _ => f(2),
            })
            .collect();
        // `A, B, C, …`: a name and a comma.
        let list: Vec<Token> = (0..60)
            .map(|n| if n % 2 == 0 { i(n) } else { f(3) })
            .collect();
        let code: Vec<Token> = (0..60u32).map(|n| f(n % 13)).collect();
        assert!(fingerprint(&table, Params::DEFAULT).is_empty());
        assert!(fingerprint(&list, Params::DEFAULT).is_empty());
        assert!(!fingerprint(&code, Params::DEFAULT).is_empty());
    }

    #[test]
    fn renaming_keeps_hashes_but_reuse_pattern_matters() {
        let f = |c| tok(TokenKind::Fixed, c);
        let i = |c| tok(TokenKind::Ident, c);
        let a = [i(1), f(9), i(2), f(8), i(1)];
        let renamed = [i(7), f(9), i(5), f(8), i(7)];
        let other_pattern = [i(7), f(9), i(5), f(8), i(5)];
        assert_eq!(gram_hashes(&a, 5), gram_hashes(&renamed, 5));
        assert_ne!(gram_hashes(&a, 5), gram_hashes(&other_pattern, 5));
    }

    #[test]
    fn robust_winnowing_keeps_tied_pick() {
        // All equal: one pick per window that slides past the previous pick.
        let picks = winnow_positions(&[5; 10], 4);
        assert_eq!(picks, vec![3, 7]);
        assert!(winnow_positions(&[], 4).is_empty());
        assert_eq!(winnow_positions(&[3, 1, 2], 8), vec![1]);
    }

    #[test]
    fn fingerprints_carry_lines_of_the_whole_gram() {
        let tokens: Vec<Token> = (0..30)
            .map(|n| Token {
                line: n / 3 + 1,
                end_line: n / 3 + 1,
                ..tok(TokenKind::Fixed, n)
            })
            .collect();
        let params = Params {
            k: 6,
            w: 4,
            min_distinct: 0,
        };
        for fp in fingerprint(&tokens, params) {
            assert_eq!(fp.first_line, tokens[fp.pos as usize].line);
            assert_eq!(fp.last_line, tokens[fp.pos as usize + 5].line);
        }
        assert!(fingerprint(&tokens[..5], params).is_empty());
    }
}
