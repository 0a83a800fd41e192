//! Identifying whole license texts (and license exception texts) by
//! aligning them word for word against the SPDX reference texts.
//!
//! Why not a similarity score alone: many SPDX licenses are near-copies of
//! another one (Pixar is Apache-2.0 with section 6 reworded and without the
//! appendix; BSD-2 and BSD-3 differ by one clause; MIT-0 is MIT without its
//! condition). An n-gram score ranks such pairs by length more than by
//! wording, so requests' appendix-less Apache-2.0 text came out as Pixar.
//! Here a cheap bigram containment only shortlists candidates; each one is
//! then diffed against the input (Myers, on words) and judged by what the
//! diff says:
//!
//! - words changed *inside* the aligned stretch (replaced, inserted or
//!   removed clauses) are what tells variants apart and cost in full;
//! - reference text missing at the ends costs little only where SPDX marks
//!   it optional and real copies drop it: a short title, and the end from
//!   "END OF TERMS AND CONDITIONS", "How to apply…", an appendix or exhibit.
//!   Any other missing end (the extra clause of X11 over MIT) costs in full;
//! - input outside the aligned stretch (copyright lines, a second license,
//!   a preamble) is not charged to the candidate: it is matched separately.
//!
//! A candidate is accepted only when its alignment is faithful (few inner
//! changes), covers most of the reference, and is clearly ahead of the
//! runner-up; otherwise the text is unknown. GNU texts identify the version
//! only: a bare GPL text is reported as `-only`, as ScanCode does; "or
//! later" can only come from a notice (see `notice`).

use std::collections::{HashMap, HashSet};
use std::ops::Range;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use similar::{Algorithm, DiffOp};

/// Minimum share of the aligned words that must be unchanged.
const MIN_FIDELITY: f64 = 0.9;
/// Minimum share of the reference text that must be aligned.
const MIN_COVERAGE: f64 = 0.7;
/// Weight of inner changes in the ranking.
const INNER_WEIGHT: f64 = 2.0;
/// Candidates diffed per round.
const SHORTLIST: usize = 10;
/// Inputs (or remainders) shorter than this many words are not matched.
const MIN_WORDS: usize = 12;

/// A reference text, tokenized.
struct Reference {
    id: &'static str,
    words: Vec<u32>,
    bigrams: usize,
}

/// The reference texts of one list (licenses or exceptions) with a bigram
/// index for shortlisting.
struct Catalog {
    vocab: HashMap<String, u32>,
    refs: Vec<Reference>,
    postings: HashMap<u64, Vec<u32>>,
}

/// One identified text inside the input.
#[derive(Clone, Debug, PartialEq)]
pub struct Found {
    /// SPDX id (GNU licenses in their `-only` form).
    pub id: &'static str,
    /// Share of aligned words unchanged, 0–1.
    pub fidelity: f64,
    /// Share of the reference text aligned, 0–1.
    pub coverage: f64,
    /// The runner-up's id and ranking deficit, when there was one.
    pub runner_up: Option<(&'static str, f64)>,
}

/// Everything identified in one text.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Detection {
    /// Identified texts, in the order found (largest first).
    pub found: Vec<Found>,
    /// Words of the input.
    pub words: usize,
    /// Words not explained by any found text.
    pub unexplained: usize,
}

impl Detection {
    /// The single license when exactly one was found and it explains most
    /// of the input; `None` otherwise (unknown, or several texts whose
    /// combination the file does not state).
    pub fn single(&self) -> Option<&'static str> {
        match self.found.as_slice() {
            [one] if self.unexplained * 2 <= self.words => Some(one.id),
            _ => None,
        }
    }
}

fn is_copyright_line(line: &str) -> bool {
    let l = line
        .trim_start_matches(|c: char| c.is_whitespace() || "*#/;-!%".contains(c))
        .to_lowercase();
    // "(c)" alone is also a list marker ("(c) You must retain…").
    if l.starts_with('©')
        || l.strip_prefix("(c)")
            .is_some_and(|r| r.trim_start().starts_with(|c: char| c.is_ascii_digit()))
    {
        return true;
    }
    let Some(rest) = l.strip_prefix("copyright") else {
        return false;
    };
    let rest = rest.trim_start_matches([' ', ':']);
    rest.starts_with("(c)")
        || rest.starts_with('©')
        || rest.starts_with(|c: char| c.is_ascii_digit())
        || rest.starts_with('<')
        || rest.starts_with('[')
}

