//! The matching pipeline: seed, chain, extend, verify, settle.
//!
//! Where postings and origin streams come from is behind two small traits,
//! [`Postings`] and [`Streams`]: the RocksDB index implements them for
//! `scan`, [`crate::memory::MemoryIndex`] for `compare`, the accuracy
//! harness and tests. All of them run this one function.
//!
//! Seeds are the target's winnowed fingerprints, looked up in batches in
//! the order they occur. Hits are chained per origin ([`crate::align::Chainer`]),
//! and each chain is aligned against the origin's stored token stream and
//! extended to the ends of the copy ([`crate::extend`]). A stretch of the
//! target that a verified alignment explains needs no more lookups: a
//! vendored file identical or close to an indexed one costs one batch, not
//! one lookup per fingerprint.

// Keys are origin ids, token positions and name symbols: small integers
// that a hasher made for them takes faster than SipHash.
use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};
use std::sync::Arc;

use crate::align::{Anchor, Chainer, Hit, Range, Span};
use crate::extend::{
    extend_chain, Alignment, AloneFloors, Tokens, SHAPE_LEN, VERBATIM_MIN_MATCHES,
};
use crate::intervals::Intervals;
use crate::matcher::{settle, Finding, MatchParams, Posting, SnippetMatch};
use crate::repeats::Repeats;
use crate::reseed::TargetGrams;
use crate::stream::{compatible, is_literal, is_name, same_name, SymbolStream, NAME_BIT};
use crate::winnow::Fingerprint;

/// Postings by gram hash: the seeds' side of an index.
pub trait Postings {
    type Error;
    /// `(index in grams, posting)` for every usable posting of `grams`;
    /// grams common to too many origins are left out (the index's policy).
    fn lookup(&self, grams: &[Fingerprint]) -> Result<Vec<(usize, Posting)>, Self::Error>;
}

/// Origins' token streams: the extension's side of an index.
pub trait Streams {
    type Error;
    /// The stream of origin `origin`, `None` if the index has none for it
    /// (a content indexed without its stream cannot be extended).
    fn stream(&self, origin: u64) -> Result<Option<Arc<SymbolStream>>, Self::Error>;
}

/// What matching one target gave.
#[derive(Clone, Debug, Default)]
pub struct Matched {
    pub findings: Vec<Finding>,
    /// Small files aligned end to end whose code is too short for the
    /// token floor (an interface, an enum: most of such a file is its
    /// comments), closest first, when nothing else was found: candidates
    /// for the caller to confirm with both files' full text.
    pub small_files: Vec<SnippetMatch>,
    /// Weak findings with nothing else in the target from their origin
    /// (see [`alone_and_weak`]), for the caller to judge: `compare` and the
    /// harness, which see no more than the target, report them
    /// ([`Matched::all_findings`]); `scan` drops those against a project it
    /// found vendored as a tree when the file lies outside that tree.
    pub alone: Vec<Finding>,
    /// Fingerprints looked up.
    pub lookups: usize,
    /// Fingerprints that no finding covers once matching is done (alone
    /// or not): the floor of `lookups`, whatever the order of the batches,
    /// since only a lookup tells that code is in no origin (short of
    /// sampling the fingerprints, which loses short copies).
    pub unexplained: usize,
    /// The [`Alignment::work`] of every chain aligned, and of those whose
    /// alignment is reported (a finding, an alternative, a small file):
    /// the rest went to chains that verification or settling threw away,
    /// the part of the matching that better candidates could save.
    pub work: Work,
}

/// See [`Matched::work`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Work {
    pub aligned: u64,
    pub reported: u64,
}

impl Matched {
    /// Every finding, alone or not, in target order: what a caller that
    /// has no wider view than the target reports.
    pub fn all_findings(self) -> Vec<Finding> {
        let mut all = self.findings;
        all.extend(self.alone);
        all.sort_by_key(|f| f.best.span.target_lines.first);
        all
    }
}

/// Target token ranges already explained by a verified alignment, with
/// the target positions of the seed hits that found each.
#[derive(Default)]
struct Explained(Intervals<Vec<u32>>);

impl Explained {
    fn add(&mut self, r: Range, chain: &[Hit]) {
        let mut seeds: Vec<u32> = chain.iter().map(|h| h.target.pos).collect();
        seeds.dedup();
        self.0.insert(r, seeds);
    }

    /// The explained stretches as disjoint ranges, in order (ranges that
    /// overlap or touch made one).
    fn merged(&self) -> Vec<Range> {
        let mut merged: Vec<Range> = Vec::new();
        for r in self.0.ranges() {
            match merged.last_mut() {
                Some(m) if r.first <= m.last.saturating_add(1) => m.last = m.last.max(r.last),
                _ => merged.push(r),
            }
        }
        merged
    }

    fn covers(&self, first: u32, last: u32) -> bool {
        self.0.containing(first, last).next().is_some()
    }

    /// Whether a chain with `seeds` distinct target hits over target tokens
    /// `first..=last` is too weak to matter: an alignment already explains
    /// the stretch, found by at least `SEED_ADVANTAGE` times as many hits of
    /// the same lookups there. A copy nearly as close as that one (one
    /// settling could list as an alternative) shares most of its seeds;
    /// a chain of a few idioms does not, and aligning it costs a banded
    /// extension for a match that settling throws away.
    fn outweighs(&self, first: u32, last: u32, seeds: usize) -> bool {
        self.0.containing(first, last).any(|(_, hits)| {
            let a = hits.partition_point(|&p| p < first);
            let b = hits.partition_point(|&p| p <= last);
            b - a >= SEED_ADVANTAGE * seeds
        })
    }
}

/// Most origins a gram may be in for one hit of it to make a candidate.
const RARE_SEED_ORIGINS: usize = 1;

/// A chain of one seed has less to stand on than the verify floor assumes:
/// its alignment must be closer (`VerifyParams::lone_seed_identity`).
fn too_loose_for_one_seed(chain: &[Hit], a: &Alignment, params: &MatchParams) -> bool {
    distinct_targets(chain) == 1 && a.identity() < params.verify.lone_seed_identity
}

/// See [`Explained::outweighs`].
const SEED_ADVANTAGE: usize = 4;

/// Matches one target against an index. `target` is the target's symbol
/// stream and `fingerprints` its winnowed fingerprints, in position order.
pub fn match_target<E, P, S>(
    target: &SymbolStream,
    fingerprints: &[Fingerprint],
    postings: &P,
    streams: &S,
    params: &MatchParams,
) -> Result<Matched, E>
where
    P: Postings<Error = E>,
    S: Streams<Error = E>,
{
    let k = params.extend.k;
    let mut run = Run {
        target,
        fingerprints,
        streams,
        params,
        out: Matched::default(),
        hits_by_origin: HashMap::default(),
        chainers: HashMap::default(),
        local_hits: HashMap::default(),
        aligned: Vec::new(),
        small: Vec::new(),
        explained: Explained::default(),
        tried: HashMap::default(),
        fetched: HashMap::default(),
        reseeded: HashSet::default(),
        target_grams: None,
        repeats: Repeats::default(),
        target_keys: std::cell::OnceCell::new(),
    };
    // Per looked-up target position, the number of origins its gram is in.
    let mut origins_of: HashMap<u32, usize> = HashMap::default();
    let mut next = 0;
    let mut batch_size = params.first_batch.max(1);
    while next < fingerprints.len() {
        let mut batch: Vec<Fingerprint> = Vec::with_capacity(batch_size);
        while next < fingerprints.len() && batch.len() < batch_size {
            let f = fingerprints[next];
            next += 1;
            if !run.explained.covers(f.pos, f.pos + k - 1) {
                batch.push(f);
            }
        }
        batch_size = params.batch.max(1);
        if batch.is_empty() {
            continue;
        }
        run.out.lookups += batch.len();
        let hits = postings.lookup(&batch)?;
        // How many origins each gram of the batch is in.
        let mut spread: HashMap<usize, HashSet<u64>> = HashMap::default();
        for (i, p) in &hits {
            spread.entry(*i).or_default().insert(p.origin);
        }
        for (i, origins) in spread {
            origins_of.insert(batch[i].pos, origins.len());
        }
        let mut touched: HashSet<u64> = HashSet::default();
        for (i, p) in hits {
            touched.insert(p.origin);
            run.hits_by_origin.entry(p.origin).or_default().push(Hit {
                target: Anchor::from(&batch[i]),
                origin: p.anchor,
            });
        }
        // The best-seeded origins of this batch, by distinct target hits.
        let mut touched: Vec<u64> = touched.into_iter().collect();
        touched.sort_unstable();
        let mut ranked: Vec<(u64, usize)> = Vec::new();
        let mut resolved = 0;
        for o in touched {
            let hits = run.hits_by_origin.get_mut(&o).expect("touched");
            hits.sort_unstable();
            hits.dedup();
            let repeated = drop_repetitive(hits, params.max_repeats_in_origin);
            let mut n = distinct_targets(hits);
            // An origin seeded only by grams it repeats (a test repeating
            // one assertion with other numbers) would be lost: the literal
            // values in its stream may still tell where the copy is.
            if (n < params.min_distinct_hits || repeated.len() > n)
                && repeated.len() >= params.min_distinct_hits
                && resolved < MAX_RESOLVED_PER_BATCH
            {
                resolved += 1;
                if let Some(stream) = fetch(&mut run.fetched, streams, o)? {
                    hits.extend(resolve_repeats(
                        target,
                        &stream,
                        &repeated,
                        params.extend.k as usize,
                        params.max_repeats_in_origin,
                    ));
                    hits.sort_unstable();
                    hits.dedup();
                    n = distinct_targets(hits);
                }
            }
            // A single seed is enough when its gram is in no more than
            // `RARE_SEED_ORIGINS` origins: a short copy edited in the middle
            // keeps one intact fingerprint of its origin more often than
            // two, and the alignment then judges it like any other.
            let rare_single = n == 1
                && hits.first().is_some_and(|h| {
                    origins_of
                        .get(&h.target.pos)
                        .is_some_and(|&c| c <= RARE_SEED_ORIGINS)
                });
            if n >= params.min_distinct_hits || rare_single {
                ranked.push((o, n));
            }
        }
        ranked.sort_unstable_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        ranked.truncate(params.max_candidates);
        let mut verified = Vec::new();
        for (origin, _) in ranked {
            if run.align_origin(origin)? > 0 {
                verified.push(origin);
            }
        }
        // Before the index is asked about the rest of the target, the
        // origins just verified are asked directly (see [`crate::reseed`]).
        for origin in verified {
            if run.reseeded.insert(origin) && run.reseed(origin) {
                run.align_origin(origin)?;
            }
        }
    }
    let Run {
        mut out,
        aligned,
        small,
        fetched,
        ..
    } = run;
    let work_of = |list: &[(u64, Alignment, u32)]| -> HashMap<(u64, Range), u64> {
        let mut of: HashMap<(u64, Range), u64> = HashMap::default();
        for (origin, a, _) in list {
            *of.entry((*origin, a.target)).or_default() += a.work;
        }
        of
    };
    let (aligned_work, small_work) = (work_of(&aligned), work_of(&small));
    // The origin (and the place in it) the target is closest to wins; its
    // near-equals become alternatives.
    let settled = settle(
        closest_first(aligned, target, &fetched),
        params.alternative_share,
    );
    (out.findings, out.alone) = alone_and_weak(settled, target.len(), params.verify.alone);
    out.unexplained = unexplained(fingerprints, k, out.findings.iter().chain(&out.alone));
    if out.findings.is_empty() && out.alone.is_empty() {
        out.small_files = closest_first(small, target, &fetched)
            .into_iter()
            .map(|(_, m)| m)
            .collect();
    }
    out.work.reported = reported_work(&out, &aligned_work, &small_work);
    Ok(out)
}

