//! From fingerprint hits between one target file and one origin file to
//! snippet spans with line ranges on both sides.
//!
//! A copy shows up as hits that advance together in both files. Edits inside
//! the copy remove some hits and shift the rest, so hits are chained when
//! they move forward in both files within a gap bound; a copy that jumps
//! backwards, or too far, starts a new span. Ranges are widened to the last
//! token of the last gram, so they cover copied lines rather than anchors.

use crate::winnow::Fingerprint;

/// Where a gram sits in its file.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Anchor {
    /// Index of the gram's first token.
    pub pos: u32,
    pub first_line: u32,
    pub last_line: u32,
}

impl From<&Fingerprint> for Anchor {
    fn from(f: &Fingerprint) -> Anchor {
        Anchor {
            pos: f.pos,
            first_line: f.first_line,
            last_line: f.last_line,
        }
    }
}

/// The same gram hash found at `target` and at `origin`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Hit {
    pub target: Anchor,
    pub origin: Anchor,
}

/// A 1-based inclusive range, the way people and SPDX count lines.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Range {
    pub first: u32,
    pub last: u32,
}

impl Range {
    /// How many lines (or tokens) the range holds; never zero.
    pub fn count(&self) -> u32 {
        self.last + 1 - self.first
    }

    /// Shared part as a share of the shorter range.
    pub fn overlap_share(&self, other: &Range) -> f64 {
        let first = self.first.max(other.first);
        let last = self.last.min(other.last);
        if first > last {
            return 0.0;
        }
        (last + 1 - first) as f64 / self.count().min(other.count()) as f64
    }
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct AlignParams {
    /// Tokens per gram, as used for fingerprinting.
    pub k: u32,
    /// Largest step between chained hits, in tokens, in either file.
    pub max_gap: u32,
    /// Smallest span worth reporting, in matched target tokens.
    pub min_tokens: u32,
    /// Smallest span worth reporting, in lines, on both sides.
    pub min_lines: u32,
}

impl AlignParams {
    pub fn for_k(k: usize) -> AlignParams {
        AlignParams {
            k: k as u32,
            max_gap: 5 * k as u32,
            // 4k/3: 32 tokens at the default k = 24, about four lines of
            // ordinary code (see docs/accuracy.md).
            min_tokens: (4 * k / 3) as u32,
            min_lines: 5,
        }
    }
}

/// One aligned copy.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Span {
    pub target_lines: Range,
    pub origin_lines: Range,
    /// Token index ranges, inclusive.
    pub target_tokens: Range,
    pub origin_tokens: Range,
    /// Target tokens covered by matching grams.
    pub matched_tokens: u32,
    pub hits: u32,
    /// Covered tokens over spanned tokens, both files together (0–1); for
    /// an aligned copy, matching columns over all columns.
    pub similarity: f64,
    /// Substitutions, insertions and deletions of an aligned copy.
    pub edits: u32,
}

/// Chain hits into spans, best first.
pub fn align(hits: &[Hit], params: &AlignParams) -> Vec<Span> {
    let mut spans: Vec<Span> = chains(hits, params.max_gap)
        .into_iter()
        .map(|chain| span_of(&chain, params.k))
        // Both sides must span enough lines: a long prose or data line in the
        // origin matching a few target lines is not a copied snippet.
        .filter(|span| {
            let lines = span.target_lines.count().min(span.origin_lines.count());
            span.matched_tokens >= params.min_tokens && lines >= params.min_lines
        })
        .collect();
    spans.sort_by_key(|s| std::cmp::Reverse(s.matched_tokens));
    spans
}

/// Splits hits into chains that advance in both files by at most `max_gap`
/// tokens a step, the best-scoring chain first; each hit is in one chain.
pub fn chains(hits: &[Hit], max_gap: u32) -> Vec<Vec<Hit>> {
    Chainer::default()
        .chains(hits, max_gap)
        .iter()
        .map(<[Hit]>::to_vec)
        .collect()
}

/// Chains, best first, in one buffer: most chains of a matched file are a
/// hit or two, and a vector each was a tenth of the allocator's work.
#[derive(Debug, Default)]
pub struct Chains {
    hits: Vec<Hit>,
    /// Where each chain ends in `hits`.
    ends: Vec<usize>,
}

impl Chains {
    pub fn iter(&self) -> impl Iterator<Item = &[Hit]> + '_ {
        let starts = std::iter::once(0).chain(self.ends.iter().copied());
        starts.zip(&self.ends).map(|(a, &b)| &self.hits[a..b])
    }
}

/// [`chains`] for hits that grow between calls: the matcher chains an
/// origin's hits again after every batch of lookups that adds to them, and
/// a batch adds hits further down the target, after all the earlier ones.
/// The best chain ending at a hit depends only on the hits before it, so
/// the scores of the hits the last call had, in the same places, still
/// hold; only the rest are scored (on a 9 MB amalgamation the scoring was
/// a tenth of its scan).
#[derive(Default)]
pub struct Chainer {
    hits: Vec<Hit>,
    score: Vec<u32>,
    pred: Vec<Option<usize>>,
    max_gap: u32,
}