/// Words of a text: lower-case alphanumeric runs, copyright statements
/// dropped, common spelling variants merged.
pub(crate) fn words(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    for line in text.lines() {
        if is_copyright_line(line) {
            continue;
        }
        for w in line
            .split(|c: char| !c.is_alphanumeric())
            .filter(|w| !w.is_empty())
        {
            let w = w.to_lowercase();
            let w = match w.as_str() {
                "licence" => "license".to_string(),
                "licences" => "licenses".to_string(),
                "licenced" => "licensed".to_string(),
                "https" => "http".to_string(),
                "organisation" => "organization".to_string(),
                _ => w,
            };
            out.push(w);
        }
    }
    out
}

fn bigram(a: u32, b: u32) -> u64 {
    (u64::from(a) << 32) | u64::from(b)
}

impl Catalog {
    fn build(texts: impl Iterator<Item = (&'static str, &'static str)>) -> Catalog {
        let mut c = Catalog {
            vocab: HashMap::new(),
            refs: Vec::new(),
            postings: HashMap::new(),
        };
        for (id, text) in texts {
            let ws: Vec<u32> = words(text)
                .into_iter()
                .map(|w| {
                    let n = c.vocab.len() as u32;
                    *c.vocab.entry(w).or_insert(n)
                })
                .collect();
            if ws.len() < 5 {
                continue;
            }
            let idx = c.refs.len() as u32;
            let mut grams: Vec<u64> = ws.windows(2).map(|p| bigram(p[0], p[1])).collect();
            grams.sort_unstable();
            grams.dedup();
            for g in &grams {
                c.postings.entry(*g).or_default().push(idx);
            }
            c.refs.push(Reference {
                id,
                words: ws,
                bigrams: grams.len(),
            });
        }
        c
    }

    fn encode(&self, ws: &[String]) -> Vec<u32> {
        ws.iter()
            .map(|w| self.vocab.get(w).copied().unwrap_or(u32::MAX))
            .collect()
    }

    /// References sharing most of their bigrams with `input`, best first.
    fn shortlist(&self, input: &[u32]) -> Vec<usize> {
        let mut grams: Vec<u64> = input.windows(2).map(|p| bigram(p[0], p[1])).collect();
        grams.sort_unstable();
        grams.dedup();
        let mut shared: HashMap<u32, u32> = HashMap::new();
        for g in &grams {
            if let Some(list) = self.postings.get(g) {
                for &r in list {
                    *shared.entry(r).or_default() += 1;
                }
            }
        }
        let mut scored: Vec<(f64, usize)> = shared
            .into_iter()
            .map(|(r, n)| {
                (
                    f64::from(n) / self.refs[r as usize].bigrams as f64,
                    r as usize,
                )
            })
            .filter(|(s, _)| *s >= 0.5)
            .collect();
        scored.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
        // Near-variants share nearly all bigrams: those far behind the
        // best are not worth a diff.
        let best = scored.first().map_or(0.0, |s| s.0);
        scored.retain(|s| s.0 >= best - 0.25);
        scored.truncate(SHORTLIST);
        scored.into_iter().map(|(_, r)| r).collect()
    }
}

/// How one reference aligns with the input.
#[derive(Clone, Debug)]
struct Alignment {
    matched: usize,
    inner: usize,
    /// Cost of reference words outside the aligned stretch.
    ends: usize,
    /// The aligned stretch of the input.
    input: Range<usize>,
    reference_len: usize,
}

