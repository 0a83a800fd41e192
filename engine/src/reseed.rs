//! Seeds found without the index, in the stream of an origin the target
//! already aligned with.
//!
//! An alignment stops where the copy was edited more than its band or its
//! X-drop allows, and the copy often goes on after the edit: the next
//! release of the same file, a vendored library patched here and there.
//! The origin's stream is already in hand, so the rest of the copy can be
//! found in it directly: the target's fingerprint grams that no alignment
//! explains yet are looked for at every position of the origin (not only
//! where the origin's winnowing kept a fingerprint). Each gram found is a
//! seed like an index hit; chained with the origin's other hits, it is
//! extended and verified the same way. What that explains needs no index
//! lookup, and a seed at every origin position also finds a copy's ends,
//! where winnowing leaves up to `w - 1` tokens without an origin
//! fingerprint.

use rustc_hash::FxHashMap;

use crate::align::{Anchor, Hit};
use crate::stream::{compatible, SymbolStream, NAME_BIT};

/// A symbol as the index's fingerprints see it: names are one class (two
/// symbols have the same class exactly when they are
/// [`compatible`]).
#[inline]
fn class_of(sym: u32) -> u32 {
    if sym & NAME_BIT != 0 {
        NAME_BIT
    } else {
        sym
    }
}

const BASE: u64 = 0x9E37_79B9_7F4A_7C15;

#[inline]
fn mix(sym: u32) -> u64 {
    u64::from(class_of(sym)).wrapping_add(1)
}

/// The polynomial hash of a gram's symbol classes. Its low bits depend on
/// few inputs, so the keys are spread before a hash table sees them.
#[inline]
fn spread(h: u64) -> u64 {
    let h = (h ^ (h >> 33)).wrapping_mul(0xff51_afd7_ed55_8ccd);
    h ^ (h >> 33)
}

/// The key of the gram at every start position of `syms` (a rolling hash
/// over the symbols' classes), `syms.len() - k + 1` of them, in order.
pub fn gram_keys(syms: &[u32], k: usize) -> impl Iterator<Item = u64> + '_ {
    let top = (1..k).fold(1u64, |p, _| p.wrapping_mul(BASE));
    let first = (k > 0 && syms.len() >= k).then(|| {
        syms[..k]
            .iter()
            .fold(0u64, |h, &s| h.wrapping_mul(BASE).wrapping_add(mix(s)))
    });
    let rest = if first.is_some() { k..syms.len() } else { 0..0 };
    let mut h = first.unwrap_or(0);
    first.into_iter().map(spread).chain(rest.map(move |i| {
        h = h
            .wrapping_sub(mix(syms[i - k]).wrapping_mul(top))
            .wrapping_mul(BASE)
            .wrapping_add(mix(syms[i]));
        spread(h)
    }))
}

/// The target's grams at its fingerprints, by key: built once per target
/// and asked once per origin it aligned with.
pub struct TargetGrams {
    k: usize,
    anchors: Vec<Anchor>,
    by_key: FxHashMap<u64, Vec<u32>>,
    /// One bit per key's leading `filter_bits` bits: most origin grams are
    /// none of the target's, and a bit answers that before the table does
    /// (the table of a large target is far out of cache).
    filter: Vec<u64>,
    filter_bits: u32,
}

impl TargetGrams {
    /// The `k`-grams of `target` starting at `anchors`.
    pub fn new(target: &SymbolStream, anchors: Vec<Anchor>, k: usize) -> TargetGrams {
        let mut by_key: FxHashMap<u64, Vec<u32>> = FxHashMap::default();
        for (n, a) in anchors.iter().enumerate() {
            let p = a.pos as usize;
            if p + k <= target.len() {
                let key = gram_keys(&target.syms[p..p + k], k)
                    .next()
                    .expect("one gram");
                by_key.entry(key).or_default().push(n as u32);
            }
        }
        // About 16 bits per key, within 2^12 ..= 2^23 bits.
        let filter_bits = (by_key.len().max(1) * 16)
            .next_power_of_two()
            .trailing_zeros()
            .clamp(12, 23);
        let mut filter = vec![0u64; 1 << (filter_bits - 6)];
        for key in by_key.keys() {
            let bit = key >> (64 - filter_bits);
            filter[(bit >> 6) as usize] |= 1 << (bit & 63);
        }
        TargetGrams {
            k,
            anchors,
            by_key,
            filter,
            filter_bits,
        }
    }

    #[inline]
    fn may_hold(&self, key: u64) -> bool {
        let bit = key >> (64 - self.filter_bits);
        self.filter[(bit >> 6) as usize] & (1 << (bit & 63)) != 0
    }

