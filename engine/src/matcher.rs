//! From the postings of one target file's fingerprints to findings.
//!
//! Where postings come from (an in-memory map for `compare`, the RocksDB
//! index for `scan`) is the caller's business; this module ranks candidate
//! origin files by distinct hits, aligns the best of them, and settles which
//! origin a target range is reported against when several match.

use std::collections::HashMap;

use crate::align::{align, AlignParams, Anchor, Hit, Span};
use crate::extend::{ExtendParams, VerifyParams};
use crate::pipeline::{distinct_targets, drop_repetitive};
use crate::token::Token;
use crate::winnow::{grams_near, Fingerprint, Params};

/// A fingerprint occurrence in an origin file, identified by the caller's id.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Posting {
    pub origin: u64,
    pub anchor: Anchor,
}

/// Default of [`MatchParams::max_repeats_in_origin`]. An index may keep only
/// `MAX_REPEATS_IN_ORIGIN + 1` positions of a gram per origin file: enough
/// to tell that it is repetitive, which is all the matcher uses them for.
pub const MAX_REPEATS_IN_ORIGIN: usize = 8;

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct MatchParams {
    pub align: AlignParams,
    /// Origins sharing fewer distinct fingerprints are not aligned.
    pub min_distinct_hits: usize,
    /// Only the best-ranked origins are aligned, to bound the work per file.
    pub max_candidates: usize,
    /// A gram repeated more often than this within one origin file says
    /// nothing about where a copy came from.
    pub max_repeats_in_origin: usize,
    /// Another origin is an alternative when its span matches at least this
    /// share of the best span's tokens over the same target lines.
    pub alternative_share: f64,
    /// Around each target position whose fingerprint hit, every gram within
    /// this many tokens is looked up too (0: winnowed fingerprints only).
    pub dense_radius: u32,
    /// Look densely only around hits at the edge of a run (see
    /// [`edge_centers`]) instead of around every hit.
    pub dense_edges_only: bool,
    /// How seeds are extended into alignments ([`crate::pipeline`]).
    pub extend: ExtendParams,
    /// What an alignment needs to be reported.
    pub verify: VerifyParams,
    /// Fingerprints in the first lookup batch: small, so that a copy found
    /// early spares the lookups of the rest of the file.
    pub first_batch: usize,
    /// Fingerprints in each later lookup batch.
    pub batch: usize,
}

impl MatchParams {
    /// These parameters for a target of `language`. Where seeds are
    /// sampled (prose keeps one in four, `Language::seed_sampling`), a chain
    /// of one seed stands for several and is judged like any chain: an
    /// edited manual aligns hundreds of words from one seed.
    pub fn for_language(&self, language: crate::lang::Language) -> MatchParams {
        let mut p = *self;
        if language.seed_sampling() > 1 {
            p.verify.lone_seed_identity = p.verify.min_identity;
            p.verify.min_shapes = 0;
            p.verify.idiom_share = 0.0;
        }
        if matches!(
            language,
            crate::lang::Language::Text | crate::lang::Language::Prose
        ) {
            p.extend.x_drop = TEXT_X_DROP;
        }
        p
    }

    pub fn for_k(k: usize) -> MatchParams {
        MatchParams {
            align: AlignParams::for_k(k),
            min_distinct_hits: 2,
            max_candidates: 64,
            max_repeats_in_origin: MAX_REPEATS_IN_ORIGIN,
            alternative_share: 0.9,
            dense_radius: 2 * k as u32,
            dense_edges_only: true,
            extend: ExtendParams::for_k(k),
            verify: VerifyParams::for_k(k),
            first_batch: 64,
            batch: 256,
        }
    }
}

/// The X-drop of text and prose, lexed into words
/// ([`ExtendParams::x_drop`] is tighter for code): a manual or a shell
/// script edited between two releases rewords a line here and there, and
/// every word of it is a name, so the extension must carry on across more
/// of a mismatch. With code's 14, readline 8.3's manuals, PostScript and
/// configure scripts against 8.2's (`tests/review_e2e.rs`) lost 1,646 of
/// 155,235 copied lines to fragments.
pub const TEXT_X_DROP: i32 = 20;

/// A span of the target copied from one origin.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SnippetMatch {
    pub origin: u64,
    pub span: Span,
}

/// The best origin for a stretch of the target, and near-equal others.
#[derive(Clone, Debug, PartialEq)]
pub struct Finding {
    pub best: SnippetMatch,
    pub alternatives: Vec<SnippetMatch>,
}