impl Alignment {
    fn fidelity(&self) -> f64 {
        self.matched as f64 / (self.matched + self.inner).max(1) as f64
    }
    fn coverage(&self) -> f64 {
        self.matched as f64 / self.reference_len.max(1) as f64
    }
    /// Net aligned words: the ranking among candidates.
    fn rank(&self) -> f64 {
        self.matched as f64 - INNER_WEIGHT * (self.inner + self.ends) as f64
    }
}

/// Diffs the input against one reference and keeps the best-scoring
/// stretch of the diff (maximum-sum run: unchanged words count +1, changed
/// ones −1), so text around the license is not charged to it.
fn align(vocab: &HashMap<String, u32>, input: &[u32], reference: &[u32]) -> Alignment {
    // A long input (a file of many licenses) is diffed only around the
    // stretch richest in the reference's bigrams: faster, and the diff is
    // not tempted by scattered common words.
    let width = reference.len() + reference.len() / 4 + 20;
    // An input up to half as long again is diffed whole: cut at `width`
    // from its start, it lost the end of a license that began after some
    // prose (an MIT text after a paragraph on where the code came from
    // came out as the longer Xnet, whose wider window still held it).
    let (offset, end) = if input.len() > width + width / 2 {
        let offset = densest_window(input, reference, width);
        (offset, input.len().min(offset + width))
    } else {
        (0, input.len())
    };
    let window = &input[offset..end];
    let mut a = align_window(vocab, window, reference);
    a.input = a.input.start + offset..a.input.end + offset;
    a
}

/// Start of the `width`-word stretch of `input` holding most bigrams of
/// `reference`, less a margin for a title the bigrams missed.
fn densest_window(input: &[u32], reference: &[u32], width: usize) -> usize {
    let grams: HashSet<u64> = reference.windows(2).map(|p| bigram(p[0], p[1])).collect();
    let hits: Vec<u32> = input
        .windows(2)
        .map(|p| u32::from(grams.contains(&bigram(p[0], p[1]))))
        .collect();
    let w = width.min(hits.len());
    let mut sum: u32 = hits[..w].iter().sum();
    let (mut best, mut best_at) = (sum, 0);
    for i in w..hits.len() {
        sum = sum + hits[i] - hits[i - w];
        if sum > best {
            best = sum;
            best_at = i + 1 - w;
        }
    }
    best_at.saturating_sub(width / 8)
}

fn align_window(vocab: &HashMap<String, u32>, input: &[u32], reference: &[u32]) -> Alignment {
    let deadline = Instant::now() + Duration::from_millis(300);
    let ops =
        similar::capture_diff_slices_deadline(Algorithm::Myers, input, reference, Some(deadline));
    let value = |op: &DiffOp| -> i64 {
        match *op {
            DiffOp::Equal { len, .. } => len as i64,
            DiffOp::Delete { old_len, .. } => -(old_len as i64),
            DiffOp::Insert { new_len, .. } => -(new_len as i64),
            DiffOp::Replace {
                old_len, new_len, ..
            } => -(old_len.max(new_len) as i64),
        }
    };
    let (mut best, mut best_range) = (0i64, 0..0);
    let (mut run, mut start) = (0i64, 0usize);
    for (i, op) in ops.iter().enumerate() {
        if run <= 0 {
            run = 0;
            start = i;
        }
        run += value(op);
        if run > best {
            best = run;
            best_range = start..i + 1;
        }
    }
    let stretch = &ops[best_range];
    let (mut matched, mut inner) = (0usize, 0usize);
    for op in stretch {
        let v = value(op);
        if v > 0 {
            matched += v as usize;
        } else {
            inner += (-v) as usize;
        }
    }
    let (input_range, ref_range) = match (stretch.first(), stretch.last()) {
        (Some(f), Some(l)) => (
            f.old_range().start..l.old_range().end,
            f.new_range().start..l.new_range().end,
        ),
        _ => (0..0, 0..0),
    };
    // Reference text missing at the ends is cheap only where real copies
    // drop it: a short title before, the "how to apply" appendix after.
    // Anything else (the extra clause of a variant) costs like an inner
    // change.
    let head = ref_range.start;
    let tail = &reference[ref_range.end..];
    let head_cost = if head <= 20 { head / 10 } else { head };
    let tail_cost = if ref_range.end + 8 >= optional_start(vocab, reference) {
        tail.len() / 10
    } else {
        tail.len()
    };
    Alignment {
        matched,
        inner,
        ends: head_cost + tail_cost,
        input: input_range,
        reference_len: reference.len(),
    }
}

