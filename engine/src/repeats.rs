//! Structure a target repeats within itself.
//!
//! A renamed copy is recognised by its structure, and structure is only
//! evidence where it is rare. The corpus cannot say how rare a structure
//! is (a few projects, or many releases of one, make every count
//! unreliable), but the target itself can: a stretch whose shape the same
//! file has again elsewhere (a test file's twentieth table-driven loop,
//! the next `impl Display`, another `use` block) is the file's own idiom,
//! and an origin that has the idiom too says nothing about where the
//! stretch came from unless the text agrees. A copy of another project's
//! function sits once in the file that took it.

use rustc_hash::{FxHashMap, FxHashSet};

use crate::align::Range;
use crate::reseed::gram_keys;
use crate::stream::{is_name, SymbolStream, NAME_BIT};

/// Tokens per gram compared: long enough that a gram found twice is a
/// shape the file repeats, not a run of common punctuation; short enough
/// that a repeated loop or `impl` of 12 to 20 tokens shows up whole.
/// On the accuracy harness 10 and 12 took the same false findings, 16
/// fewer.
const REPEAT_GRAM: usize = 10;

/// How far from a stretch, in tokens, a repeat of its shape counts: about
/// a source file's worth on each side. An amalgamation (SQLite's 250,000
/// lines) has every shape somewhere; counted over the whole of it, the
/// rule took 3,747 lines of copies out of `sqlite3.c` where it took
/// 1,453 within 5,000 tokens and 1,301 within 2,000 (mostly spans whose
/// target side is several times its origin's). On the harness 2,000,
/// 5,000 and 10,000 left 0.158, 0.156 and 0.156 false findings per 1,000
/// pairs, on the real cases 77, 75 and 72 findings in own-code files.
const NEIGHBOURHOOD: usize = 5_000;

/// Fewest distinct symbol classes of a gram that counts. A list of names
/// (`OTH, ASC, OTH, ...`) or of numbers is the same two classes wherever
/// it is, so any other list in the file would make a renamed table look
/// repeated: on the harness, counting them lost two renamed 50-line
/// copies of a class table, and 4, 5 and 6 lost none.
const MIN_CLASSES: usize = 4;

/// Whether `gram` has at least [`MIN_CLASSES`] distinct symbol classes.
fn varied(gram: &[u32]) -> bool {
    let mut seen: Vec<u32> = Vec::with_capacity(MIN_CLASSES);
    for &sym in gram {
        let class = if is_name(sym) { NAME_BIT } else { sym };
        if !seen.contains(&class) {
            seen.push(class);
            if seen.len() >= MIN_CLASSES {
                return true;
            }
        }
    }
    false
}

/// Most tokens of a file a [`Repeats`] table covers whole (nearly every
/// file: the table is built once per target). A larger file's stretches
/// are judged each from the grams around it ([`share_around`]), so memory
/// stays bounded whatever the file's size. A table of the neighbourhood
/// of every stretch, for every file, cost the copies tree of the scan
/// bench 1.06 CPU (SQLite's amalgamation has hundreds of stretches to
/// judge); tables of windows around them rebuilt as the stretches move,
/// 1.10; this, 1.02 against a table of every file whole.
const TABLE_TOKENS: usize = 1 << 18;

/// The varied grams of [`REPEAT_GRAM`] symbol classes (names alike) of
/// one target, each with the positions it starts at; built on first use.
#[derive(Default)]
pub struct Repeats {
    at: FxHashMap<u64, Vec<u32>>,
    /// The key of the gram at each position, [`NOT_VARIED`] for a gram
    /// that does not count. Kept for a file of any size: a large file's
    /// stretches each hashed their neighbourhood's grams again (a tenth of
    /// the scan of SQLite's amalgamation), and the keys take 8 bytes a
    /// token where the file's stream already takes more.
    keys: Vec<u64>,
}

/// The key of a gram that does not count. A varied gram whose key is this
/// is given the next one down: one key in 2^64 shares a slot.
const NOT_VARIED: u64 = u64::MAX;

impl Repeats {
    /// Of the grams lying wholly within `r` of `target`, the share that
    /// the target also has wholly outside `r`, within [`NEIGHBOURHOOD`]
    /// tokens of it (0 when `r` is shorter than a gram). `target` is the
    /// same at every call.
    pub fn share_elsewhere(&mut self, target: &SymbolStream, r: Range) -> f64 {
        let k = REPEAT_GRAM;
        let (first, last) = (r.first as usize, r.last as usize);
        let n = target.len();
        if last >= n || last + 1 < first + k {
            return 0.0;
        }
        let (lo, hi) = (
            first.saturating_sub(NEIGHBOURHOOD),
            (last + 1 + NEIGHBOURHOOD).min(n),
        );
        if self.keys.is_empty() {
            self.build(target);
        }
        if n > TABLE_TOKENS {
            return share_around(&self.keys, (first, last), (lo, hi), k);
        }
        let (mut inside, mut elsewhere) = (0usize, 0usize);
        for p in first..=last + 1 - k {
            let key = self.keys[p];
            if key == NOT_VARIED {
                continue;
            }
            inside += 1;
            let at = &self.at[&key];
            // Before the stretch: a start in lo..=first - k.
            let from = at.partition_point(|&q| (q as usize) < lo);
            let before = at.get(from).is_some_and(|&q| q as usize + k <= first);
            // After it: a start in last + 1..=hi - k.
            let from = at.partition_point(|&q| q as usize <= last);
            let after = at.get(from).is_some_and(|&q| q as usize + k <= hi);
            elsewhere += usize::from(before || after);
        }
        if inside == 0 {
            0.0
        } else {
            elsewhere as f64 / inside as f64
        }
    }