/// The work of the alignments `out` reports, from the work of the kept
/// alignments and of the small files' by (origin, target tokens). Each
/// reported match is its alignment's span, so the key finds it; a key
/// reported twice (a finding and its own alternative cannot be) counts
/// once.
fn reported_work(
    out: &Matched,
    aligned: &HashMap<(u64, Range), u64>,
    small: &HashMap<(u64, Range), u64>,
) -> u64 {
    let mut seen: HashSet<(u64, Range)> = HashSet::default();
    let findings = out.findings.iter().chain(&out.alone);
    let matches = findings.flat_map(|f| std::iter::once(&f.best).chain(&f.alternatives));
    let mut work = 0;
    for m in matches {
        let key = (m.origin, m.span.target_tokens);
        if seen.insert(key) {
            work += aligned.get(&key).copied().unwrap_or(0);
        }
    }
    for m in &out.small_files {
        let key = (m.origin, m.span.target_tokens);
        if seen.insert(key) {
            work += small.get(&key).copied().unwrap_or(0);
        }
    }
    work
}

/// How many of `fingerprints` (grams of `k` tokens) lie in no finding's
/// target tokens.
fn unexplained<'a>(
    fingerprints: &[Fingerprint],
    k: u32,
    findings: impl Iterator<Item = &'a Finding>,
) -> usize {
    let mut spans: Intervals<()> = Intervals::default();
    for f in findings {
        spans.insert(f.best.span.target_tokens, ());
    }
    fingerprints
        .iter()
        .filter(|f| spans.containing(f.pos, f.pos + k - 1).next().is_none())
        .count()
}

/// Splits settled findings into those that stand, and the weak ones
/// (under [`AloneFloors::min_matches`] aligned tokens, or under
/// [`AloneFloors::min_identity`]) that stand alone: no finding in the
/// target from their origin (best or alternative) that is not weak itself,
/// and most of the target left outside them. 40 tokens of structure are as often an idiom as a
/// copy (a Go table-driven test loop, an `if err := …; err != nil` pair, a
/// Python import block), and so is a longer stretch that only resembles
/// its origin; what tells such a copy from an idiom is its company: the
/// rest of a copied file found beside it, the whole of a small file, or,
/// what only the caller sees, where the target lies in a scan that found
/// the same project vendored as a tree (`scan`'s last step).
pub fn alone_and_weak(
    findings: Vec<Finding>,
    target_tokens: usize,
    floors: AloneFloors,
) -> (Vec<Finding>, Vec<Finding>) {
    let origins = |f: &Finding| -> Vec<u64> {
        std::iter::once(f.best.origin)
            .chain(f.alternatives.iter().map(|a| a.origin))
            .collect()
    };
    let all: Vec<Vec<u64>> = findings.iter().map(origins).collect();
    let weak: Vec<bool> = findings
        .iter()
        .map(|f| {
            f.best.span.matched_tokens < floors.min_matches
                || f.best.span.similarity < floors.min_identity
        })
        .collect();
    let mut stand = Vec::new();
    let mut alone = Vec::new();
    for (i, f) in findings.into_iter().enumerate() {
        let most_of_target = f.best.span.target_tokens.count() as usize * 4 >= target_tokens * 3;
        // Company is a finding that is not weak itself: two idioms of one
        // origin (a pair of Go benchmark loops) keep each other none.
        let in_company = all
            .iter()
            .enumerate()
            .any(|(j, o)| j != i && !weak[j] && o.iter().any(|x| all[i].contains(x)));
        let weak = weak[i];
        if weak && !most_of_target && !in_company {
            alone.push(f);
        } else {
            stand.push(f);
        }
    }
    (stand, alone)
}

/// Alignments `(origin, alignment, seed hits)` as matches, each with how
/// close it is to its origin, closest first (ties by origin id).
fn closest_first(
    alignments: Vec<(u64, Alignment, u32)>,
    target: &SymbolStream,
    fetched: &HashMap<u64, Option<Arc<SymbolStream>>>,
) -> Vec<(Closeness, SnippetMatch)> {
    let mut matches: Vec<(Closeness, SnippetMatch)> = alignments
        .into_iter()
        .map(|(origin, a, hits)| {
            let stream = fetched[&origin].as_deref().expect("aligned");
            (
                Closeness::of(&a, target, stream),
                SnippetMatch {
                    origin,
                    span: span_of(&a, hits, target, stream),
                },
            )
        })
        .collect();
    matches.sort_by(|(ka, a), (kb, b)| kb.cmp(ka).then(a.origin.cmp(&b.origin)));
    matches
}

/// The state of matching one target.
struct Run<'a, S> {
    target: &'a SymbolStream,
    fingerprints: &'a [Fingerprint],
    streams: &'a S,
    params: &'a MatchParams,
    out: Matched,
    hits_by_origin: HashMap<u64, Vec<Hit>>,
    /// Per origin, its hits chained as of its last alignment.
    chainers: HashMap<u64, Chainer>,
    /// Per origin, the (target, origin) positions of the hits found in its
    /// stream rather than in the index: they extend a copy, but do not
    /// count as the index's evidence against other origins
    /// ([`Explained::outweighs`]).
    local_hits: HashMap<u64, HashSet<(u32, u32)>>,
    aligned: Vec<(u64, Alignment, u32)>,
    /// Alignments of a small file with an origin, end to end, verified
    /// but for the token floor ([`whole_small_files`]).
    small: Vec<(u64, Alignment, u32)>,
    explained: Explained,
    /// Per origin, the target stretches aligned with it (kept or
    /// rejected), each with the origin stretch it aligned with.
    tried: HashMap<u64, Intervals<Range>>,
    fetched: HashMap<u64, Option<Arc<SymbolStream>>>,
    /// Origins whose stream was searched for the target's grams: once is
    /// enough, since what is still open can only shrink.
    reseeded: HashSet<u64>,
    /// The target's fingerprint grams, once an origin is reseeded.
    target_grams: Option<TargetGrams>,
    /// The shapes the target repeats, once an alignment keeps too little
    /// of its text to stand without them.
    repeats: Repeats,
    /// The target's [`distinctive_keys`], for the extension: made at the
    /// first extension, since most files of a scan have none.
    target_keys: std::cell::OnceCell<Vec<u16>>,
}

impl<E, S: Streams<Error = E>> Run<'_, S> {
    /// Extends and verifies the chains of `origin`'s hits; returns how many
    /// alignments were kept.
    fn align_origin(&mut self, origin: u64) -> Result<usize, E> {
        let (target, params) = (self.target, self.params);
        let k = params.extend.k;
        let mut kept = 0;
        // The stream is fetched (and decoded) only for a chain that is
        // extended.
        let mut stream: Option<Arc<SymbolStream>> = None;
        let chains = self
            .chainers
            .entry(origin)
            .or_default()
            .chains(&self.hits_by_origin[&origin], params.align.max_gap);
        for chain in chains.iter() {
            let (first, last) = (chain[0], chain[chain.len() - 1]);
            // A chain inside a stretch already aligned with this origin
            // (kept or rejected) would only give the same alignment.
            let done = self.tried.get(&origin).is_some_and(|t| {
                t.containing(first.target.pos, last.target.pos + k - 1)
                    .any(|(_, r)| r.first <= first.origin.pos && last.origin.pos + k - 1 <= r.last)
            });
            if done {
                continue;
            }
            // Nor would a chain that a stronger alignment's seeds outweigh.
            let (tf, tl) = (first.target.pos, last.target.pos + k - 1);
            let local = self.local_hits.get(&origin);
            let index_seeds: Vec<Hit> = chain
                .iter()
                .filter(|h| local.is_none_or(|l| !l.contains(&(h.target.pos, h.origin.pos))))
                .copied()
                .collect();
            // A chain of the origin's own grams alone needs as many seeds
            // as the index asks of a candidate: one gram next to code the
            // origin repeats would otherwise start an alignment anywhere
            // along the repeats.
            let weak = index_seeds.is_empty() && distinct_targets(chain) < params.min_distinct_hits;
            if weak
                || self
                    .explained
                    .outweighs(tf, tl, distinct_targets(&index_seeds))
            {
                continue;
            }
            if stream.is_none() {
                let Some(s) = fetch(&mut self.fetched, self.streams, origin)? else {
                    break;
                };
                stream = Some(s);
            }
            let stream = stream.as_ref().expect("fetched");
            let Some(mut a) = extend_chain(
                Tokens {
                    syms: &target.syms,
                    keys: self.target_keys.get_or_init(|| distinctive_keys(target)),
                },
                Tokens {
                    syms: &stream.syms,
                    keys: stream.text_keys(),
                },
                chain,
                &params.extend,
            ) else {
                continue;
            };
            self.out.work.aligned += a.work;
            self.tried
                .entry(origin)
                .or_default()
                .insert(a.target, a.origin);
            trim_to_literals(&mut a, target, stream);
            trim_to_lines(&mut a, target, stream);
            trim_unsupported_ends(&mut a, target, stream);
            let short = a.matches < params.verify.min_matches;
            let small = short && whole_small_files(&a, target, stream);
            let verify = if small {
                params.verify.for_small_files()
            } else if short
                && a.matches >= VERBATIM_MIN_MATCHES
                && KeptText::of(&a, target, stream).verbatim()
            {
                params.verify.for_verbatim()
            } else {
                params.verify
            };
            if too_loose_for_one_seed(chain, &a, params)
                || verify.reject(&a).is_some()
                || !lines_agree(&a, target, stream, params)
            {
                continue;
            }
            let literals = literal_pairs(&a, target, stream);
            if !literals_agree(&a, literals)
                || !informative(&a, target, stream, literals, params)
                || self.own_idiom(&a, stream, literals)
            {
                continue;
            }
            if small {
                self.small.push((origin, a, chain.len() as u32));
                continue;
            }
            // Which lines to report, once the copy is accepted: the edited
            // lines at its ends are evidence that it is one.
            trim_foreign_ends(&mut a, target, stream);
            trim_detached_ends(&mut a, target, stream);
            self.explained.add(a.target, &index_seeds);
            // An earlier alignment with this origin that this one holds on
            // both sides was a part of the same copy, found from fewer
            // seeds (a batch that held only part of them).
            let holds = |r: Range, s: Range| r.first <= s.first && s.last <= r.last;
            self.aligned.retain(|(o, b, _)| {
                *o != origin || !(holds(a.target, b.target) && holds(a.origin, b.origin))
            });
            self.aligned.push((origin, a, chain.len() as u32));
            kept += 1;
        }
        Ok(kept)
    }

    /// Whether a verified alignment whose names and values are mostly
    /// others than its origin's lies on structure the target repeats
    /// elsewhere in itself ([`crate::repeats`]): then the origin only
    /// shares the target's idiom. Tables are left to their values.
    ///
    /// The text is judged twice, cheaply first: along the alignment's
    /// path (a copy that kept most of its text in place is no idiom), then
    /// as the names and values the two stretches have at all, wherever
    /// they stand. A newer release that inserted rows into a run of
    /// similar ones shifts the alignment off its pairs (the extension
    /// scores names by class, so any row pairs with any other), and pair
    /// by pair little text then agrees although the rows' names are all
    /// on both sides: OpenSSL's `obj_mac.h`, SQLite's `func.c` across
    /// releases.
    fn own_idiom(&mut self, a: &Alignment, o: &SymbolStream, literals: Option<(u32, u32)>) -> bool {
        let share = self.params.verify.idiom_share;
        let t = self.target;
        // A table's values have decided (`literals_agree`).
        let table = literals.is_some_and(|(pairs, _)| carried_by_literals(a, pairs));
        if share <= 0.0 || table || t.names.is_empty() || o.names.is_empty() {
            return false;
        }
        let (same, differ) = text_tally(&a.path, t, o);
        let judged = same + differ;
        if judged == 0 || same * 5 >= judged * 4 || shared_text(a, t, o) * 2.0 >= 1.0 {
            return false;
        }
        self.repeats.share_elsewhere(t, a.target) >= share
    }

    /// Adds the hits of `origin`'s own stream for the target's fingerprints
    /// that no alignment explains yet; whether any were new.
    fn reseed(&mut self, origin: u64) -> bool {
        let Some(Some(stream)) = self.fetched.get(&origin).cloned() else {
            return false;
        };
        let (k, max) = (self.params.extend.k, self.params.max_repeats_in_origin);
        let target = self.target;
        let fingerprints = self.fingerprints;
        let explained = self.explained.merged();
        let open = |pos: u32| {
            // The explained range starting last at or before the gram.
            let at = explained.partition_point(|r| r.first <= pos);
            at == 0 || explained[at - 1].last < pos + k - 1
        };
        // A file the alignments already explain whole (a vendored copy)
        // has nothing left to look for: the pass over the origin's stream
        // would find only what is explained (0.95 CPU of a scan of the
        // bench's copies tree).
        if !fingerprints.iter().any(|f| open(f.pos)) {
            return false;
        }
        let grams = self.target_grams.get_or_insert_with(|| {
            TargetGrams::new(
                target,
                fingerprints.iter().map(Anchor::from).collect(),
                k as usize,
            )
        });
        let found = grams.hits(target, &stream, max, |a| open(a.pos));
        let hits = self.hits_by_origin.entry(origin).or_default();
        let local = self.local_hits.entry(origin).or_default();
        let before = hits.len();
        let known: HashSet<(u32, u32)> =
            hits.iter().map(|h| (h.target.pos, h.origin.pos)).collect();
        for h in found {
            if !known.contains(&(h.target.pos, h.origin.pos)) {
                local.insert((h.target.pos, h.origin.pos));
                hits.push(h);
            }
        }
        if hits.len() == before {
            return false;
        }
        hits.sort_unstable();
        true
    }
}