/// Where the optional end of a reference begins ("END OF TERMS AND
/// CONDITIONS", "How to apply…", an appendix or exhibit in its second
/// half), or its length when it has none.
fn optional_start(vocab: &HashMap<String, u32>, reference: &[u32]) -> usize {
    let markers: [&[&str]; 4] = [
        &["end", "of", "terms", "and", "conditions"],
        &["how", "to", "apply"],
        &["appendix"],
        &["exhibit", "a"],
    ];
    let half = reference.len() / 2;
    markers
        .iter()
        .filter_map(|m| {
            let ids: Vec<u32> = m
                .iter()
                .map(|w| vocab.get(*w).copied())
                .collect::<Option<_>>()?;
            reference[half..]
                .windows(ids.len())
                .position(|w| w == ids.as_slice())
                .map(|p| p + half)
        })
        .min()
        .unwrap_or(reference.len())
}

/// The best reference for `input`, if one is faithful, covers its
/// reference and is clearly ahead of the others.
fn best_match(cat: &Catalog, input: &[u32]) -> Option<(Found, Range<usize>)> {
    let mut scored: Vec<(usize, Alignment)> = cat
        .shortlist(input)
        .into_iter()
        .map(|r| (r, align(&cat.vocab, input, &cat.refs[r].words)))
        .filter(|(_, a)| a.matched >= MIN_WORDS)
        .collect();
    scored.sort_by(|a, b| b.1.rank().total_cmp(&a.1.rank()).then(a.0.cmp(&b.0)));
    let (r, a) = scored.first()?;
    if a.fidelity() < MIN_FIDELITY || a.coverage() < MIN_COVERAGE {
        return None;
    }
    let runner_up = scored
        .get(1)
        .map(|(r2, a2)| (cat.refs[*r2].id, a.rank() - a2.rank()));
    if let Some((_, gap)) = runner_up {
        // "Clearly ahead": a few words, and at least 1 % of the text.
        if gap < (0.01 * a.rank()).max(3.0) {
            return None;
        }
    }
    Some((
        Found {
            id: cat.refs[*r].id,
            fidelity: a.fidelity(),
            coverage: a.coverage(),
            runner_up,
        },
        a.input.clone(),
    ))
}

fn detect_in(cat: &Catalog, text: &str) -> Detection {
    let mut input = cat.encode(&words(text));
    let mut d = Detection {
        words: input.len(),
        ..Detection::default()
    };
    for _ in 0..4 {
        if input.len() < MIN_WORDS {
            break;
        }
        let Some((found, range)) = best_match(cat, &input) else {
            break;
        };
        input.drain(range);
        d.found.push(found);
    }
    d.unexplained = input.len();
    d
}

fn licenses() -> &'static Catalog {
    static CAT: OnceLock<Catalog> = OnceLock::new();
    CAT.get_or_init(|| {
        // One reference per distinct text: GNU `-only`/`-or-later` share
        // theirs, deprecated ids are skipped.
        let mut seen: HashSet<&'static str> = HashSet::new();
        let mut list: Vec<(&'static str, &'static str)> = Vec::new();
        for &(name, text) in spdx::text::LICENSE_TEXTS {
            let Some(id) = spdx::license_id(name) else {
                continue;
            };
            if id.is_deprecated() || name.ends_with("-or-later") {
                continue;
            }
            if seen.insert(text) {
                list.push((name, text));
            }
        }
        Catalog::build(list.into_iter())
    })
}

fn exceptions() -> &'static Catalog {
    static CAT: OnceLock<Catalog> = OnceLock::new();
    CAT.get_or_init(|| {
        Catalog::build(
            spdx::text::EXCEPTION_TEXTS
                .iter()
                .filter(|(n, _)| spdx::exception_id(n).is_some_and(|e| !e.is_deprecated()))
                .copied(),
        )
    })
}