/// Match one target file in two lookups: its winnowed fingerprints, then
/// every gram near the target positions that hit (see
/// [`crate::winnow::grams_near`]). `lookup(grams)` returns `(index in
/// grams, posting)` pairs, leaving out common fingerprints; it is the
/// caller's index, in memory or on disk.
pub fn match_file<E>(
    tokens: &[Token],
    fingerprints: &[Fingerprint],
    grams: Params,
    params: &MatchParams,
    mut lookup: impl FnMut(&[Fingerprint]) -> Result<Vec<(usize, Posting)>, E>,
) -> Result<Vec<Finding>, E> {
    let mut hits = lookup(fingerprints)?;
    if hits.is_empty() || params.dense_radius == 0 {
        return Ok(find_snippets(fingerprints, hits, params));
    }
    let mut centers: Vec<u32> = if params.dense_edges_only {
        edge_centers(fingerprints, &hits, grams.w)
    } else {
        hits.iter().map(|(i, _)| fingerprints[*i].pos).collect()
    };
    centers.sort_unstable();
    centers.dedup();
    let winnowed: Vec<u32> = fingerprints.iter().map(|f| f.pos).collect();
    let dense = grams_near(tokens, grams, &centers, params.dense_radius, &winnowed);
    let offset = fingerprints.len();
    hits.extend(lookup(&dense)?.into_iter().map(|(i, p)| (i + offset, p)));
    let mut all = fingerprints.to_vec();
    all.extend(dense);
    Ok(find_snippets(&all, hits, params))
}

/// Target positions worth dense lookups: hits at the edge of a run of
/// winnowed hits on a common origin. Inside such a run consecutive hits lie
/// at most `w` tokens apart and their k-token grams overlap, so the grams
/// between them add no coverage, only lookups (in a vendored file that is
/// every gram of it). The copy's ends and its edits are where the origin's
/// fingerprints that the target's winnowing missed are worth finding.
pub fn edge_centers(fingerprints: &[Fingerprint], hits: &[(usize, Posting)], w: usize) -> Vec<u32> {
    let mut origins: Vec<Vec<u64>> = vec![Vec::new(); fingerprints.len()];
    for (i, p) in hits {
        origins[*i].push(p.origin);
    }
    for o in &mut origins {
        o.sort_unstable();
        o.dedup();
    }
    let joined = |a: usize, b: usize| {
        fingerprints[b].pos.abs_diff(fingerprints[a].pos) <= w as u32
            && origins[a]
                .iter()
                .any(|o| origins[b].binary_search(o).is_ok())
    };
    (0..fingerprints.len())
        .filter(|&i| !origins[i].is_empty())
        .filter(|&i| {
            let inside =
                i > 0 && i + 1 < fingerprints.len() && joined(i - 1, i) && joined(i, i + 1);
            !inside
        })
        .map(|i| fingerprints[i].pos)
        .collect()
}

/// Match one target file. `hits` pairs the index of a target fingerprint in
/// `target` with one posting of the same hash.
pub fn find_snippets(
    target: &[Fingerprint],
    hits: impl IntoIterator<Item = (usize, Posting)>,
    params: &MatchParams,
) -> Vec<Finding> {
    let by_origin = group_hits(target, hits, params.max_repeats_in_origin);
    let mut ranked: Vec<(u64, usize, Vec<Hit>)> = by_origin
        .into_iter()
        .map(|(origin, hits)| (origin, distinct_targets(&hits), hits))
        .filter(|(_, distinct, _)| *distinct >= params.min_distinct_hits)
        .collect();
    ranked.sort_unstable_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    ranked.truncate(params.max_candidates);
    let mut matches: Vec<SnippetMatch> = ranked
        .iter()
        .flat_map(|(origin, _, hits)| {
            align(hits, &params.align)
                .into_iter()
                .map(move |span| SnippetMatch {
                    origin: *origin,
                    span,
                })
        })
        .collect();
    matches.sort_by(|a, b| {
        b.span
            .matched_tokens
            .cmp(&a.span.matched_tokens)
            .then(b.span.similarity.total_cmp(&a.span.similarity))
            .then(a.origin.cmp(&b.origin))
    });
    // Ranked by position: no two matches tie.
    settle(
        matches.into_iter().enumerate().collect(),
        params.alternative_share,
    )
}

fn group_hits(
    target: &[Fingerprint],
    hits: impl IntoIterator<Item = (usize, Posting)>,
    max_repeats: usize,
) -> HashMap<u64, Vec<Hit>> {
    let mut by_origin: HashMap<u64, Vec<Hit>> = HashMap::new();
    for (i, posting) in hits {
        by_origin.entry(posting.origin).or_default().push(Hit {
            target: Anchor::from(&target[i]),
            origin: posting.anchor,
        });
    }
    for hits in by_origin.values_mut() {
        hits.sort_unstable();
        drop_repetitive(hits, max_repeats);
    }
    by_origin
}