/// How close a target stretch is to the origin stretch it aligns with;
/// greater is closer.
///
/// Aligned tokens count, and every token of either range left unmatched
/// counts half against: a copy found with 124 matches over 128 target and
/// 178 origin tokens is a looser fit than one with 116 over 119 and 117,
/// and ranking by matches alone named the loose one (a renamed Rust match
/// arm found again in an arm of another shape further up its own file).
/// Between equal fits (code that a file holds twice, or two releases of a
/// file) the one whose names and literal values agree with the target's
/// text most is the copy: a copy often keeps its names and constants, and
/// two releases differ in a few of them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct Closeness {
    /// `4 × matches − target tokens − origin tokens`: twice (matches −
    /// unmatched / 2), kept integral.
    fit: i64,
    /// Aligned names and literals with the same text on both sides.
    same_text: u32,
}

impl Closeness {
    fn of(a: &Alignment, t: &SymbolStream, o: &SymbolStream) -> Closeness {
        let fit =
            4 * i64::from(a.matches) - i64::from(a.target.count()) - i64::from(a.origin.count());
        let same_text = a
            .path
            .iter()
            .filter(|&&p| same_text(t, o, p) == Some(true))
            .count() as u32;
        Closeness { fit, same_text }
    }
}

/// The target's text keys (`SymbolStream::text_keys`) but for names and
/// values the file uses everywhere (`self`, `i`, `0`): the extension's
/// bonus for a pair of the same text is what keeps a copy's names in
/// step, and one that every line of a Python class earns would carry the
/// extension on through the host's lines of the same shape.
fn distinctive_keys(target: &SymbolStream) -> Vec<u16> {
    let mut keys = target.text_keys().to_vec();
    let mut counts: HashMap<u16, u32> = HashMap::default();
    for &k in keys.iter().filter(|&&k| k != 0) {
        *counts.entry(k).or_default() += 1;
    }
    let most = (keys.len() / COMMON_TEXT_SHARE).max(COMMON_TEXT_MIN) as u32;
    for k in keys.iter_mut() {
        if *k != 0 && counts[k] > most {
            *k = 0;
        }
    }
    keys
}

/// Fewest distinct names and values of a verbatim copy
/// ([`KeptText::verbatim`]): with 6, 5-line copies kept verbatim (T1) were
/// found at 0.604 on the harness, with 4 at 0.633 (3 as 4), the false
/// findings the same.
const VERBATIM_MIN_TEXTS: u32 = 4;

/// See [`distinctive_keys`]: a name or value is everywhere in a file when
/// more than one token in this many is it (and more than
/// [`COMMON_TEXT_MIN`] tokens).
const COMMON_TEXT_SHARE: usize = 300;
const COMMON_TEXT_MIN: usize = 4;

/// Whether the name, or the literal value, of an aligned pair has the same
/// text on both sides; `None` for other tokens, and for literals when a
/// stream lacks their values. Aligned names face names (`compatible`), so
/// the target side tells the kind.
fn same_text(t: &SymbolStream, o: &SymbolStream, (i, j): (u32, u32)) -> Option<bool> {
    let (i, j) = (i as usize, j as usize);
    if is_name(t.syms[i]) {
        Some(same_name(t, i, o, j))
    } else if is_literal(t.syms[i]) && !t.values.is_empty() && !o.values.is_empty() {
        Some(t.values[i] == o.values[j])
    } else {
        None
    }
}

/// Of the aligned pairs of `path` that are names or literal values
/// ([`same_text`]), how many keep their text, and how many do not.
fn text_tally(path: &[(u32, u32)], t: &SymbolStream, o: &SymbolStream) -> (u32, u32) {
    path.iter()
        .filter_map(|&p| same_text(t, o, p))
        .fold((0, 0), |(same, differ), kept| {
            if kept {
                (same + 1, differ)
            } else {
                (same, differ + 1)
            }
        })
}

/// Moves the ends of an alignment off lines it barely enters. An extension
/// takes every token that happens to agree past the end of a copy (`return
/// 0; }` ends many a function on both sides), which would report a line the
/// copy does not hold. A first or last line, on either side, of which less
/// than half the tokens are inside the range is given up, and the other
/// side's end follows along the alignment's path (a range never loses its
/// last line this way: only a line it goes on past).
fn trim_to_lines(a: &mut Alignment, t: &SymbolStream, o: &SymbolStream) {
    for _ in 0..2 {
        let ct = partial_first_line(t, a.target);
        let co = partial_first_line(o, a.origin);
        if ct > 0 || co > 0 {
            let (tf, of) = (a.target.first + ct, a.origin.first + co);
            a.path.retain(|&(i, j)| i >= tf && j >= of);
        }
        let ct = partial_last_line(t, a.target);
        let co = partial_last_line(o, a.origin);
        if ct > 0 || co > 0 {
            let (tl, ol) = (a.target.last - ct, a.origin.last - co);
            a.path.retain(|&(i, j)| i <= tl && j <= ol);
        }
        if !a.fit_to_path() {
            return;
        }
    }
}

/// Moves the ends of an alignment off lines whose names nothing else in it
/// supports. Names align with any names, so the host's statement just
/// before a paste (`output2 = yaml.dump(value2)`) aligns with the origin's
/// statement just before the copied lines (`s = json.dumps(obj)`) and
/// extends the copy by a line it does not hold. A line really copied
/// shares a renaming with the rest of the copy: a variable it declares
/// is used further on, one it uses was declared before. An end line none
/// of whose (target name, origin name) pairs occurs elsewhere in the
/// alignment, and one of whose names the rest maps to another name, is
/// given up; one line at each end (two gave the harness 0.002 more range
/// precision and cost 10-line T3 copies 0.002 of recall, their edited
/// last line).
fn trim_unsupported_ends(a: &mut Alignment, t: &SymbolStream, o: &SymbolStream) {
    let pair = |&(i, j): &(u32, u32)| -> Option<(u32, u32)> {
        let (ts, os) = (t.syms[i as usize], o.syms[j as usize]);
        (is_name(ts) && is_name(os)).then_some((ts, os))
    };
    let mut counts: HashMap<(u32, u32), u32> = HashMap::default();
    for p in a.path.iter().filter_map(pair) {
        *counts.entry(p).or_default() += 1;
    }
    // Path entries on the target line of the entry at `at`, as a range.
    let line_of = |path: &[(u32, u32)], at: usize| -> std::ops::Range<usize> {
        let line = t.lines[path[at].0 as usize];
        let on = |k: &usize| t.lines[path[*k].0 as usize] == line;
        let start = (0..=at).rev().take_while(on).last().unwrap_or(at);
        let end = (at..path.len()).take_while(on).last().unwrap_or(at);
        start..end + 1
    };
    let unsupported = |path: &[(u32, u32)],
                       r: &std::ops::Range<usize>,
                       counts: &HashMap<(u32, u32), u32>|
     -> bool {
        let mut here: HashMap<(u32, u32), u32> = HashMap::default();
        for p in path[r.clone()].iter().filter_map(pair) {
            *here.entry(p).or_default() += 1;
        }
        // No pair of the line occurs elsewhere, and one of its names is
        // mapped elsewhere to another name.
        let elsewhere = |p: &(u32, u32)| counts[p] > here[p];
        let conflict = |&(ts, os): &(u32, u32)| {
            counts.iter().any(|(&(a, b), &n)| {
                n > here.get(&(a, b)).copied().unwrap_or(0) && ((a == ts) != (b == os))
            })
        };
        !here.is_empty() && !here.keys().any(elsewhere) && here.keys().any(conflict)
    };
    // The first line, then the last; each is given up only if something
    // stays.
    let first = (a.path.len() >= 2)
        .then(|| line_of(&a.path, 0))
        .filter(|r| r.end < a.path.len() && unsupported(&a.path, r, &counts));
    if let Some(r) = &first {
        for p in a.path[r.clone()].iter().filter_map(pair) {
            *counts.get_mut(&p).expect("counted") -= 1;
        }
        a.path.drain(r.clone());
    }
    let last = (a.path.len() >= 2)
        .then(|| line_of(&a.path, a.path.len() - 1))
        .filter(|r| r.start > 0 && unsupported(&a.path, r, &counts));
    if let Some(r) = &last {
        a.path.truncate(r.start);
    }
    let changed = first.is_some() || last.is_some();
    if changed {
        a.fit_to_path();
    }
}