    /// Where in `origin` the grams whose anchor is `open` lie: one hit per
    /// place, the symbols checked one by one so that a key collision gives
    /// nothing. A gram found at more than `max_repeats` places gives
    /// nothing either: it says nothing about where a copy is.
    pub fn hits(
        &self,
        target: &SymbolStream,
        origin: &SymbolStream,
        max_repeats: usize,
        open: impl Fn(&Anchor) -> bool,
    ) -> Vec<Hit> {
        let k = self.k;
        if self.by_key.is_empty() || origin.len() < k {
            return Vec::new();
        }
        let same =
            |p: usize, q: usize| (0..k).all(|x| compatible(target.syms[p + x], origin.syms[q + x]));
        // Per key, the origin places found (at most one more than allowed).
        let mut places: FxHashMap<u64, Vec<u32>> = FxHashMap::default();
        for (q, key) in gram_keys(&origin.syms, k).enumerate() {
            if !self.may_hold(key) {
                continue;
            }
            let Some(ns) = self.by_key.get(&key) else {
                continue;
            };
            let at = places.entry(key).or_default();
            if at.len() <= max_repeats && same(self.anchors[ns[0] as usize].pos as usize, q) {
                at.push(q as u32);
            }
        }
        let mut out = Vec::new();
        for (key, at) in places {
            if at.is_empty() || at.len() > max_repeats {
                continue;
            }
            for &n in &self.by_key[&key] {
                let t = self.anchors[n as usize];
                if !open(&t) || !same(t.pos as usize, at[0] as usize) {
                    continue;
                }
                out.extend(at.iter().map(|&q| {
                    let q = q as usize;
                    Hit {
                        target: t,
                        origin: Anchor {
                            pos: q as u32,
                            first_line: origin.lines[q],
                            last_line: origin.end_lines[q + k - 1],
                        },
                    }
                }));
            }
        }
        out.sort_unstable();
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stream(syms: &[u32]) -> SymbolStream {
        SymbolStream {
            syms: syms.to_vec(),
            lines: (1..=syms.len() as u32).collect(),
            end_lines: (1..=syms.len() as u32).collect(),
            starts: vec![0; syms.len()],
            ends: vec![0; syms.len()],
            values: Vec::new(),
            names: Vec::new(),
            derived: Default::default(),
        }
    }

    fn hits(
        t: &SymbolStream,
        o: &SymbolStream,
        anchors: &[Anchor],
        k: usize,
        max: usize,
    ) -> Vec<Hit> {
        TargetGrams::new(t, anchors.to_vec(), k).hits(t, o, max, |_| true)
    }

    fn anchor(pos: u32) -> Anchor {
        Anchor {
            pos,
            first_line: pos + 1,
            last_line: pos + 1,
        }
    }

    #[test]
    fn rolling_keys_equal_keys_computed_from_scratch() {
        let syms: Vec<u32> = (0..40).map(|i| (i * 7 % 13) as u32).collect();
        let keys: Vec<u64> = gram_keys(&syms, 5).collect();
        assert_eq!(keys.len(), 36);
        for (i, key) in keys.iter().enumerate() {
            assert_eq!(Some(*key), gram_keys(&syms[i..i + 5], 5).next());
        }
        assert_eq!(gram_keys(&syms[..4], 5).count(), 0);
        assert_ne!(keys[0], keys[1]);
    }

    #[test]
    fn finds_a_renamed_gram_anywhere_in_the_origin_and_only_there() {
        // Target: grams with names 0 and 1; origin: the same shape with
        // other name ordinals, after some unrelated tokens.
        let target = stream(&[5, NAME_BIT, 6, NAME_BIT | 1, 7, 8]);
        let origin = stream(&[9, 9, 3, 5, NAME_BIT | 4, 6, NAME_BIT | 2, 7, 8]);
        let found = hits(&target, &origin, &[anchor(0), anchor(1), anchor(2)], 4, 8);
        let pairs: Vec<(u32, u32)> = found.iter().map(|h| (h.target.pos, h.origin.pos)).collect();
        assert_eq!(pairs, vec![(0, 3), (1, 4), (2, 5)]);
        assert_eq!(found[0].origin.first_line, 4);
        assert_eq!(found[0].origin.last_line, 7);
        // A gram of another shape is not found.
        let other = stream(&[5, 6, NAME_BIT, 7, 8]);
        assert!(hits(&other, &origin, &[anchor(0)], 4, 8).is_empty());
    }

    #[test]
    fn grams_the_origin_repeats_too_often_give_nothing() {
        let origin = stream(&[1, 2, 1, 2, 1, 2, 1, 2, 1, 2]);
        let target = stream(&[1, 2, 1, 2]);
        assert!(hits(&target, &origin, &[anchor(0)], 4, 2).is_empty());
        assert_eq!(hits(&target, &origin, &[anchor(0)], 4, 8).len(), 4);
    }

    #[test]
    fn a_gram_the_target_holds_twice_is_found_for_both() {
        let target = stream(&[1, 2, 3, 4, 9, 1, 2, 3, 4]);
        let origin = stream(&[7, 1, 2, 3, 4]);
        let found = hits(&target, &origin, &[anchor(0), anchor(5)], 4, 8);
        let pairs: Vec<(u32, u32)> = found.iter().map(|h| (h.target.pos, h.origin.pos)).collect();
        assert_eq!(pairs, vec![(0, 1), (5, 1)]);
        // Only where the caller still looks.
        let grams = TargetGrams::new(&target, vec![anchor(0), anchor(5)], 4);
        let open_after_3: Vec<u32> = grams
            .hits(&target, &origin, 8, |a| a.pos > 3)
            .iter()
            .map(|h| h.target.pos)
            .collect();
        assert_eq!(open_after_3, vec![5]);
    }
}