/// Finds the license texts in `text`.
pub fn detect_licenses(text: &str) -> Detection {
    detect_in(licenses(), text)
}

/// Finds license exception texts ("In addition to the permissions in the
/// GNU General Public License…") in `text`.
pub fn detect_exceptions(text: &str) -> Detection {
    detect_in(exceptions(), text)
}

/// The one license whose full text `text` is, as an SPDX id; `None` when
/// unknown or when the text holds several licenses.
pub fn detect_text(text: &str) -> Option<String> {
    detect_licenses(text).single().map(str::to_string)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(id: &str) -> &'static str {
        spdx::license_id(id).unwrap().text()
    }

    #[test]
    fn reference_texts_identify_themselves() {
        for id in [
            "MIT",
            "MIT-0",
            "X11",
            "ISC",
            "BSD-2-Clause",
            "BSD-3-Clause",
            "BSD-3-Clause-Clear",
            "Apache-2.0",
            "Pixar",
            "GPL-2.0-only",
            "GPL-3.0-only",
            "LGPL-2.1-only",
            "AGPL-3.0-only",
            "MPL-2.0",
            "Zlib",
            "Unlicense",
            "BSL-1.0",
        ] {
            let d = detect_licenses(text(id));
            assert_eq!(d.single(), Some(id), "{id}: {d:?}");
        }
    }

    #[test]
    fn apache_without_appendix_is_apache_not_pixar() {
        let full = text("Apache-2.0");
        let cut = &full[..full.find("END OF TERMS AND CONDITIONS").unwrap()];
        let d = detect_licenses(cut);
        assert_eq!(d.single(), Some("Apache-2.0"), "{d:?}");
    }

    #[test]
    fn bsd_clause_count_and_holder_names() {
        let bsd3 = text("BSD-3-Clause")
            .replace("the copyright holder", "Google Inc.")
            .replace("<year> <owner>", "2009 The Go Authors");
        assert_eq!(detect_text(&bsd3).as_deref(), Some("BSD-3-Clause"));
        // Clause 3 removed: BSD-2-Clause wording with BSD-3's numbering.
        let start = bsd3.find("3. Neither").unwrap();
        let end = bsd3.find("THIS SOFTWARE").unwrap();
        let bsd2 = format!("{}{}", &bsd3[..start], &bsd3[end..]);
        assert_eq!(detect_text(&bsd2).as_deref(), Some("BSD-2-Clause"));
    }

    #[test]
    fn mit_with_copyright_and_two_licenses_in_one_file() {
        let mit = format!(
            "MIT License\n\nCopyright (c) 2021 Jane Doe\n\n{}",
            text("MIT").split_once('\n').unwrap().1
        );
        assert_eq!(detect_text(&mit).as_deref(), Some("MIT"));
        let both = format!("{mit}\n\n---\n\n{}", text("Apache-2.0"));
        let d = detect_licenses(&both);
        let mut ids: Vec<&str> = d.found.iter().map(|f| f.id).collect();
        ids.sort();
        assert_eq!(ids, ["Apache-2.0", "MIT"], "{d:?}");
        assert_eq!(d.single(), None);
    }

    #[test]
    fn prose_is_unknown() {
        let t = "This project is maintained by volunteers. Please read the contributing guide before opening a pull request, and be kind to each other in all discussions about the software and its license.";
        assert_eq!(detect_text(t), None);
    }

    #[test]
    fn linking_exception_wording_is_gcc_exception_2() {
        let libgit2 = "In addition to the permissions in the GNU General Public License, the authors give you unlimited permission to link the compiled version of this library into combinations with other programs, and to distribute those combinations without any restriction coming from the use of this file.  (The General Public License restrictions do apply in other respects; for example, they cover modification of the file, and distribution when not linked into a combined executable.)";
        let d = detect_exceptions(libgit2);
        assert_eq!(
            d.found.first().map(|f| f.id),
            Some("GCC-exception-2.0"),
            "{d:?}"
        );
    }
}