/// Moves the ends of an alignment off lines whose text differs, when the
/// rest kept its text. A copy that kept its names and values (a vendored
/// file, a pasted function) and was extended into the host's code on
/// either side aligns there by token class only: `fclose(inpFp); if (cmp)
/// {` against `MOD(sum2); } if (len) {`. Up to [`FOREIGN_MAX_LINES`] end
/// lines on each side are given up while fewer than half of their names and
/// literal values have the same text on both sides, and the rest of the
/// alignment has at least [`FOREIGN_MIN_TEXTS`] such, [`FOREIGN_REST_SAME`]
/// of them the same. A line without names or values (`}`) says nothing
/// either way: it goes with a foreign line beyond it, and stays if none
/// follows. A line further than [`FOREIGN_MAX_GAP`] lines from the rest (a
/// comment block between) stays, since the comments would go with it.
/// A renamed copy keeps few names, so the rule leaves it
/// to [`trim_unsupported_ends`]; and an end line edited between two
/// releases is given up too, as it should: it is not what was copied.
fn trim_foreign_ends(a: &mut Alignment, t: &SymbolStream, o: &SymbolStream) {
    let tally = |path: &[(u32, u32)]| text_tally(path, t, o);
    let (mut same, mut differ) = tally(&a.path);
    // Path entries of the first (or last) target line.
    let end_line = |path: &[(u32, u32)], last: bool| -> usize {
        let at = if last { path.len() - 1 } else { 0 };
        let line = t.lines[path[at].0 as usize];
        let on = |&(i, _): &(u32, u32)| t.lines[i as usize] == line;
        if last {
            path.iter().rev().take_while(|p| on(p)).count()
        } else {
            path.iter().take_while(|p| on(p)).count()
        }
    };
    let mut changed = false;
    for last in [false, true] {
        // Entries given up, and those of lines without names or values
        // (`}`) just inside them, given up only with a foreign line
        // beyond.
        let (mut cut, mut held) = (0, 0);
        for _ in 0..FOREIGN_MAX_LINES {
            let rest = a.path.len() - cut - held;
            if rest < 2 {
                break;
            }
            let view = if last {
                &a.path[..rest]
            } else {
                &a.path[cut + held..]
            };
            let n = end_line(view, last);
            if n >= view.len() {
                break;
            }
            let line = if last {
                &view[view.len() - n..]
            } else {
                &view[..n]
            };
            let (s_here, d_here) = tally(line);
            if s_here == 0 && d_here == 0 {
                held += n;
                continue;
            }
            let (rest_same, rest_differ) = (same - s_here, differ - d_here);
            // The line next to it inside: a comment block between the two
            // belongs with the rest, and giving the line up would lose it.
            let (here, next) = if last {
                (view[view.len() - n], view[view.len() - n - 1])
            } else {
                (view[n - 1], view[n])
            };
            let gap = t.lines[here.0 as usize].abs_diff(t.lines[next.0 as usize]);
            let foreign = gap <= FOREIGN_MAX_GAP
                && s_here < d_here
                && rest_same >= FOREIGN_MIN_TEXTS
                && rest_same as f64 >= FOREIGN_REST_SAME * (rest_same + rest_differ) as f64;
            if !foreign {
                break;
            }
            (same, differ) = (rest_same, rest_differ);
            (cut, held) = (cut + held + n, 0);
        }
        if cut > 0 {
            if last {
                a.path.truncate(a.path.len() - cut);
            } else {
                a.path.drain(..cut);
            }
            changed = true;
        }
    }
    if changed {
        a.fit_to_path();
    }
}

/// Gives up a few tokens at an end of an alignment that lie beyond lines
/// the target has and the origin does not. Comments are not tokens, so an
/// extension runs through a comment block of the host as if it were not
/// there: the tokens after a 36-line licence comment of the host (a
/// prototype, names and punctuation) aligned with the next prototype of a
/// pasted header, and the finding took in the whole comment. Where a copy
/// kept a comment, both sides have the gap; where the tokens past a gap
/// of the target alone are a short tail, they are not what carried the
/// match. A gap of the origin alone is left be: a newer release of the
/// origin adds doc comments between the lines a copy kept (MediaWiki's
/// Monolog against Debian's), and the copy's last lines are still copied.
fn trim_detached_ends(a: &mut Alignment, t: &SymbolStream, o: &SymbolStream) {
    // Line gaps between consecutive path entries `p` and `q` (p before q).
    let skew = |p: (u32, u32), q: (u32, u32)| -> u32 {
        let tg = t.lines[q.0 as usize].saturating_sub(t.end_lines[p.0 as usize]);
        let og = o.lines[q.1 as usize].saturating_sub(o.end_lines[p.1 as usize]);
        tg.saturating_sub(og)
    };
    // Only where the ends given up are a small part of the alignment, and
    // the head and the tail cannot overlap.
    let n = a.path.len();
    if n < 4 * DETACHED_MAX_TOKENS {
        return;
    }
    // The first entries before a skewed gap, then the last ones after one:
    // a short tail past any such gap, and a longer one (up to a quarter)
    // past a gap of comments (a few tokens a line at most, not an
    // inserted block of code) when its names and values mostly differ
    // from the origin's. A copy whose comments grew between releases has
    // its own text past the gap, and stays whole.
    let most = DETACHED_MAX_TOKENS.max(n / 4);
    let foreign = |part: &[(u32, u32)]| {
        let (same, differ) = text_tally(part, t, o);
        same < differ
    };
    let detached = |k: usize, near: bool, part: &[(u32, u32)]| {
        let (p, q) = (a.path[k - 1], a.path[k]);
        let s = skew(p, q);
        s > DETACHED_GAP && (near || (q.0 - p.0 - 1 <= 3 * s && foreign(part)))
    };
    let head = (1..=most)
        .rev()
        .find(|&k| detached(k, k <= DETACHED_MAX_TOKENS, &a.path[..k]));
    let tail = (n - most..n).find(|&k| detached(k, k >= n - DETACHED_MAX_TOKENS, &a.path[k..]));
    if let Some(k) = tail {
        a.path.truncate(k);
    }
    if let Some(k) = head {
        a.path.drain(..k);
    }
    if head.is_some() || tail.is_some() {
        a.fit_to_path();
    }
}

/// See [`trim_detached_ends`]: lines the target skips beyond the origin's,
/// and the most path entries given up beyond such a gap.
const DETACHED_GAP: u32 = 3;
const DETACHED_MAX_TOKENS: usize = 12;

/// See [`trim_foreign_ends`]. 12 lines and a gap of 3 rather than 3 and 2:
/// harness range precision 0.9889 → 0.9901 with every recall cell as it was
/// (docs/accuracy.md, "End trims that reach further").
const FOREIGN_MAX_LINES: usize = 12;
const FOREIGN_MAX_GAP: u32 = 3;
const FOREIGN_MIN_TEXTS: u32 = 8;
const FOREIGN_REST_SAME: f64 = 0.8;

/// Tokens of `r` on its first line, if that line is less than half inside
/// `r` and `r` goes on past it; else 0.
fn partial_first_line(s: &SymbolStream, r: Range) -> u32 {
    let (first, last) = (r.first as usize, r.last as usize);
    let line = s.lines[first];
    let mut start = first;
    while start > 0 && s.lines[start - 1] == line {
        start -= 1;
    }
    let mut end = first;
    while end + 1 < s.len() && s.lines[end + 1] == line {
        end += 1;
    }
    let inside = end.min(last) + 1 - first;
    if end < last && inside * 2 < end + 1 - start {
        inside as u32
    } else {
        0
    }
}

/// [`partial_first_line`] for the last line of `r`.
fn partial_last_line(s: &SymbolStream, r: Range) -> u32 {
    let (first, last) = (r.first as usize, r.last as usize);
    let line = s.lines[last];
    let mut start = last;
    while start > 0 && s.lines[start - 1] == line {
        start -= 1;
    }
    let mut end = last;
    while end + 1 < s.len() && s.lines[end + 1] == line {
        end += 1;
    }
    let inside = last + 1 - start.max(first);
    if start > first && inside * 2 < end + 1 - start {
        inside as u32
    } else {
        0
    }
}

/// Aligned tokens per line above which a range is minified or bundled code.
const LONG_LINE_TOKENS: u32 = 50;

/// Whether an alignment holds both files nearly whole: at least
/// [`WHOLE_FILE_SHARE`] of each stream's tokens lie within its ranges.
/// The tokens outside are a package or namespace line the copier renamed
/// (Tomcat's `org.apache.tomcat.dbcp.pool2` for commons-pool's
/// `org.apache.commons.pool2`), no more.
fn whole_small_files(a: &Alignment, t: &SymbolStream, o: &SymbolStream) -> bool {
    let covers = |r: Range, s: &SymbolStream| r.count() as f64 >= WHOLE_FILE_SHARE * s.len() as f64;
    covers(a.target, t) && covers(a.origin, o)
}

/// See [`whole_small_files`].
const WHOLE_FILE_SHARE: f64 = 0.75;

/// Both sides must span enough lines, unless the side with fewer lines is
/// minified: there lines mean nothing and the aligned tokens tell. And a
/// short alignment must span lines in proportion on both sides: 57 tokens
/// of declarations spread over 84 lines of a header, between its long
/// comments, against 5 lines of another project's declarations is a chain
/// of idioms bridged over the comments, not a copy. A long one may have
/// lost or gained whole comment blocks on the way (a vendored copy without
/// its documentation), and its length is evidence enough.
fn lines_agree(a: &Alignment, t: &SymbolStream, o: &SymbolStream, params: &MatchParams) -> bool {
    let (tf, tl) = t.line_range(a.target.first as usize, a.target.last as usize);
    let (of, ol) = o.line_range(a.origin.first as usize, a.origin.last as usize);
    let (t_lines, o_lines) = (tl + 1 - tf, ol + 1 - of);
    let (lines, tokens) = if t_lines <= o_lines {
        (t_lines, a.target.count())
    } else {
        (o_lines, a.origin.count())
    };
    let minified = tokens >= LONG_LINE_TOKENS * lines;
    let enough = lines >= params.align.min_lines || minified;
    let in_proportion = minified
        || a.matches >= LONG_ALIGNMENT
        || t_lines.max(o_lines) <= LINE_SPREAD * lines + LINE_SLACK;
    enough && in_proportion
}

/// Aligned tokens from which line spans need not be in proportion.
const LONG_ALIGNMENT: u32 = 100;
/// A short alignment's longer side spans at most this many times the
/// shorter side's lines, plus [`LINE_SLACK`] (comments and blank lines a
/// copy gained or lost).
const LINE_SPREAD: u32 = 3;
const LINE_SLACK: u32 = 8;

/// Keeps the stretch of the alignment's path that its literal values
/// support best: each aligned pair scores 1, a pair of literals with
/// different values -2, and the best-scoring run of the path stays (Kadane;
/// of equal scores the longest, since an end whose literals net to nothing
/// holds no evidence against the copy: renamed 10-line copies with new
/// constants, harness cell T2-10 0.944 → 0.953, other seeds alike).
/// A copy with a few changed constants keeps its whole length; an extension
/// that ran on into a different table of the same shape (commas and braces
/// align, values do not) is cut where the table starts.
fn trim_to_literals(a: &mut Alignment, t: &SymbolStream, o: &SymbolStream) {
    if t.values.is_empty() || o.values.is_empty() || a.path.is_empty() {
        return;
    }
    let score = |&(i, j): &(u32, u32)| -> i64 {
        let (i, j) = (i as usize, j as usize);
        if is_literal(t.syms[i]) && t.values[i] != o.values[j] {
            -2
        } else {
            1
        }
    };
    let (mut best, mut best_at) = (i64::MIN, (0, 0));
    let (mut run, mut run_start) = (0i64, 0usize);
    for (k, p) in a.path.iter().enumerate() {
        if run < 0 {
            run = 0;
            run_start = k;
        }
        run += score(p);
        if run >= best {
            best = run;
            best_at = (run_start, k);
        }
    }
    let (first, last) = best_at;
    if first == 0 && last + 1 == a.path.len() {
        return;
    }
    a.path.truncate(last + 1);
    a.path.drain(..first);
    a.fit_to_path();
}