impl Chainer {
    /// The chains of `hits`, the same as [`chains`] gives.
    pub fn chains(&mut self, hits: &[Hit], max_gap: u32) -> Chains {
        let mut sorted = hits.to_vec();
        sorted.sort_unstable();
        sorted.dedup();
        let kept = if max_gap == self.max_gap {
            self.hits
                .iter()
                .zip(&sorted)
                .take_while(|(a, b)| a == b)
                .count()
        } else {
            0
        };
        self.hits = sorted;
        self.max_gap = max_gap;
        self.score.truncate(kept);
        self.pred.truncate(kept);
        chain_scores(&self.hits, max_gap, &mut self.score, &mut self.pred);
        let (hits, score, pred) = (&self.hits, &self.score, &self.pred);
        let mut ends: Vec<usize> = (0..hits.len()).collect();
        ends.sort_unstable_by_key(|&i| std::cmp::Reverse(score[i]));
        let mut used = vec![false; hits.len()];
        let mut out = Chains {
            hits: Vec::with_capacity(hits.len()),
            ends: Vec::new(),
        };
        for end in ends {
            if used[end] {
                continue;
            }
            let from = out.hits.len();
            let mut at = Some(end);
            while let Some(i) = at.filter(|&i| !used[i]) {
                used[i] = true;
                out.hits.push(hits[i]);
                at = pred[i];
            }
            out.hits[from..].reverse();
            out.ends.push(out.hits.len());
        }
        out
    }
}

/// What a hit adds to a chain's score, and the most one step's drift off
/// the diagonal takes back (tokens one side advances beyond the other).
/// Every step still adds, so a chain bridges an inserted block as before;
/// but among chains of as many hits the one that stays on its diagonal
/// wins: seeds of a gram repeated at scattered places of the origin had
/// joined a chain that then aligned nothing, and the seeds of the right
/// place, in the same chain, were lost with it.
const HIT_SCORE: u32 = 64;
const MAX_DRIFT_COST: u32 = 32;

/// Best-scoring chain ending at each hit (hits sorted by target position),
/// and its predecessor, for the hits past those `score` and `pred` hold.
fn chain_scores(hits: &[Hit], max_gap: u32, score: &mut Vec<u32>, pred: &mut Vec<Option<usize>>) {
    let from = score.len();
    score.resize(hits.len(), HIT_SCORE);
    pred.resize(hits.len(), None);
    for i in from..hits.len() {
        let (t, o) = (hits[i].target.pos, hits[i].origin.pos);
        for j in (0..i).rev() {
            let (tj, oj) = (hits[j].target.pos, hits[j].origin.pos);
            if t - tj > max_gap {
                break;
            }
            if tj < t && oj < o && o - oj <= max_gap {
                let drift = (t - tj).abs_diff(o - oj).min(MAX_DRIFT_COST);
                let s = score[j] + HIT_SCORE - drift;
                if s > score[i] {
                    score[i] = s;
                    pred[i] = Some(j);
                }
            }
        }
    }
}

/// Tokens covered by grams starting at `starts` (ascending).
fn coverage(starts: impl Iterator<Item = u32>, k: u32) -> u32 {
    let mut covered = 0;
    let mut reach = 0u32;
    for s in starts {
        let end = s + k;
        covered += end - s.max(reach).min(end);
        reach = reach.max(end);
    }
    covered
}