    fn build(&mut self, target: &SymbolStream) {
        let syms = &target.syms;
        self.keys = gram_keys(syms, REPEAT_GRAM)
            .zip(syms.windows(REPEAT_GRAM))
            .map(|(key, gram)| {
                if varied(gram) {
                    key.min(NOT_VARIED - 1)
                } else {
                    NOT_VARIED
                }
            })
            .collect();
        self.at.clear();
        if syms.len() > TABLE_TOKENS {
            return;
        }
        for (i, &key) in self.keys.iter().enumerate() {
            if key != NOT_VARIED {
                self.at.entry(key).or_default().push(i as u32);
            }
        }
    }
}

/// [`Repeats::share_elsewhere`] for a file too large for a table: the
/// grams of `lo..hi` only (`keys` are the file's), in a set for this one
/// stretch.
fn share_around(
    keys: &[u64],
    (first, last): (usize, usize),
    (lo, hi): (usize, usize),
    k: usize,
) -> f64 {
    let mut around: FxHashSet<u64> = FxHashSet::default();
    let mut inside: Vec<u64> = Vec::new();
    for (i, &key) in keys[lo..=hi - k].iter().enumerate() {
        let p = lo + i;
        if key == NOT_VARIED {
            continue;
        }
        if p + k <= first || p > last {
            around.insert(key);
        } else if p >= first && p + k <= last + 1 {
            inside.push(key);
        }
    }
    if inside.is_empty() {
        return 0.0;
    }
    let elsewhere = inside.iter().filter(|key| around.contains(key)).count();
    elsewhere as f64 / inside.len() as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stream(syms: Vec<u32>) -> SymbolStream {
        let n = syms.len();
        SymbolStream {
            syms,
            lines: vec![1; n],
            end_lines: vec![1; n],
            ..SymbolStream::default()
        }
    }

    /// `f(a, b) { a = b + 1; }`-like rows of punctuation and names, with
    /// one row's names renamed: symbol classes only.
    fn row(names: [u32; 3]) -> Vec<u32> {
        let [a, b, c] = names.map(|n| NAME_BIT | n);
        vec![a, 1, b, 2, c, 3, 4, b, 5, a, 6, 7]
    }

    #[test]
    fn a_shape_the_file_has_again_is_repeated_and_a_unique_one_is_not() {
        let mut syms = Vec::new();
        syms.extend(row([1, 2, 3]));
        let unique: Vec<u32> = (20..44).collect();
        syms.extend(&unique);
        syms.extend(row([7, 8, 9]));
        let s = stream(syms);
        let mut table = Repeats::default();
        let mut share = |r: Range| table.share_elsewhere(&s, r);
        // The first row: its grams recur in the last row (renamed).
        let first_row = Range { first: 0, last: 11 };
        assert_eq!(share(first_row), 1.0);
        // The unique stretch in the middle: nothing of it recurs.
        let middle = Range {
            first: 12,
            last: 35,
        };
        assert_eq!(share(middle), 0.0);
        // The whole file: nothing lies outside it.
        let all = Range {
            first: 0,
            last: s.syms.len() as u32 - 1,
        };
        assert_eq!(share(all), 0.0);
        // Shorter than a gram: no evidence either way.
        assert_eq!(share(Range { first: 0, last: 5 }), 0.0);
    }

    #[test]
    fn a_repeat_a_file_away_does_not_count() {
        // An amalgamation: the same shape again, but far beyond a file's
        // worth of tokens.
        let mut syms = row([1, 2, 3]);
        syms.extend(100..100 + NEIGHBOURHOOD as u32 + 50);
        syms.extend(row([7, 8, 9]));
        let s = stream(syms);
        let r = Range { first: 0, last: 11 };
        assert_eq!(Repeats::default().share_elsewhere(&s, r), 0.0);
    }

    #[test]
    fn a_file_larger_than_a_table_is_read_in_windows() {
        // Two far-apart pairs of rows in a file of more than a table's
        // tokens: each pair is found by a window of its own.
        let filler = |from: u32| -> Vec<u32> { (from..from + TABLE_TOKENS as u32).collect() };
        let mut syms = row([1, 2, 3]);
        syms.extend(row([4, 5, 6]));
        syms.extend(filler(1_000));
        let far = syms.len() as u32;
        syms.extend(row([7, 8, 9]));
        syms.extend(filler(2_000_000));
        syms.extend(row([10, 11, 12]));
        let s = stream(syms);
        let mut table = Repeats::default();
        assert_eq!(table.share_elsewhere(&s, Range { first: 0, last: 11 }), 1.0);
        let r = Range {
            first: far,
            last: far + 11,
        };
        assert_eq!(table.share_elsewhere(&s, r), 0.0);
        let last = s.len() as u32 - 12;
        let r = Range {
            first: last,
            last: last + 11,
        };
        assert_eq!(table.share_elsewhere(&s, r), 0.0);
    }

    #[test]
    fn lists_of_names_are_not_a_shape_the_file_repeats() {
        // `a, b, c, ...` twice: two classes, which every list has.
        let list =
            |from: u32| -> Vec<u32> { (from..from + 16).flat_map(|n| [NAME_BIT | n, 1]).collect() };
        let mut syms = list(0);
        syms.extend(row([1, 2, 3]));
        syms.extend(list(100));
        let s = stream(syms);
        let r = Range { first: 0, last: 31 };
        assert_eq!(Repeats::default().share_elsewhere(&s, r), 0.0);
    }
}