/// Fewest aligned literal pairs, and their least share of the matching
/// tokens, for literal values to decide whether a stretch is a copy. A test
/// table of rows like `{"abc", "b", 1},` holds three literals in eight
/// tokens: at a share of 0.4 two such tables with other values passed for a
/// copy (11 of Go's 96 false findings against x/text in the real cases).
const MIN_LITERAL_PAIRS: u32 = 8;
const LITERAL_SHARE: f64 = 0.3;

/// Whether the literal values of an alignment carried by literals agree.
///
/// Alignment compares literals by class, so a renamed copy with a few
/// changed constants still aligns; but where literals carry the match (a
/// data table, a list of constants) their values are what was copied, and
/// two different tables of the same shape must not pass for a copy. Such a
/// stretch needs at least half its literal values equal. Streams built
/// without their file's bytes carry no values and are not judged here
/// (`literals`, from [`literal_pairs`], is `None`).
fn literals_agree(a: &Alignment, literals: Option<(u32, u32)>) -> bool {
    let Some((pairs, equal)) = literals else {
        return true;
    };
    if pairs < MIN_LITERAL_PAIRS {
        return true;
    }
    if carried_by_literals(a, pairs) {
        equal * 2 >= pairs
    } else {
        // Fewer literals than carry the stretch still speak when nearly
        // all of them differ: `key: call("break"),` lists of a parser
        // against `key: call('s'),` lists of a locale align name for name
        // and share no value. A copy that changed constants at random keeps
        // half; below one in ten it was not copied.
        equal * 10 >= pairs
    }
}

/// The literal pairs of an alignment, and how many of them have equal
/// values; `None` when a stream was built without its file's bytes.
///
/// The pairs are the literals both stretches hold (the fewer of the two
/// sides' counts), not only those the path pairs: a literal aligned with
/// one of another class (a string where the origin has a number) is a
/// substitution, off the path, and yet a value that differs. Counting the
/// path alone, Go's table of header strings passed for x/text's table of
/// rune numbers, its commas and braces aligned and no value compared.
fn literal_pairs(a: &Alignment, t: &SymbolStream, o: &SymbolStream) -> Option<(u32, u32)> {
    if t.values.is_empty() || o.values.is_empty() {
        return None;
    }
    let (mut paired, mut equal) = (0u32, 0u32);
    for &(i, j) in &a.path {
        let (i, j) = (i as usize, j as usize);
        if is_literal(t.syms[i]) {
            paired += 1;
            equal += u32::from(t.values[i] == o.values[j]);
        }
    }
    let held = |s: &SymbolStream, r: Range| {
        s.syms[r.first as usize..=r.last as usize]
            .iter()
            .filter(|&&sym| is_literal(sym))
            .count() as u32
    };
    let slots = held(t, a.target).min(held(o, a.origin));
    Some((paired.max(slots), equal))
}

/// Whether literals carry a stretch: then their values decide it.
fn carried_by_literals(a: &Alignment, pairs: u32) -> bool {
    pairs >= MIN_LITERAL_PAIRS && pairs as f64 >= LITERAL_SHARE * a.matches as f64
}

/// Whether an alignment says more than that both files hold code of one
/// idiom. Structure is the evidence of a renamed copy, but a run of
/// repeated rows (`c->field = NULL;` twenty times, `{"name", CONST},`
/// table entries, `case X: return "...";`) is the same few shapes over and
/// over, and unrelated code of the same idiom has them too: Redis's client
/// initialisation against Lua's prototype initialisation, an ACL table
/// against a table of Lua functions. The fewer distinct shapes an
/// alignment has, the more of its text it must keep: below
/// [`VerifyParams::min_shapes`] half its pairs of aligned names and
/// literal values (then the rows themselves were copied), below
/// [`VerifyParams::structure_shapes`] one in ten; from there its structure
/// speaks for itself. The same `switch` of `case X: return "...";` rows
/// together with its function's head can reach that floor: what is left
/// of the idioms needs the corpus to say how common a structure is.
fn informative(
    a: &Alignment,
    t: &SymbolStream,
    o: &SymbolStream,
    literals: Option<(u32, u32)>,
    params: &MatchParams,
) -> bool {
    let v = &params.verify;
    if v.min_shapes == 0 {
        return true;
    }
    // Both sides: a copy has the same structure on each, and the side
    // made of fewer shapes is what the other was matched against.
    let varied = distinct_shapes(a, t, |p| p.0, v.structure_shapes).min(distinct_shapes(
        a,
        o,
        |p| p.1,
        v.structure_shapes,
    ));
    if varied >= v.structure_shapes {
        return true;
    }
    // A table: its literal values have decided (`literals_agree`).
    if literals.is_some_and(|(pairs, _)| carried_by_literals(a, pairs)) {
        return true;
    }
    let kept = KeptText::of(a, t, o);
    if varied >= v.min_shapes {
        kept.same * 10 >= kept.judged
    } else {
        kept.at_least_half()
    }
}

/// The distinct pairs of aligned names and of literal values, and how many
/// of them keep their text on both sides. Each pair counts once: twenty
/// `NULL`s kept say no more than one does.
#[derive(Clone, Copy, Debug)]
struct KeptText {
    judged: u32,
    same: u32,
}

impl KeptText {
    fn of(a: &Alignment, t: &SymbolStream, o: &SymbolStream) -> KeptText {
        let mut pairs: HashMap<(u32, u32), bool> = HashMap::default();
        for &(i, j) in &a.path {
            if let Some(s) = same_text(t, o, (i, j)) {
                let (i, j) = (i as usize, j as usize);
                let key = if is_name(t.syms[i]) {
                    (t.syms[i], o.syms[j])
                } else {
                    (u32::from(t.values[i]), u32::from(o.values[j]))
                };
                pairs.insert(key, s);
            }
        }
        KeptText {
            judged: pairs.len() as u32,
            same: pairs.values().filter(|&&s| s).count() as u32,
        }
    }

    fn at_least_half(self) -> bool {
        self.judged > 0 && self.same * 2 >= self.judged
    }

    /// Whether the stretch kept its text: at least [`VERBATIM_MIN_TEXTS`]
    /// distinct names and values, nine in ten of them the same on both
    /// sides. Such a stretch needs only [`VerifyParams::for_verbatim`]'s
    /// floor.
    fn verbatim(self) -> bool {
        self.judged >= VERBATIM_MIN_TEXTS && self.same * 10 >= self.judged * 9
    }
}

/// Of the distinct names and literal values of the alignment's target
/// stretch, the share that its origin stretch has too, wherever they
/// stand (0 for a stretch without any).
fn shared_text(a: &Alignment, t: &SymbolStream, o: &SymbolStream) -> f64 {
    let texts = |s: &SymbolStream, r: Range| -> HashSet<u32> {
        (r.first as usize..=r.last as usize)
            .filter_map(|i| s.text_key(i))
            .collect()
    };
    let ours = texts(t, a.target);
    if ours.is_empty() {
        return 0.0;
    }
    let theirs = texts(o, a.origin);
    ours.intersection(&theirs).count() as f64 / ours.len() as f64
}

/// Distinct runs of [`SHAPE_LEN`] aligned tokens of one side (`at` picks
/// it from a path pair), counted up to `cap`. A name used once in the
/// stretch is any name; one used again keeps its identity, since where it
/// recurs is structure that a renaming keeps.
fn distinct_shapes(
    a: &Alignment,
    side: &SymbolStream,
    at: fn(&(u32, u32)) -> u32,
    cap: u32,
) -> u32 {
    let mut uses: HashMap<u32, u32> = HashMap::default();
    for p in &a.path {
        let sym = side.syms[at(p) as usize];
        if is_name(sym) {
            *uses.entry(sym).or_default() += 1;
        }
    }
    let shape_of = |p: &(u32, u32)| {
        let sym = side.syms[at(p) as usize];
        if is_name(sym) && uses[&sym] < 2 {
            NAME_BIT
        } else {
            sym
        }
    };
    let mut shapes: HashSet<[u32; SHAPE_LEN]> = HashSet::default();
    for w in a.path.windows(SHAPE_LEN) {
        shapes.insert(std::array::from_fn(|k| shape_of(&w[k])));
        if shapes.len() as u32 >= cap {
            break;
        }
    }
    shapes.len() as u32
}

fn span_of(a: &Alignment, hits: u32, t: &SymbolStream, o: &SymbolStream) -> Span {
    let (tf, tl) = t.line_range(a.target.first as usize, a.target.last as usize);
    let (of, ol) = o.line_range(a.origin.first as usize, a.origin.last as usize);
    Span {
        target_lines: Range {
            first: tf,
            last: tl,
        },
        origin_lines: Range {
            first: of,
            last: ol,
        },
        target_tokens: a.target,
        origin_tokens: a.origin,
        matched_tokens: a.matches,
        hits,
        similarity: a.identity(),
        edits: a.edits(),
    }
}

/// Origins seeded only by repeated grams resolved against their stream, at
/// most, per lookup batch (each costs a stream fetch).
const MAX_RESOLVED_PER_BATCH: usize = 4;

/// Repeated grams of one origin resolved, at most (each costs a pass over
/// the origin's stream; the extension finds the rest of the copy).
const RESOLVED_GRAMS: usize = 4;

/// An origin's stream, fetched once per target.
fn fetch<S: Streams>(
    fetched: &mut HashMap<u64, Option<Arc<SymbolStream>>>,
    streams: &S,
    origin: u64,
) -> Result<Option<Arc<SymbolStream>>, S::Error> {
    if let Some(s) = fetched.get(&origin) {
        return Ok(s.clone());
    }
    let s = streams.stream(origin)?;
    fetched.insert(origin, s.clone());
    Ok(s)
}

/// Drops every hit of a target gram that recurs more than `max` times in
/// the origin; returns those grams' target anchors, one per gram.
pub(crate) fn drop_repetitive(hits: &mut Vec<Hit>, max: usize) -> Vec<Anchor> {
    let mut counts: HashMap<u32, usize> = HashMap::default();
    for h in hits.iter() {
        *counts.entry(h.target.pos).or_default() += 1;
    }
    let mut repeated: Vec<Anchor> = hits
        .iter()
        .filter(|h| counts[&h.target.pos] > max)
        .map(|h| h.target)
        .collect();
    repeated.dedup_by_key(|a| a.pos);
    hits.retain(|h| counts[&h.target.pos] <= max);
    repeated
}