fn span_of(chain: &[Hit], k: u32) -> Span {
    let (first, last) = (chain[0], chain[chain.len() - 1]);
    let target_tokens = Range {
        first: first.target.pos,
        last: last.target.pos + k - 1,
    };
    let origin_tokens = Range {
        first: first.origin.pos,
        last: last.origin.pos + k - 1,
    };
    let covered_t = coverage(chain.iter().map(|h| h.target.pos), k);
    let covered_o = coverage(chain.iter().map(|h| h.origin.pos), k);
    let spanned = target_tokens.count() + origin_tokens.count();
    Span {
        target_lines: Range {
            first: first.target.first_line,
            last: chain.iter().map(|h| h.target.last_line).max().unwrap_or(0),
        },
        origin_lines: Range {
            first: first.origin.first_line,
            last: chain.iter().map(|h| h.origin.last_line).max().unwrap_or(0),
        },
        target_tokens,
        origin_tokens,
        matched_tokens: covered_t,
        hits: chain.len() as u32,
        similarity: (covered_t + covered_o) as f64 / spanned as f64,
        edits: 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A hit whose tokens sit on line `pos / 10 + 1` on both sides.
    fn hit(t: u32, o: u32) -> Hit {
        let a = |p: u32| Anchor {
            pos: p,
            first_line: p / 10 + 1,
            last_line: p.div_ceil(10) + 1,
        };
        Hit {
            target: a(t),
            origin: a(o),
        }
    }

    fn params() -> AlignParams {
        AlignParams {
            k: 10,
            max_gap: 40,
            min_tokens: 20,
            min_lines: 1,
        }
    }

    #[test]
    fn a_straight_copy_is_one_span() {
        let hits: Vec<Hit> = (0..20).map(|i| hit(100 + i * 5, 500 + i * 5)).collect();
        let spans = align(&hits, &params());
        assert_eq!(spans.len(), 1);
        let s = spans[0];
        assert_eq!(
            s.target_tokens,
            Range {
                first: 100,
                last: 204
            }
        );
        assert_eq!(
            s.origin_tokens,
            Range {
                first: 500,
                last: 604
            }
        );
        assert_eq!(s.matched_tokens, 105);
        assert_eq!(
            s.target_lines,
            Range {
                first: 11,
                last: 21
            }
        );
        assert!((s.similarity - 1.0).abs() < 1e-9);
    }

    #[test]
    fn hits_that_keep_their_diagonal_make_the_chain() {
        // Each target gram hits one place on the copy's diagonal (+100) and
        // one other place where the origin repeats it, the other places
        // advancing too, far off any diagonal, and one gram before them
        // hits only such a place: one hit more off the diagonal than on it.
        let right: Vec<Hit> = (0..4).map(|i| hit(50 + i * 6, 150 + i * 6)).collect();
        let mut hits = right.clone();
        hits.extend([
            hit(44, 20),
            hit(50, 60),
            hit(56, 101),
            hit(62, 130),
            hit(68, 190),
        ]);
        let best = &chains(&hits, 120)[0];
        assert_eq!(best, &right);
    }

    #[test]
    fn gaps_are_bridged_and_jumps_split() {
        let mut hits: Vec<Hit> = (0..10).map(|i| hit(i * 5, 1000 + i * 5)).collect();
        // an insertion of 30 tokens in the target: still one span
        hits.extend((0..10).map(|i| hit(80 + i * 5, 1050 + i * 5)));
        // then the copy continues from much earlier in the origin: a new span
        hits.extend((0..10).map(|i| hit(200 + i * 5, 10 + i * 5)));
        let spans = align(&hits, &params());
        assert_eq!(spans.len(), 2, "{spans:?}");
        let mut by_target: Vec<Span> = spans.clone();
        by_target.sort_by_key(|s| s.target_tokens.first);
        assert_eq!(
            by_target[0].target_tokens,
            Range {
                first: 0,
                last: 134
            }
        );
        assert_eq!(
            by_target[0].origin_tokens,
            Range {
                first: 1000,
                last: 1104
            }
        );
        assert!(by_target[0].similarity < 1.0);
        assert_eq!(by_target[1].origin_tokens.first, 10);
    }

    #[test]
    fn scattered_hits_are_not_a_copy() {
        let hits = vec![hit(0, 900), hit(300, 20), hit(700, 400), hit(1200, 5)];
        assert!(align(&hits, &params()).is_empty());
    }

    #[test]
    fn repeated_origin_positions_keep_the_monotone_chain() {
        let mut hits: Vec<Hit> = (0..10).map(|i| hit(i * 5, 200 + i * 5)).collect();
        // the same target grams also hit a repeated block elsewhere in the origin
        hits.extend((0..10).step_by(3).map(|i| hit(i * 5, 800 + i * 5)));
        let spans = align(&hits, &params());
        assert_eq!(
            spans[0].origin_tokens,
            Range {
                first: 200,
                last: 254
            }
        );
        assert_eq!(spans[0].hits, 10);
    }

    proptest::proptest! {
        /// Hits that grow the way the matcher's do (later batches, grams
        /// found in an origin's stream anywhere, repeated grams dropped)
        /// chain the same through one [`Chainer`] as afresh.
        #[test]
        fn a_chainer_kept_between_calls_chains_as_afresh(
            rounds in proptest::collection::vec(
                (proptest::collection::vec((0u32..400, 0u32..400), 0..40), 0usize..5),
                1..6,
            ),
        ) {
            let mut chainer = Chainer::default();
            let mut hits: Vec<Hit> = Vec::new();
            for (added, dropped) in rounds {
                hits.extend(added.into_iter().map(|(t, o)| hit(t, o)));
                hits.sort_unstable();
                hits.dedup();
                for _ in 0..dropped.min(hits.len()) {
                    hits.remove(hits.len() / 2);
                }
                let kept: Vec<Vec<Hit>> = chainer.chains(&hits, 40).iter().map(<[Hit]>::to_vec).collect();
                proptest::prop_assert_eq!(kept, chains(&hits, 40));
            }
        }
    }

    #[test]
    fn overlap_share_of_ranges() {
        let a = Range { first: 1, last: 10 };
        assert_eq!(a.overlap_share(&Range { first: 6, last: 30 }), 0.5);
        assert_eq!(
            a.overlap_share(&Range {
                first: 11,
                last: 30
            }),
            0.0
        );
        assert_eq!(a.count(), 10);
    }
}