/// Greedy, best first: a match over target lines already claimed becomes an
/// alternative if nearly as good, and is dropped otherwise.
///
/// Alternatives name other origins, with one exception: another place in
/// the best match's own origin whose rank `K` equals the best's. A file that
/// holds the same code twice (a test repeating a block, a table printed
/// twice) gives a renamed copy of it two equal fits, and which one was
/// copied cannot be told; naming one and hiding the other would be a guess.
pub(crate) fn settle<K: PartialEq>(
    matches: Vec<(K, SnippetMatch)>,
    alternative_share: f64,
) -> Vec<Finding> {
    let mut findings: Vec<(K, Finding)> = Vec::new();
    for (key, m) in matches {
        let claimed = findings
            .iter_mut()
            .find(|(_, f)| f.best.span.target_lines.overlap_share(&m.span.target_lines) >= 0.5);
        match claimed {
            Some((best_key, f)) => {
                let close = m.span.matched_tokens as f64
                    >= alternative_share * f.best.span.matched_tokens as f64;
                let new_origin = f.best.origin != m.origin
                    && f.alternatives.iter().all(|a| a.origin != m.origin);
                let elsewhere = |other: &SnippetMatch| {
                    other.origin != m.origin
                        || other.span.origin_lines.overlap_share(&m.span.origin_lines) == 0.0
                };
                let same_origin_tie = f.best.origin == m.origin
                    && *best_key == key
                    && f.alternatives.len() < MAX_ALTERNATIVES
                    && std::iter::once(&f.best)
                        .chain(&f.alternatives)
                        .all(elsewhere);
                if (close && new_origin) || same_origin_tie {
                    f.alternatives.push(m);
                }
            }
            None => findings.push((
                key,
                Finding {
                    best: m,
                    alternatives: Vec::new(),
                },
            )),
        }
    }
    let mut findings: Vec<Finding> = findings.into_iter().map(|(_, f)| f).collect();
    findings.sort_by_key(|f| f.best.span.target_lines.first);
    findings
}

/// Places of the best origin's own that a finding lists beside it (see
/// [`settle`]).
const MAX_ALTERNATIVES: usize = 4;

#[cfg(test)]
mod tests {
    use super::*;

    fn fp(pos: u32) -> Fingerprint {
        Fingerprint {
            hash: pos as u64,
            pos,
            first_line: pos / 8 + 1,
            last_line: (pos + 19) / 8 + 1,
        }
    }

    fn posting(origin: u64, pos: u32) -> Posting {
        Posting {
            origin,
            anchor: Anchor::from(&fp(pos)),
        }
    }

    fn target() -> Vec<Fingerprint> {
        (0..40).map(|i| fp(i * 6)).collect()
    }

    #[test]
    fn dense_lookups_center_on_the_edges_of_runs() {
        let t = target(); // fingerprints 6 tokens apart
                          // Fingerprints 2..=9 hit origin 1, 10..=12 origin 2, 20 origin 1 alone.
        let hits: Vec<(usize, Posting)> = (2..=9)
            .map(|i| (i, posting(1, i as u32 * 6)))
            .chain((10..=12).map(|i| (i, posting(2, i as u32 * 6))))
            .chain([(20, posting(1, 120))])
            .collect();
        let centers = edge_centers(&t, &hits, 8);
        let positions = |is: &[u32]| is.iter().map(|i| i * 6).collect::<Vec<u32>>();
        // Run ends (2, 9 | 10, 12) and the lone hit; a change of origin is an edge.
        assert_eq!(centers, positions(&[2, 9, 10, 12, 20]));
        // Hits farther apart than w are not one run.
        assert_eq!(
            edge_centers(&t, &hits, 5),
            positions(&[2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 20])
        );
    }

    #[test]
    fn copies_of_copies_become_alternatives() {
        let t = target();
        let hits = (0..30).flat_map(|i| {
            [
                (i, posting(7, 1000 + i as u32 * 6)),
                (i, posting(9, i as u32 * 6)),
            ]
        });
        let findings = find_snippets(&t, hits, &MatchParams::for_k(20));
        assert_eq!(findings.len(), 1, "{findings:?}");
        let f = &findings[0];
        assert_eq!(f.alternatives.len(), 1);
        assert_ne!(f.best.origin, f.alternatives[0].origin);
        assert_eq!(f.best.span.target_lines.first, 1);
    }

    #[test]
    fn two_origins_for_two_parts() {
        let t = target();
        let first = (0..15).map(|i| (i, posting(1, 300 + i as u32 * 6)));
        let second = (20..40).map(|i| (i, posting(2, i as u32 * 6)));
        let findings = find_snippets(&t, first.chain(second), &MatchParams::for_k(20));
        let origins: Vec<u64> = findings.iter().map(|f| f.best.origin).collect();
        assert_eq!(origins, vec![1, 2]);
        assert!(findings.iter().all(|f| f.alternatives.is_empty()));
    }

    #[test]
    fn weaker_overlapping_origin_is_dropped() {
        let t = target();
        let strong = (0..30).map(|i| (i, posting(1, i as u32 * 6)));
        let weak = (0..12).map(|i| (i, posting(2, i as u32 * 6)));
        let findings = find_snippets(&t, strong.chain(weak), &MatchParams::for_k(20));
        assert_eq!(findings.len(), 1);
        assert_eq!(findings[0].best.origin, 1);
        assert!(findings[0].alternatives.is_empty());
    }

    #[test]
    fn repetitive_grams_are_ignored() {
        let t = target();
        let hits =
            (0..10).flat_map(|r| (0..30).map(move |i| (i, posting(3, r * 5000 + i as u32 * 6))));
        let params = MatchParams {
            max_repeats_in_origin: 4,
            ..MatchParams::for_k(20)
        };
        assert!(find_snippets(&t, hits, &params).is_empty());
    }
}