/// Where in `origin` each repeated gram of the target lies, told apart by
/// literal values: the k tokens compatible and every literal's value
/// equal. A gram without literals, or found at more than `max` places even
/// so, gives nothing (it still says nothing about where the copy is).
fn resolve_repeats(
    target: &SymbolStream,
    origin: &SymbolStream,
    repeated: &[Anchor],
    k: usize,
    max: usize,
) -> Vec<Hit> {
    let mut out = Vec::new();
    if target.values.is_empty() || origin.values.is_empty() || origin.len() < k {
        return out;
    }
    // A few grams suffice to seed a chain; each costs a pass over the
    // origin. Those with the most literal values tell places apart best.
    let literals = |t: &Anchor| {
        let p = t.pos as usize;
        target
            .values
            .get(p..p + k)
            .map_or(0, |v| v.iter().filter(|&&v| v != 0).count())
    };
    let mut chosen: Vec<(usize, Anchor)> = repeated
        .iter()
        .map(|t| (literals(t), *t))
        .filter(|&(n, _)| n > 0)
        .collect();
    chosen.sort_by_key(|&(n, t)| (std::cmp::Reverse(n), t.pos));
    chosen.truncate(RESOLVED_GRAMS);
    for (_, t) in &chosen {
        let p = t.pos as usize;
        let same = |q: usize| {
            (0..k).all(|x| {
                compatible(target.syms[p + x], origin.syms[q + x])
                    && target.values[p + x] == origin.values[q + x]
            })
        };
        let found: Vec<usize> = (0..=origin.len() - k)
            .filter(|&q| same(q))
            .take(max + 1)
            .collect();
        if found.len() <= max {
            out.extend(found.into_iter().map(|q| Hit {
                target: *t,
                origin: Anchor {
                    pos: q as u32,
                    first_line: origin.lines[q],
                    last_line: origin.end_lines[q + k - 1],
                },
            }));
        }
    }
    out
}

pub(crate) fn distinct_targets(hits: &[Hit]) -> usize {
    let mut positions: Vec<u32> = hits.iter().map(|h| h.target.pos).collect();
    positions.sort_unstable();
    positions.dedup();
    positions.len()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::memory::MemoryIndex;
    use crate::token::Tokenizer;
    use crate::winnow::{fingerprint, Params};
    use crate::Token;

    fn tokens(src: &str) -> Vec<Token> {
        Tokenizer::default()
            .tokenize(crate::lang::Language::C, src.as_bytes())
            .tokens
    }

    #[test]
    fn a_weak_finding_alone_is_set_apart_and_one_in_company_is_not() {
        let finding = |origin: u64, first: u32, tokens: u32| Finding {
            best: SnippetMatch {
                origin,
                span: Span {
                    target_lines: Range {
                        first: first / 8 + 1,
                        last: (first + tokens) / 8 + 1,
                    },
                    origin_lines: Range { first: 1, last: 9 },
                    target_tokens: Range {
                        first,
                        last: first + tokens - 1,
                    },
                    origin_tokens: Range {
                        first: 0,
                        last: tokens - 1,
                    },
                    matched_tokens: tokens,
                    hits: 2,
                    similarity: 0.9,
                    edits: 2,
                },
            },
            alternatives: Vec::new(),
        };
        // Origin 1: a long finding and a short one beside it; origin 2: a
        // short one alone; origin 3: a long one alone.
        let found = vec![
            finding(1, 0, 400),
            finding(1, 500, 45),
            finding(2, 700, 45),
            finding(3, 900, 90),
        ];
        let floors = AloneFloors {
            min_matches: 60,
            min_identity: 0.85,
        };
        let (stand, alone) = alone_and_weak(found.clone(), 2000, floors);
        assert_eq!(
            stand.iter().map(|f| f.best.origin).collect::<Vec<_>>(),
            vec![1, 1, 3]
        );
        assert_eq!(alone.len(), 1);
        assert_eq!(alone[0].best.origin, 2);
        // The same short finding over most of a small target stands.
        let (stand, alone) = alone_and_weak(vec![finding(2, 0, 45)], 55, floors);
        assert_eq!((stand.len(), alone.len()), (1, 0));
        // An alternative of another finding is company too.
        let mut with_alt = finding(4, 0, 400);
        with_alt.alternatives.push(finding(2, 0, 400).best);
        let (stand, alone) = alone_and_weak(vec![with_alt, finding(2, 700, 45)], 2000, floors);
        assert_eq!((stand.len(), alone.len()), (2, 0));
        // Two weak ones of one origin keep each other no company.
        let (stand, alone) =
            alone_and_weak(vec![finding(5, 100, 45), finding(5, 700, 50)], 2000, floors);
        assert_eq!((stand.len(), alone.len()), (0, 2));
        // A long one alone that only resembles its origin is weak too.
        let mut loose = finding(3, 900, 90);
        loose.best.span.similarity = 0.8;
        assert_eq!(alone_and_weak(vec![loose], 2000, floors).1.len(), 1);
        // Zero floors set nothing apart.
        let none = AloneFloors {
            min_matches: 0,
            min_identity: 0.0,
        };
        assert!(alone_and_weak(found, 2000, none).1.is_empty());
    }

    /// A seed hit at token `t` on both sides.
    fn hit(t: u32) -> Hit {
        let at = Anchor {
            pos: t,
            first_line: 0,
            last_line: 0,
        };
        Hit {
            target: at,
            origin: at,
        }
    }

    /// An alignment of `matches` tokens over target and origin token ranges,
    /// without edits or a path.
    fn alignment(matches: u32, t: (u32, u32), o: (u32, u32)) -> Alignment {
        Alignment {
            target: Range {
                first: t.0,
                last: t.1,
            },
            origin: Range {
                first: o.0,
                last: o.1,
            },
            matches,
            substitutions: 0,
            indels: 0,
            names: Default::default(),
            path: Vec::new(),
            work: 0,
        }
    }

    /// A table of `n` rows of eight numbers drawn from `seed`.
    fn table(seed: u64, n: usize) -> String {
        let mut x = seed;
        let mut s = String::from("static const unsigned short table[] = {\n");
        for _ in 0..n {
            let row: Vec<String> = (0..8)
                .map(|_| {
                    x = x
                        .wrapping_mul(6_364_136_223_846_793_005)
                        .wrapping_add(1_442_695_040_888_963_407);
                    format!("0x{:04x}", (x >> 48) as u16)
                })
                .collect();
            s += &format!("    {},\n", row.join(", "));
        }
        s + "};\n"
    }

    fn find(origin_src: &str, target_src: &str) -> Vec<Finding> {
        find_with(
            origin_src,
            target_src,
            &MatchParams::for_k(Params::DEFAULT.k),
        )
    }

    fn find_with(origin_src: &str, target_src: &str, matching: &MatchParams) -> Vec<Finding> {
        let params = Params::DEFAULT;
        let origin = tokens(origin_src);
        let origin_fps = crate::winnow::fingerprint_file(&origin, origin_src.as_bytes(), params);
        let index = MemoryIndex::build([(&origin[..], &origin_fps[..], origin_src.as_bytes())]);
        let target = tokens(target_src);
        let fps = crate::winnow::fingerprint_file(&target, target_src.as_bytes(), params);
        let stream = SymbolStream::of_file(&target, target_src.as_bytes());
        match_target(&stream, &fps, &index, &index, matching)
            .unwrap()
            .all_findings()
    }

    /// Tokens before a changed constant that only make up for it (two
    /// equal tokens, one literal of another value: net zero) stay in the
    /// copy: a renamed copy with new constants keeps its first line, which
    /// a strict cut lost (below the verify floor on short copies).
    #[test]
    fn literal_evidence_that_nets_to_nothing_at_an_end_is_kept() {
        let origin_src = "a + 1 ; b = c ; d = e ; f = g ;";
        let target_src = "a + 52 ; b = c ; d = e ; f = g ;";
        let (o, t) = (tokens(origin_src), tokens(target_src));
        let os = SymbolStream::of_file(&o, origin_src.as_bytes());
        let ts = SymbolStream::of_file(&t, target_src.as_bytes());
        let n = t.len() as u32;
        let mut a = alignment(n, (0, n - 1), (0, n - 1));
        a.path = (0..n).map(|i| (i, i)).collect();
        trim_to_literals(&mut a, &ts, &os);
        assert_eq!((a.target.first, a.target.last), (0, n - 1));
        // One token fewer before the literal and it is cut there.
        let (o, t) = (tokens(&origin_src[2..]), tokens(&target_src[2..]));
        let os = SymbolStream::of_file(&o, &origin_src.as_bytes()[2..]);
        let ts = SymbolStream::of_file(&t, &target_src.as_bytes()[2..]);
        let n = t.len() as u32;
        let mut a = alignment(n, (0, n - 1), (0, n - 1));
        a.path = (0..n).map(|i| (i, i)).collect();
        trim_to_literals(&mut a, &ts, &os);
        assert_eq!((a.target.first, a.target.last), (2, n - 1));
    }

    #[test]
    fn a_table_copied_value_for_value_matches_and_one_of_the_same_shape_does_not() {
        let copied = find(&table(1, 60), &format!("int x;\n{}", table(1, 60)));
        assert_eq!(copied.len(), 1, "{copied:?}");
        assert!(copied[0].best.span.target_lines.last >= 60);
        let other = find(&table(1, 60), &format!("int x;\n{}", table(2, 60)));
        assert!(other.is_empty(), "{other:?}");
        // Code copied with the table after it changed: the finding stops
        // where the values start to differ.
        let code = function("beta", 30);
        let found = find(
            &format!("{code}{}", table(1, 60)),
            &format!("{code}{}", table(2, 60)),
        );
        assert_eq!(found.len(), 1, "{found:?}");
        let span = found[0].best.span;
        assert!(span.target_lines.last <= 34, "{span:?}");
        assert!(span.target_lines.last >= 30, "{span:?}");
    }

    fn function(name: &str, n: usize) -> String {
        let mut s = format!("static int {name}(struct ctx *c, const char *buf, size_t len) {{\n");
        for i in 0..n {
            s += &format!(
                "    if (c->state_{i} > len) {{ c->total += buf[{i}] * {i}; return do_{name}_{i}(c, buf + {i}); }}\n"
            );
        }
        s + "    return 0;\n}\n"
    }

    /// A function of `n` statements of varied shapes drawn from `seed`:
    /// random expressions, so that no gram recurs.
    fn varied(name: &str, n: usize, seed: u64) -> String {
        let mut x = seed;
        let mut next = |m: u64| {
            x = x
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            (x >> 33) % m
        };
        let ops = ["+", "-", "*", "/", "%", "&", "|", "^", "<<", ">>"];
        let mut s = format!("int {name}(struct ctx *c, int len) {{\n");
        for i in 0..n {
            let mut e = format!("c->f{}", next(9));
            for _ in 0..1 + next(4) {
                let term = match next(3) {
                    0 => format!("{}", next(100)),
                    1 => format!("(len {} c->g{})", ops[next(10) as usize], next(9)),
                    _ => format!("h{}(c)", next(9)),
                };
                e = format!("{e} {} {term}", ops[next(10) as usize]);
            }
            s += &match next(4) {
                0 => format!("    if ({e}) {{ return -{i}; }}\n"),
                1 => format!("    len = {e};\n"),
                2 => format!("    while ({e}) {{ len--; }}\n"),
                _ => format!("    c->v[{i}] = {e};\n"),
            };
        }
        s + "    return len;\n}\n"
    }

    /// Once a copy is aligned, the rest of it past an edit too large for
    /// the extension is found in the origin's stream, without the index.
    #[test]
    fn the_rest_of_a_copy_past_a_large_edit_is_found_without_lookups() {
        let (first, second) = (varied("first", 60, 1), varied("second", 60, 2));
        let inserted = varied("mine", 25, 3);
        let origin_src = format!("{first}{second}");
        let target_src = format!("{first}{inserted}{second}");
        let params = Params::DEFAULT;
        let origin = tokens(&origin_src);
        let origin_fps = crate::winnow::fingerprint_file(&origin, origin_src.as_bytes(), params);
        let index = MemoryIndex::build([(&origin[..], &origin_fps[..], origin_src.as_bytes())]);
        let target = tokens(&target_src);
        let fps = crate::winnow::fingerprint_file(&target, target_src.as_bytes(), params);
        let stream = SymbolStream::of_file(&target, target_src.as_bytes());
        let match_params = MatchParams::for_k(params.k);
        let m = match_target(&stream, &fps, &index, &index, &match_params).unwrap();
        // Both parts are found, each against its own origin lines.
        let second_at = 1 + first.lines().count() as u32 + inserted.lines().count() as u32;
        let spans: Vec<Span> = m.findings.iter().map(|f| f.best.span).collect();
        assert!(
            spans
                .iter()
                .any(|s| s.target_lines.first <= 2 && s.origin_lines.first <= 2),
            "{spans:?}"
        );
        assert!(
            spans.iter().any(|s| s.target_lines.first <= second_at + 1
                && s.target_lines.last >= second_at + 55
                && s.origin_lines.first + inserted.lines().count() as u32 == s.target_lines.first),
            "{spans:?}"
        );
        // The index was asked about the first batch and the inserted
        // function, hardly about the second copied one.
        let in_second = fps.iter().filter(|f| f.first_line >= second_at).count();
        let first_lines = first.lines().count() as u32;
        let inserted = (fps.iter())
            .filter(|f| f.first_line > first_lines && f.first_line < second_at)
            .count();
        assert!(in_second > 2 * match_params.first_batch, "{in_second}");
        assert!(
            m.lookups <= match_params.first_batch + inserted + 4,
            "{} lookups of {} fingerprints ({in_second} in the second copy)",
            m.lookups,
            fps.len()
        );
    }

    #[test]
    fn host_lines_of_the_same_shape_around_a_verbatim_copy_are_not_reported() {
        let origin = format!(
            "int gamma_total = compute_gamma(state, 4);\n{}int delta_total = compute_delta(state, 5);\n",
            function("beta", 12)
        );
        let target = format!(
            "int host_value = make_host(ctx, 4);\n{}int other_value = make_other(ctx, 5);\n",
            function("beta", 12)
        );
        let found = find(&origin, &target);
        assert_eq!(found.len(), 1, "{found:?}");
        let span = found[0].best.span;
        assert_eq!((span.target_lines.first, span.target_lines.last), (2, 16));
        assert_eq!((span.origin_lines.first, span.origin_lines.last), (2, 16));
        // Renamed, the same lines stay: nothing tells the copy's names from
        // the host's.
        let renamed = target
            .replace("do_beta", "run_step")
            .replace("state_", "level_")
            .replace("c->", "k->")
            .replace("*c", "*k")
            .replace("(c,", "(k,")
            .replace("total", "sum")
            .replace("buf", "data")
            .replace("len", "size");
        let found = find(&origin, &renamed);
        assert_eq!(found.len(), 1, "{found:?}");
        let span = found[0].best.span;
        assert_eq!(
            (span.target_lines.first, span.target_lines.last),
            (1, 17),
            "{span:?}"
        );
    }

    #[test]
    fn five_lines_copied_verbatim_are_found_and_renamed_they_are_not() {
        let snippet = "    total_weight = scale_factor * item_count + base_offset;\n    if (total_weight > limit_value) {\n        report_overflow(log_handle, total_weight);\n    }\n    cache_slot = lookup_entry(table_ref, key_name);\n";
        let origin = format!(
            "{}void apply(void) {{\n{snippet}}}\n{}",
            function("alpha", 6),
            function("gamma", 6)
        );
        let host = |body: &str| {
            format!(
                "int main(int argc, char **argv) {{\n    int unrelated = argc + 7;\n{body}    return unrelated;\n}}\n"
            )
        };
        let found = find(&origin, &host(snippet));
        assert_eq!(found.len(), 1, "{found:?}");
        let span = found[0].best.span;
        assert_eq!(
            (span.target_lines.first, span.target_lines.last),
            (3, 7),
            "{span:?}"
        );
        // The same 33 tokens renamed are the shape alone, under the floor
        // of 40 that structure needs.
        let renamed = snippet
            .replace("total_weight", "w")
            .replace("scale_factor", "f")
            .replace("item_count", "n")
            .replace("base_offset", "b")
            .replace("limit_value", "m")
            .replace("report_overflow", "warn")
            .replace("log_handle", "lh")
            .replace("cache_slot", "cs")
            .replace("lookup_entry", "get")
            .replace("table_ref", "tr")
            .replace("key_name", "kn");
        assert!(find(&origin, &host(&renamed)).is_empty());
    }

    #[test]
    fn a_brace_beyond_a_host_line_goes_with_it() {
        // A `}` has no name to judge it by; beyond the host's foreign line
        // it is the host's too, and goes with that line.
        let origin = format!(
            "}}\nint gamma_total = compute_gamma(state, 4);\n{}",
            function("beta", 12)
        );
        let target = format!(
            "}}\nint host_value = make_host(ctx, 4);\n{}",
            function("beta", 12)
        );
        let found = find(&origin, &target);
        assert_eq!(found.len(), 1, "{found:?}");
        let span = found[0].best.span;
        assert_eq!(span.target_lines.first, 3, "{span:?}");
        assert_eq!(span.origin_lines.first, 3, "{span:?}");
    }

    #[test]
    fn code_an_origin_holds_twice_gives_both_places() {
        let beta = function("beta", 12);
        let origin = format!("{beta}{}{beta}", function("alpha", 20));
        let found = find(&origin, &format!("int x;\n{beta}"));
        assert_eq!(found.len(), 1, "{found:?}");
        let f = &found[0];
        let mut places: Vec<u32> = std::iter::once(&f.best)
            .chain(&f.alternatives)
            .map(|m| m.span.origin_lines.first)
            .collect();
        places.sort_unstable();
        assert_eq!(places, vec![1, 39], "{f:?}");
        // A place that fits less well is no alternative.
        let edited = beta.replace("c->total += buf[3] * 3;", "c->total -= 1;");
        let origin = format!("{beta}{}{edited}", function("alpha", 20));
        let found = find(&origin, &format!("int x;\n{beta}"));
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(found[0].alternatives.is_empty(), "{found:?}");
        assert_eq!(found[0].best.span.origin_lines.first, 1);
    }

    #[test]
    fn a_copy_is_found_to_its_ends_with_few_lookups() {
        let params = Params::DEFAULT;
        let origin_src = format!(
            "{}{}{}",
            function("alpha", 6),
            function("beta", 40),
            function("gamma", 6)
        );
        let origin = tokens(&origin_src);
        let origin_fps = fingerprint(&origin, params);
        let index = MemoryIndex::build([(&origin[..], &origin_fps[..], origin_src.as_bytes())]);
        // The target has beta alone, reindented, between code of its own.
        let copied = function("beta", 40).replace("    ", "\t");
        let target_src =
            format!("int own(void) {{ return 1; }}\n{copied}int more(int x) {{ return x; }}\n");
        let target = tokens(&target_src);
        let fps = fingerprint(&target, params);
        let stream = SymbolStream::of_file(&target, target_src.as_bytes());
        let m = match_target(&stream, &fps, &index, &index, &MatchParams::for_k(params.k)).unwrap();
        assert_eq!(m.findings.len(), 1, "{:?}", m.findings);
        let span = m.findings[0].best.span;
        assert_eq!((span.target_lines.first, span.target_lines.last), (2, 44));
        assert_eq!((span.origin_lines.first, span.origin_lines.last), (10, 52));
        assert!(span.edits <= 2, "{span:?}");
        // The first batch explained the copy: the rest was not looked up.
        assert!(m.lookups < fps.len(), "{} of {}", m.lookups, fps.len());
        // Its alignment walked every pair it matched, and is reported.
        let work = m.work;
        assert!(work.reported >= u64::from(span.matched_tokens), "{work:?}");
        assert!(work.reported <= work.aligned, "{work:?}");
    }

    #[test]
    fn a_chain_is_outweighed_only_inside_a_stretch_found_by_far_more_seeds() {
        let mut explained = Explained::default();
        // 12 seeds over tokens 100..=400, every 25 tokens from 100.
        let seeds: Vec<Hit> = (0..12).map(|i| hit(100 + 25 * i)).collect();
        explained.add(
            Range {
                first: 100,
                last: 400,
            },
            &seeds,
        );
        // The whole stretch: 12 seeds against 3 (4 times as many) or 4.
        assert!(explained.outweighs(100, 400, 3));
        assert!(!explained.outweighs(100, 400, 4));
        // Half of it holds 6 of the seeds: a chain of 2 there is not outweighed.
        assert!(!explained.outweighs(100, 250, 2));
        assert!(explained.outweighs(100, 250, 1));
        // Beyond the stretch, nothing is.
        assert!(!explained.outweighs(90, 250, 1));
    }

    #[test]
    fn a_copy_out_of_repetitive_code_is_found_at_its_own_repeat() {
        // One assertion repeated with other numbers: every gram of a copy
        // recurs in the origin far more often than `max_repeats_in_origin`.
        let line = |i: u32| {
            format!(
                "    r = moderate_path({}, -{}, 0); check(r.valid, \"valid\"); expect(into_float(r.f), {}.{});\n",
                123456 + i * 7919,
                i % 5,
                987 + i * 31,
                i
            )
        };
        let origin = format!(
            "void moderate_path_test(void) {{\n    struct res r;\n{}}}\n",
            (0..40).map(line).collect::<String>()
        );
        let pasted: String = (20..30).map(line).collect();
        let target = format!("int host(int a) {{\n    struct res r;\n{pasted}    return a;\n}}\n");
        let found = find(&origin, &target);
        assert_eq!(found.len(), 1, "{found:?}");
        let span = found[0].best.span;
        // Origin line of repeat i is i + 3; the paste holds repeats 20..30.
        assert!(
            span.origin_lines.first >= 22 && span.origin_lines.last <= 33,
            "{span:?}"
        );
        assert!(span.origin_lines.last >= 31, "{span:?}");
    }

    #[test]
    fn rows_of_one_shape_with_other_names_do_not_match_and_copied_ones_do() {
        // Two unrelated initialisers of the same idiom, as Redis's client
        // set-up against Lua's prototype set-up: every field another name.
        let init = |obj: &str, ty: &str, fields: &[&str]| {
            let body: String = fields
                .iter()
                .enumerate()
                .map(|(i, f)| {
                    let value = if i % 3 == 0 { "NULL" } else { "0" };
                    format!("    {obj}->{f} = {value};\n")
                })
                .collect();
            format!("void init_{ty}({ty} *{obj}) {{\n{body}}}\n")
        };
        let names =
            |prefix: &str| -> Vec<String> { (0..20).map(|i| format!("{prefix}{i}x")).collect() };
        let (ours, theirs) = (names("argv_len"), names("sizek"));
        let ours: Vec<&str> = ours.iter().map(String::as_str).collect();
        let theirs: Vec<&str> = theirs.iter().map(String::as_str).collect();
        let origin = init("f", "Proto", &theirs);
        let unrelated = find(&origin, &format!("int x;\n{}", init("c", "client", &ours)));
        assert!(unrelated.is_empty(), "{unrelated:?}");
        let copied = find(&origin, &format!("int x;\n{origin}"));
        assert_eq!(copied.len(), 1, "{copied:?}");
    }

    #[test]
    fn an_idiom_the_target_repeats_needs_its_text_and_a_renamed_copy_does_not() {
        // A table-driven test loop, as Go's tests and x/text's both write
        // it: another table, function, message and locals each time.
        let check = |names: [&str; 8]| {
            let [t, f, msg, tc, got, input, want, i] = names;
            format!(
                "void test_{f}(struct testing *tt) {{\n    for (size_t {i} = 0; {i} < sizeof {t} / sizeof {t}[0]; {i}++) {{\n        const struct {t}_case *{tc} = &{t}[{i}];\n        int {got} = {f}({tc}->{input}, {tc}->flags);\n        if ({got} != {tc}->{want}) {{\n            report(tt, \"{msg}(%s) = %d, want %d\", {tc}->{input}, {got}, {tc}->{want});\n        }}\n    }}\n}}\n"
            )
        };
        let origin = format!(
            "{}{}",
            varied("parse_block", 14, 11),
            check([
                "boundary_tests",
                "next_boundary",
                "NextBoundary",
                "tc",
                "got",
                "input",
                "want",
                "i"
            ])
        );
        let own: String = [
            ["count_tests", "count", "Count", "tt", "num", "s", "n", "k"],
            [
                "index_tests",
                "index_of",
                "Index",
                "test",
                "pos",
                "str",
                "out",
                "j",
            ],
            ["cut_tests", "cut", "Cut", "c", "before", "in", "after", "n"],
        ]
        .into_iter()
        .map(check)
        .collect();
        // The loops match the origin's only while nothing says they are
        // the target's own idiom.
        let mut without = MatchParams::for_k(Params::DEFAULT.k);
        without.verify.idiom_share = 0.0;
        assert!(!find_with(&origin, &own, &without).is_empty());
        let found = find(&origin, &own);
        assert!(found.is_empty(), "{found:?}");
        // A renamed copy of the origin's function stands once in the
        // target, beside the same loops: found.
        let renamed = varied("parse_block", 14, 11)
            .replace("parse_block", "scan_chunk")
            .replace("c->", "st->")
            .replace("(c)", "(st)")
            .replace("struct ctx *c", "struct state *st")
            .replace("len", "remaining");
        let found = find(&origin, &format!("{own}{renamed}"));
        assert_eq!(found.len(), 1, "{found:?}");
        let after_loops = own.lines().count() as u32 + 1;
        assert_eq!(
            found[0].best.span.target_lines.first, after_loops,
            "{found:?}"
        );
    }

    #[test]
    fn test_tables_of_one_shape_with_other_values_do_not_match() {
        // Rows of two strings and a number: three literals in eight tokens,
        // as in the index tests of a string library.
        let table = |seed: u32| {
            let rows: String = (0..24)
                .map(|i| {
                    let x = seed * 1000 + i;
                    if i % 4 == 3 {
                        // Now and then a comment and a computed entry, as
                        // real tables have: the grams are then varied enough
                        // to be fingerprinted without their values.
                        format!(
                            "    /* case {x} */\n    {{cut(\"s{x}\", 2), \"t{}\", -{}}},\n",
                            x * 3,
                            x % 7
                        )
                    } else {
                        format!("    {{\"s{x}\", \"t{}\", {}}},\n", x * 3, x % 7)
                    }
                })
                .collect();
            format!("static const struct test tests[] = {{\n{rows}}};\n")
        };
        let other = find(&table(1), &table(2));
        assert!(other.is_empty(), "{other:?}");
        let same = find(&table(1), &format!("int x;\n{}", table(1)));
        assert_eq!(same.len(), 1, "{same:?}");
    }

    #[test]
    fn code_a_file_holds_twice_is_placed_where_its_names_agree() {
        // Two functions of one shape, names apart: a copy of the second
        // aligns as well with the first.
        let origin = format!(
            "{}{}{}",
            function("alpha", 6),
            function("beta", 12),
            function("gamma", 12)
        );
        let target = format!("int own(void) {{ return 1; }}\n{}", function("gamma", 12));
        let found = find(&origin, &target);
        assert_eq!(found.len(), 1, "{found:?}");
        let span = found[0].best.span;
        // gamma is origin lines 25..=39 (beta 10..=24).
        assert_eq!(
            (span.origin_lines.first, span.origin_lines.last),
            (25, 39),
            "{span:?}"
        );
    }

    #[test]
    fn a_tight_fit_is_closer_than_more_matches_spread_thin() {
        let stream = SymbolStream::default();
        // 124 matches over 128 target and 178 origin tokens, against 116
        // over 119 and 117 (a renamed match arm of the harness).
        let loose = Closeness::of(&alignment(124, (0, 127), (0, 177)), &stream, &stream);
        let tight = Closeness::of(&alignment(116, (0, 118), (200, 316)), &stream, &stream);
        assert!(tight > loose, "{tight:?} {loose:?}");
        // A whole copy is closer than a part of it.
        let whole = Closeness::of(&alignment(1000, (0, 999), (0, 999)), &stream, &stream);
        let part = Closeness::of(&alignment(800, (0, 799), (0, 799)), &stream, &stream);
        assert!(whole > part);
    }

    #[test]
    fn key_lists_that_share_no_value_do_not_match() {
        // One literal in thirteen tokens: too few to carry the stretch, but
        // a list whose every value differs is another list of one shape.
        let list = |word: &dyn Fn(u32) -> String| -> String {
            // Four shapes of row, so that no gram recurs more than
            // `max_repeats_in_origin` times.
            let rows: String = (0..20)
                .map(|i| match i % 4 {
                    0 => format!("    set_key(tbl, key_{i}, lookup(\"{}\"));\n", word(i)),
                    1 => format!("    tbl->keys[key_{i}] = intern(tbl, \"{}\");\n", word(i)),
                    2 => format!(
                        "    if (!has(tbl, key_{i})) add(tbl, key_{i}, find(\"{}\"), flags);\n",
                        word(i)
                    ),
                    _ => format!("    keys_{i} = tbl->count++ + strlen(\"{}\");\n", word(i)),
                })
                .collect();
            format!("void keys(struct table *tbl) {{\n{rows}}}\n")
        };
        let origin = list(&|i| format!("break{i}"));
        let other = find(&origin, &list(&|i| format!("plural{i}")));
        assert!(other.is_empty(), "{other:?}");
        let same = find(&origin, &format!("int x;\n{origin}"));
        assert_eq!(same.len(), 1, "{same:?}");
        // A copy with half its values changed is still one.
        let half = list(&|i| {
            if i % 2 == 0 {
                format!("break{i}")
            } else {
                format!("other{i}")
            }
        });
        assert_eq!(find(&origin, &format!("int x;\n{half}")).len(), 1);
    }

    #[test]
    fn short_alignments_span_lines_in_proportion() {
        let decl = |i: u32| format!("API int call_{i} (state *L, int x{i});\n");
        let origin: String = (0..6).map(decl).collect();
        let origin = format!("{origin}int tail(void);\n");
        // The same declarations, each after a long comment: 60 tokens over
        // 70 lines against 6.
        let spread: String = (0..6)
            .map(|i| format!("/*\n{} */\n{}", " * doc\n".repeat(10), decl(i)))
            .collect();
        let found = find(&origin, &spread);
        assert!(found.is_empty(), "{found:?}");
        // A comment line between each: in proportion.
        let close: String = (0..6).map(|i| format!("// doc\n{}", decl(i))).collect();
        let found = find(&origin, &close);
        assert_eq!(found.len(), 1, "{found:?}");
    }

    /// An index that answers one gram only, as if the rest of a short,
    /// edited copy had no fingerprint left in common with its origin; with
    /// `crowd`, that gram is in a second origin too.
    struct OneSeed<'a> {
        index: &'a MemoryIndex,
        hash: u64,
        crowd: bool,
    }

    impl Postings for OneSeed<'_> {
        type Error = std::convert::Infallible;
        fn lookup(&self, grams: &[Fingerprint]) -> Result<Vec<(usize, Posting)>, Self::Error> {
            let mut out: Vec<(usize, Posting)> = self
                .index
                .lookup(grams)?
                .into_iter()
                .filter(|(i, _)| grams[*i].hash == self.hash)
                .take(1)
                .collect();
            if self.crowd {
                if let Some(&(i, p)) = out.first() {
                    out.push((i, Posting { origin: 7, ..p }));
                }
            }
            Ok(out)
        }
    }

    #[test]
    fn one_seed_of_a_rare_gram_finds_a_close_copy() {
        let params = Params::DEFAULT;
        let origin_src = format!("{}{}", table(3, 10), function("beta", 6));
        let beta_line = origin_src
            .lines()
            .position(|l| l.contains("beta("))
            .unwrap() as u32
            + 1;
        let origin = tokens(&origin_src);
        let origin_fps = fingerprint(&origin, params);
        let index = MemoryIndex::build([(&origin[..], &origin_fps[..], origin_src.as_bytes())]);
        let run = |target_src: &str, crowd: bool| -> Vec<Finding> {
            let target = tokens(target_src);
            let fps = fingerprint(&target, params);
            let stream = SymbolStream::of_file(&target, target_src.as_bytes());
            // The target's middle fingerprint that the origin also has.
            let shared: Vec<u64> = fps
                .iter()
                .map(|f| f.hash)
                .filter(|h| origin_fps.iter().any(|o| o.hash == *h))
                .collect();
            let seed = OneSeed {
                index: &index,
                hash: shared[shared.len() / 2],
                crowd,
            };
            match_target(&stream, &fps, &seed, &index, &MatchParams::for_k(params.k))
                .unwrap()
                .all_findings()
        };
        let copy = format!("int own(void) {{ return 1; }}\n{}", function("beta", 6));
        let found = run(&copy, false);
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].best.span.origin_lines.first, beta_line);
        // The same seed in a second origin: one hit is not enough.
        assert!(run(&copy, true).is_empty());
    }

    #[test]
    fn an_alignment_from_one_seed_must_be_closer() {
        let alignment = |matches: u32, edits: u32| {
            let last = matches + edits - 1;
            Alignment {
                substitutions: edits,
                ..alignment(matches, (0, last), (0, last))
            }
        };
        let code = MatchParams::for_k(24);
        // 80 matches and 20 edits: identity 0.8.
        assert!(too_loose_for_one_seed(&[hit(5)], &alignment(80, 20), &code));
        assert!(!too_loose_for_one_seed(
            &[hit(5)],
            &alignment(90, 10),
            &code
        ));
        assert!(!too_loose_for_one_seed(
            &[hit(5), hit(40)],
            &alignment(80, 20),
            &code
        ));
        // Prose keeps one seed in four: one of them stands for several.
        let prose = code.for_language(crate::lang::Language::Prose);
        assert!(!too_loose_for_one_seed(
            &[hit(5)],
            &alignment(80, 20),
            &prose
        ));
        assert_eq!(code.for_language(crate::lang::Language::C), code);
    }

    #[test]
    fn a_host_line_that_renames_against_the_copy_is_not_part_of_it() {
        let body: String = function("beta", 12)
            .lines()
            .skip(1)
            .map(|l| format!("{l}\n"))
            .collect();
        // The origin's statement before the copied body, and the host's
        // before the paste: one shape, names that map `len` to `buf`, where
        // the body maps `len` to `len`.
        let origin = format!("    c->start = compute(buf, len);\n{body}");
        let target = format!("    s->count = compute(len, buf);\n{body}");
        let found = find(&origin, &target);
        assert_eq!(found.len(), 1, "{found:?}");
        let span = found[0].best.span;
        assert_eq!(span.target_lines.first, 2, "{span:?}");
        assert_eq!(span.origin_lines.first, 2, "{span:?}");
    }
}
