//! Seed, extend, verify: from a chain of shared grams to the exact extent of
//! a copy, aligned token by token against the origin's own stream.
//!
//! Winnowed fingerprints only find a copy. Up to `w - 1` tokens at each end
//! of it carry no origin fingerprint, and an edit every few lines breaks the
//! grams in between. So the chain of gram hits is only the seed: the gaps
//! between its grams are aligned in full (substitutions, insertions and
//! deletions allowed), and from each end the alignment is extended outward
//! until its score falls `x_drop` below the best seen (BLAST's X-drop rule).
//! The ends of the best-scoring alignment are the reported ranges, to the
//! token, on both sides.
//!
//! Any two names may align (a renamed copy); whether they do so *as a
//! renaming* is decided over the whole alignment by [`NameMap`]: a copy maps
//! its names one to one onto the origin's, code that merely has the same
//! shape does not.

use crate::align::{Hit, Range};
use crate::stream::{compatible, is_name};

/// Scores and limits of the alignment.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ExtendParams {
    /// Tokens per gram of the seeds.
    pub k: u32,
    /// Half-width of the band followed by an extension, in tokens: the
    /// largest insertion or deletion bridged in one place.
    pub band: usize,
    /// An extension stops once its score is this far below its best, in
    /// mismatches. 14 since a pair of the same text scores twice a pair
    /// of one class: with 20 the bonus carried extensions further into
    /// the host (harness range precision 0.9894, 0.9903 at 14, the same
    /// recall).
    pub x_drop: i32,
}

impl ExtendParams {
    pub fn for_k(k: usize) -> ExtendParams {
        ExtendParams {
            k: k as u32,
            band: 24,
            x_drop: 14,
        }
    }
}

/// Which aligned tokens are names, as (target name, origin name) ordinals,
/// in the order the alignment met them, and counted once, when the
/// alignment is judged, rather than in a map updated for every aligned
/// name (two tokens in five).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct NameMap {
    pairs: Vec<(u32, u32)>,
}

impl NameMap {
    #[inline]
    fn add(&mut self, t: u32, o: u32) {
        if is_name(t) && is_name(o) {
            self.pairs.push((t, o));
        }
    }

    fn merge(&mut self, other: NameMap) {
        self.pairs.extend(other.pairs);
    }

    /// Aligned name pairs in all.
    pub fn total(&self) -> u32 {
        self.pairs.len() as u32
    }

    /// Share of aligned name pairs that agree with the best one-to-one map
    /// between the two files' names (greedy, most frequent pair first).
    /// 1.0 for a verbatim or consistently renamed copy.
    pub fn consistency(&self) -> f64 {
        let total = self.total();
        if total == 0 {
            return 1.0;
        }
        let mut sorted = self.pairs.clone();
        sorted.sort_unstable();
        let mut counted: Vec<((u32, u32), u32)> = Vec::new();
        for p in sorted {
            match counted.last_mut() {
                Some((q, n)) if *q == p => *n += 1,
                _ => counted.push((p, 1)),
            }
        }
        counted.sort_unstable_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        let mut used_t = rustc_hash::FxHashSet::default();
        let mut used_o = rustc_hash::FxHashSet::default();
        let mut agree = 0u32;
        for ((t, o), n) in counted {
            if used_t.contains(&t) || used_o.contains(&o) {
                continue;
            }
            used_t.insert(t);
            used_o.insert(o);
            agree += n;
        }
        agree as f64 / total as f64
    }
}

/// Counts of one stretch of alignment.
#[derive(Clone, Debug, Default, PartialEq)]
struct Tally {
    matches: u32,
    subs: u32,
    indels: u32,
    names: NameMap,
    /// Positions of the matching pairs, relative to where the tally began.
    path: Vec<(u32, u32)>,
    /// See [`Alignment::work`].
    work: u64,
}

impl Tally {
    fn pair(&mut self, i: usize, j: usize, t: u32, o: u32) {
        if compatible(t, o) {
            self.matches += 1;
            self.names.add(t, o);
            self.path.push((i as u32, j as u32));
        } else {
            self.subs += 1;
        }
    }

    /// Adds `other`, whose positions `at` turns into this tally's.
    fn merge(&mut self, other: Tally, at: impl Fn(u32, u32) -> (u32, u32)) {
        self.work += other.work;
        self.matches += other.matches;
        self.subs += other.subs;
        self.indels += other.indels;
        self.names.merge(other.names);
        self.path
            .extend(other.path.into_iter().map(|(i, j)| at(i, j)));
    }
}

/// A copy found by alignment: token ranges on both sides and what it took
/// to align them.
#[derive(Clone, Debug, PartialEq)]
pub struct Alignment {
    pub target: Range,
    pub origin: Range,
    /// Aligned pairs of compatible tokens.
    pub matches: u32,
    /// Aligned pairs of different tokens.
    pub substitutions: u32,
    /// Tokens on either side aligned to nothing.
    pub indels: u32,
    pub names: NameMap,
    /// Positions of the aligned matching tokens, (target, origin), in order.
    pub path: Vec<(u32, u32)>,
    /// What aligning took: cells of the dynamic programming (banded rows
    /// and the gaps between seeds) plus token pairs walked on a diagonal.
    /// The scan adds them up by what became of each alignment, so that
    /// the work spent on chains that verification or settling threw away
    /// is measured rather than guessed.
    pub work: u64,
}

impl Alignment {
    /// Matches over all columns of the alignment.
    pub fn identity(&self) -> f64 {
        let cols = self.matches + self.substitutions + self.indels;
        if cols == 0 {
            0.0
        } else {
            self.matches as f64 / cols as f64
        }
    }

    /// After the path was cut: the ranges become its ends and the matches
    /// its length. False when nothing is left.
    pub fn fit_to_path(&mut self) -> bool {
        let (Some(&(tf, of)), Some(&(tl, ol))) = (self.path.first(), self.path.last()) else {
            self.matches = 0;
            return false;
        };
        self.target = Range {
            first: tf,
            last: tl,
        };
        self.origin = Range {
            first: of,
            last: ol,
        };
        self.matches = self.path.len() as u32;
        true
    }

    pub fn edits(&self) -> u32 {
        self.substitutions + self.indels
    }

    /// Shorter side over longer side, in tokens: a copy keeps its length
    /// give or take its edits; a long target range against a short origin
    /// range (or the reverse) is a chain that lies.
    pub fn proportion(&self) -> f64 {
        let (a, b) = (self.target.count(), self.origin.count());
        a.min(b) as f64 / a.max(b) as f64
    }
}

const DIAG: u8 = 0;
const UP: u8 = 1; // a target token aligned to nothing
const LEFT: u8 = 2; // an origin token aligned to nothing
const NEG: i32 = i32::MIN / 4;

/// Scores are in quarters: a pair of one class scores [`SCALE`], a
/// mismatch `-SCALE`, and a pair of the same text [`SAME_TEXT`] more.
const SCALE: i32 = 4;
const SAME_TEXT: i32 = 4;
/// Cost of a token aligned to nothing: twice a substitution's, so that an
/// edited token is not explained as a deletion plus an insertion.
const GAP: i32 = 2 * SCALE;

/// The best of the three moves into a cell, and which it was; ties go to
/// the diagonal, then to the target's gap.
#[inline]
fn choose(d: i32, u: i32, l: i32) -> (i32, u8) {
    if d >= u && d >= l {
        (d, DIAG)
    } else if u >= l {
        (u, UP)
    } else {
        (l, LEFT)
    }
}

/// A pair of tokens of one class scores 1, and 2 when they are names or
/// literals of the same text: code that repeats one shape (a run of
/// imports, of field set-ups, of table rows) lines up with any shift of
/// itself by class alone, and past an insertion the extension would keep
/// whichever shift it met first, pairing every name with a neighbour's.
/// A renamed copy scores as before.
#[inline]
fn score(t: u32, o: u32, tk: u16, ok: u16) -> i32 {
    if compatible(t, o) {
        SCALE + SAME_TEXT * i32::from(tk != 0 && tk == ok)
    } else {
        -SCALE
    }
}

/// Whether two tokens are the same token, not merely of one class: equal
/// fixed tokens, or names of the same text (or, where the text is not
/// known, the same ordinal: a file copied whole numbers its names alike).
#[inline]
fn identical(t: u32, o: u32, tk: u16, ok: u16) -> bool {
    t == o || (is_name(t) && is_name(o) && tk != 0 && tk == ok)
}

/// One side's tokens for an alignment: the symbols, and per symbol its
/// text key ([`crate::stream::SymbolStream::text_keys`]), or no keys at
/// all when the text is not known.
#[derive(Clone, Copy, Debug)]
pub struct Tokens<'a> {
    pub syms: &'a [u32],
    pub keys: &'a [u16],
}

impl<'a> Tokens<'a> {
    /// Symbols without their text: pairs score by class alone.
    pub fn bare(syms: &'a [u32]) -> Tokens<'a> {
        Tokens { syms, keys: &[] }
    }

    fn len(&self) -> usize {
        self.syms.len()
    }

    #[inline]
    fn key(&self, i: usize) -> u16 {
        self.keys.get(i).copied().unwrap_or(0)
    }

    fn slice(&self, r: std::ops::Range<usize>) -> Tokens<'a> {
        Tokens {
            syms: &self.syms[r.clone()],
            keys: self.keys.get(r).unwrap_or(&[]),
        }
    }

    fn head(&self, end: usize) -> Tokens<'a> {
        self.slice(0..end)
    }

    fn tail(&self, start: usize) -> Tokens<'a> {
        self.slice(start..self.len())
    }
}

/// Global alignment of two short stretches (the gaps between seeds).
fn global(t: Tokens, o: Tokens) -> Tally {
    let (n, m) = (t.len(), o.len());
    if n == 0 || m == 0 {
        return Tally {
            indels: (n + m) as u32,
            ..Tally::default()
        };
    }
    if n * m > 1 << 20 {
        // Seeds are at most a chain gap apart, so this does not happen;
        // if it did, counting without aligning keeps the bound on work.
        return Tally {
            subs: n.min(m) as u32,
            indels: n.abs_diff(m) as u32,
            ..Tally::default()
        };
    }
    let w = m + 1;
    let mut h = vec![0i32; (n + 1) * w];
    let mut dir = vec![DIAG; (n + 1) * w];
    for j in 1..=m {
        h[j] = -GAP * j as i32;
        dir[j] = LEFT;
    }
    for i in 1..=n {
        h[i * w] = -GAP * i as i32;
        dir[i * w] = UP;
        for j in 1..=m {
            let d = h[(i - 1) * w + j - 1]
                + score(t.syms[i - 1], o.syms[j - 1], t.key(i - 1), o.key(j - 1));
            let u = h[(i - 1) * w + j] - GAP;
            let l = h[i * w + j - 1] - GAP;
            let (best, how) = choose(d, u, l);
            h[i * w + j] = best;
            dir[i * w + j] = how;
        }
    }
    let mut tally = Tally {
        work: (n * m) as u64,
        ..Tally::default()
    };
    trace_back(
        (n, m),
        |i, j| dir[i * w + j],
        |i, j| (i, j, t.syms[i], o.syms[j]),
        &mut tally,
    );
    tally
}

/// Walks an alignment's trace back from cell `from` to the origin `(0, 0)`,
/// adding its pairs and indels to `tally`. `how(i, j)` is the move that
/// reached cell `(i, j)`; `pair(i, j)` gives the tally's positions and the
/// two tokens of the pair of tokens `i` and `j` of the matrix.
fn trace_back(
    from: (usize, usize),
    how: impl Fn(usize, usize) -> u8,
    pair: impl Fn(usize, usize) -> (usize, usize, u32, u32),
    tally: &mut Tally,
) {
    let (mut i, mut j) = from;
    while i > 0 || j > 0 {
        match how(i, j) {
            DIAG => {
                let (pi, pj, a, b) = pair(i - 1, j - 1);
                tally.pair(pi, pj, a, b);
                i -= 1;
                j -= 1;
            }
            UP => {
                tally.indels += 1;
                i -= 1;
            }
            _ => {
                tally.indels += 1;
                j -= 1;
            }
        }
    }
}

/// The tokens an extension walks through, in the order it walks them.
#[derive(Clone, Copy)]
enum Side<'a> {
    Forward(Tokens<'a>),
    /// The tokens read from their end: extending before the first seed.
    Backward(Tokens<'a>),
}

/// How the extension reads one side's tokens. Read through the [`Side`]
/// enum, every cell of a banded row matched on the direction twice; the
/// extension is instead compiled once per direction ([`Ahead`],
/// [`Behind`]), and the enum is only matched once per extension.
trait Read: Copy {
    fn len(&self) -> usize;
    fn at(&self, i: usize) -> u32;
    fn key(&self, i: usize) -> u16;
}

/// Tokens read from their start.
#[derive(Clone, Copy)]
struct Ahead<'a>(Tokens<'a>);

/// Tokens read from their end.
#[derive(Clone, Copy)]
struct Behind<'a>(Tokens<'a>);

impl Read for Ahead<'_> {
    #[inline]
    fn len(&self) -> usize {
        self.0.len()
    }

    #[inline]
    fn at(&self, i: usize) -> u32 {
        self.0.syms[i]
    }

    #[inline]
    fn key(&self, i: usize) -> u16 {
        self.0.key(i)
    }
}

impl Read for Behind<'_> {
    #[inline]
    fn len(&self) -> usize {
        self.0.len()
    }

    #[inline]
    fn at(&self, i: usize) -> u32 {
        self.0.syms[self.0.len() - 1 - i]
    }

    #[inline]
    fn key(&self, i: usize) -> u16 {
        self.0.key(self.0.len() - 1 - i)
    }
}

impl Read for Side<'_> {
    fn len(&self) -> usize {
        match self {
            Side::Forward(s) | Side::Backward(s) => s.len(),
        }
    }

    #[inline]
    fn at(&self, i: usize) -> u32 {
        match self {
            Side::Forward(s) => Ahead(*s).at(i),
            Side::Backward(s) => Behind(*s).at(i),
        }
    }

    #[inline]
    fn key(&self, i: usize) -> u16 {
        match self {
            Side::Forward(s) => Ahead(*s).key(i),
            Side::Backward(s) => Behind(*s).key(i),
        }
    }
}

/// Identical tokens ahead on the best cell's diagonal that end a segment of
/// the banded extension (see [`extend_forward`]). Identical, not merely
/// compatible: any name is compatible with any other, and short runs of
/// names and punctuation line up by chance on a shifted diagonal.
const RESTART_RUN: usize = 16;

/// Extends an alignment anchored at the start of both slices as far as it
/// pays: returns how many tokens of each side it takes, and its tally.
/// The band follows the best cell of each row, so insertions and deletions
/// spread over a long copy add up without leaving it.
///
/// A copy is mostly identical tokens: running the band through them costs
/// 2·band + 1 cells per token for nothing. So the extension walks exact
/// runs on their diagonal (one comparison per token) and runs the banded
/// alignment only from where they break; once the best cell so far is
/// followed by `RESTART_RUN` identical tokens on its diagonal, the alignment up to it
/// is settled (leaving that diagonal costs more than the run gives) and the
/// walk resumes from there.
fn extend_forward(t: Side, o: Side, p: &ExtendParams) -> (usize, usize, Tally) {
    match (t, o) {
        (Side::Forward(t), Side::Forward(o)) => extend_read(Ahead(t), Ahead(o), p),
        (Side::Backward(t), Side::Backward(o)) => extend_read(Behind(t), Behind(o), p),
        (t, o) => extend_read(t, o, p),
    }
}

fn extend_read<R: Read>(t: R, o: R, p: &ExtendParams) -> (usize, usize, Tally) {
    let (n, m) = (t.len(), o.len());
    let mut tally = Tally::default();
    let (mut si, mut sj) = (0usize, 0usize);
    loop {
        let run_from = si;
        while si < n && sj < m && compatible(t.at(si), o.at(sj)) {
            tally.pair(si, sj, t.at(si), o.at(sj));
            si += 1;
            sj += 1;
        }
        tally.work += (si - run_from) as u64;
        match banded_read(t, o, si, sj, p, &mut tally) {
            Segment::Settled { i, j } => (si, sj) = (i, j),
            Segment::Ended { i, j } => return (i, j, tally),
        }
    }
}

/// How a banded segment of an extension ended, in absolute positions.
enum Segment {
    /// The best cell so far is followed by a run of matches: continue there.
    Settled { i: usize, j: usize },
    /// The score fell `x_drop` below its best, or a side ran out: the
    /// extension ends at the best cell.
    Ended { i: usize, j: usize },
}

/// The rows of a banded segment: row `r` holds the cells from column
/// `lo[r]`, `width[r]` of them, at `r · (2·band + 2)` in `h` (scores) and
/// `dir` (moves).
struct Rows {
    lo: Vec<usize>,
    width: Vec<usize>,
    h: Vec<i32>,
    dir: Vec<u8>,
}

impl Rows {
    /// Row 0 of a band of half-width `band` over `m` origin tokens: origin
    /// tokens aligned to nothing.
    fn first(band: usize, m: usize) -> Rows {
        let stride = 2 * band + 2;
        let mut rows = SPARE_ROWS.with(|s| s.take()).unwrap_or_else(|| Rows {
            lo: Vec::new(),
            width: Vec::new(),
            h: Vec::with_capacity(stride * 64),
            dir: Vec::with_capacity(stride * 64),
        });
        let hi = band.min(m);
        let Rows { lo, width, h, dir } = &mut rows;
        lo.clear();
        width.clear();
        h.clear();
        dir.clear();
        h.extend((0..=hi).map(|j| -GAP * j as i32));
        dir.extend((0..=hi).map(|j| if j == 0 { DIAG } else { LEFT }));
        h.resize(stride, NEG);
        dir.resize(stride, DIAG);
        lo.push(0);
        width.push(hi + 1);
        rows
    }

    /// Keeps the buffers for the thread's next segment, unless a long
    /// segment grew them past what is worth holding between segments (a
    /// copy renamed throughout never settles, and its rows span it whole).
    fn spare(self) {
        if self.h.capacity() <= SPARE_CELLS {
            SPARE_ROWS.with(|s| s.set(Some(self)));
        }
    }
}

/// Most cells of row buffers a thread keeps for its next segment (5 MB).
const SPARE_CELLS: usize = 1 << 20;

thread_local! {
    /// The buffers of a thread's last banded segment, for its next one: a
    /// scan of vendored code runs some 500 thousand segments, and
    /// allocating theirs was most of the allocator's share of it.
    static SPARE_ROWS: std::cell::Cell<Option<Rows>> = const { std::cell::Cell::new(None) };
}

/// The banded X-drop alignment from `(si, sj)`, which is the best cell of
/// the extension so far. Rows are kept in flat buffers, `2·band + 2` cells
/// apart, for the trace back.
#[cfg(test)]
fn banded_segment(
    t: Side,
    o: Side,
    si: usize,
    sj: usize,
    p: &ExtendParams,
    tally: &mut Tally,
) -> Segment {
    match (t, o) {
        (Side::Forward(t), Side::Forward(o)) => banded_read(Ahead(t), Ahead(o), si, sj, p, tally),
        (Side::Backward(t), Side::Backward(o)) => {
            banded_read(Behind(t), Behind(o), si, sj, p, tally)
        }
        (t, o) => banded_read(t, o, si, sj, p, tally),
    }
}

fn banded_read<R: Read>(
    t: R,
    o: R,
    si: usize,
    sj: usize,
    p: &ExtendParams,
    tally: &mut Tally,
) -> Segment {
    let (n, m) = (t.len() - si, o.len() - sj);
    let b = p.band;
    let stride = 2 * b + 2;
    let at_t = |i: usize| t.at(si + i);
    let at_o = |j: usize| o.at(sj + j);
    let (key_t, key_o) = (|i: usize| t.key(si + i), |j: usize| o.key(sj + j));
    let Rows {
        mut lo,
        mut width,
        mut h,
        mut dir,
    } = Rows::first(b, m);
    // The previous row, padded with NEG one cell to the left and as far
    // right as this row reaches: the inner loop then reads it without a
    // bounds test per cell.
    let mut prev: Vec<i32> = Vec::with_capacity(stride + 2);
    let mut walk = Walk::new(p.x_drop * SCALE);
    let mut settled = false;
    for i in 1..=n {
        let row_lo = walk.center.saturating_sub(b);
        let hi = (walk.center + b + 1).min(m);
        if row_lo > hi {
            break;
        }
        let w = hi - row_lo + 1;
        // prev[x] holds cell (i - 1, row_lo - 1 + x), x in 0..=w.
        prev.clear();
        prev.resize(w + 1, NEG);
        let (plo, pw) = (lo[i - 1], width[i - 1]);
        let pbase = (i - 1) * stride;
        // Columns both rows have: j in [max(row_lo - 1, plo), min(hi, plo + pw - 1)].
        let from = row_lo.max(plo + 1) - 1;
        let to = (hi + 1).min(plo + pw);
        if from < to {
            let x0 = from + 1 - row_lo;
            prev[x0..x0 + (to - from)].copy_from_slice(&h[pbase + from - plo..pbase + to - plo]);
        }
        let base = i * stride;
        h.resize(base + stride, NEG);
        dir.resize(base + stride, DIAG);
        let (ti, tk) = (at_t(i - 1), key_t(i - 1));
        let row = &mut h[base..base + w];
        let drow = &mut dir[base..base + w];
        let (mut row_best, mut row_best_j) = (NEG, row_lo);
        let mut left = NEG;
        for x in 0..w {
            let j = row_lo + x;
            let d = if j > 0 {
                prev[x] + score(ti, at_o(j - 1), tk, key_o(j - 1))
            } else {
                NEG
            };
            let u = prev[x + 1] - GAP;
            let l = left - GAP;
            let (v, how) = choose(d, u, l);
            let v = v.max(NEG);
            row[x] = v;
            drow[x] = how;
            left = v;
            if v > row_best {
                row_best = v;
                row_best_j = j;
            }
        }
        tally.work += w as u64;
        lo.push(row_lo);
        width.push(hi - row_lo + 1);
        let ahead = |x| {
            i + x < n && row_best_j + x < m && {
                let (ti, oj) = (i + x, row_best_j + x);
                identical(at_t(ti), at_o(oj), key_t(ti), key_o(oj))
            }
        };
        if let Some(s) = walk.end_row(i, row_best, row_best_j, ahead).stop() {
            settled = s;
            break;
        }
    }
    let segment = walk.finish(
        settled,
        (si, sj),
        tally,
        |i, j| dir[i * stride + j - lo[i]],
        |i, j| (at_t(i), at_o(j)),
    );
    Rows { lo, width, h, dir }.spare();
    segment
}

/// The state of a banded segment between its rows: its best cell so far
/// and the column the next row centres on.
struct Walk {
    best: i32,
    best_i: usize,
    best_j: usize,
    center: usize,
    x_drop: i32,
}

/// What a finished row of a banded segment decided.
enum RowEnd {
    Go,
    /// The new best cell is followed by [`RESTART_RUN`] identical tokens.
    Settled,
    /// The row's best fell `x_drop` below the segment's.
    Dropped,
}

impl RowEnd {
    /// `None` to go on, else whether the segment settled.
    fn stop(self) -> Option<bool> {
        match self {
            RowEnd::Go => None,
            RowEnd::Settled => Some(true),
            RowEnd::Dropped => Some(false),
        }
    }
}

impl Walk {
    fn new(x_drop: i32) -> Walk {
        Walk {
            best: 0,
            best_i: 0,
            best_j: 0,
            center: 0,
            x_drop,
        }
    }

    /// After row `i`, whose best cell is `(i, row_best_j)`; `identical(x)`
    /// says whether the tokens `x` ahead of that cell on its diagonal are
    /// identical.
    fn end_row(
        &mut self,
        i: usize,
        row_best: i32,
        row_best_j: usize,
        identical: impl Fn(usize) -> bool,
    ) -> RowEnd {
        if row_best > self.best {
            (self.best, self.best_i, self.best_j) = (row_best, i, row_best_j);
            if (0..RESTART_RUN).all(identical) {
                return RowEnd::Settled;
            }
        }
        if row_best < self.best - self.x_drop {
            return RowEnd::Dropped;
        }
        self.center = row_best_j + 1;
        RowEnd::Go
    }

    /// Traces back from the best cell to the segment's start `(si, sj)`:
    /// `how(i, j)` is the move into a cell, `tokens(i, j)` the two tokens
    /// of a pair, both relative to the start.
    fn finish(
        &self,
        settled: bool,
        (si, sj): (usize, usize),
        tally: &mut Tally,
        how: impl Fn(usize, usize) -> u8,
        tokens: impl Fn(usize, usize) -> (u32, u32),
    ) -> Segment {
        trace_back(
            (self.best_i, self.best_j),
            how,
            |i, j| {
                let (a, b) = tokens(i, j);
                (si + i, sj + j, a, b)
            },
            tally,
        );
        let (i, j) = (si + self.best_i, sj + self.best_j);
        if settled {
            Segment::Settled { i, j }
        } else {
            Segment::Ended { i, j }
        }
    }
}

/// Aligns one chain of seed hits (sorted, advancing in both files) between
/// `target` and `origin` symbol streams and extends it at both ends.
pub fn extend_chain(
    target: Tokens,
    origin: Tokens,
    chain: &[Hit],
    p: &ExtendParams,
) -> Option<Alignment> {
    let k = p.k as usize;
    let (t_syms, o_syms) = (target.syms, origin.syms);
    let first = chain.first()?;
    let (t0, o0) = (first.target.pos as usize, first.origin.pos as usize);
    if t0 + k > target.len() || o0 + k > origin.len() {
        return None;
    }
    let mut tally = Tally {
        work: k as u64,
        ..Tally::default()
    };
    for x in 0..k {
        tally.pair(t0 + x, o0 + x, t_syms[t0 + x], o_syms[o0 + x]);
    }
    let (mut te, mut oe) = (t0 + k, o0 + k);
    for h in &chain[1..] {
        let (tn, on) = (h.target.pos as usize, h.origin.pos as usize);
        if tn + k > target.len() || on + k > origin.len() {
            continue;
        }
        if tn >= te && on >= oe {
            let (dt, dof) = (te as u32, oe as u32);
            tally.merge(
                global(target.slice(te..tn), origin.slice(oe..on)),
                |i, j| (i + dt, j + dof),
            );
            for x in 0..k {
                tally.pair(tn + x, on + x, t_syms[tn + x], o_syms[on + x]);
            }
            tally.work += k as u64;
            (te, oe) = (tn + k, on + k);
        } else if tn + oe == on + te && tn + k > te {
            // Overlapping grams on the same diagonal: one longer run.
            let add = tn + k - te;
            for x in 0..add {
                tally.pair(te + x, oe + x, t_syms[te + x], o_syms[oe + x]);
            }
            tally.work += add as u64;
            (te, oe) = (te + add, oe + add);
        }
        // Otherwise the seed overlaps the run on another diagonal: the gap
        // alignment before the next seed accounts for its tokens.
    }
    // Backwards from the first seed, then forwards from the last.
    let (bt, bo, back) = extend_forward(
        Side::Backward(target.head(t0)),
        Side::Backward(origin.head(o0)),
        p,
    );
    let (ft, fo, fwd) = extend_forward(
        Side::Forward(target.tail(te)),
        Side::Forward(origin.tail(oe)),
        p,
    );
    let (t0u, o0u, teu, oeu) = (t0 as u32, o0 as u32, te as u32, oe as u32);
    tally.merge(back, |i, j| (t0u - 1 - i, o0u - 1 - j));
    tally.merge(fwd, |i, j| (teu + i, oeu + j));
    tally.path.sort_unstable();
    let t_last = te + ft;
    let o_last = oe + fo;
    Some(Alignment {
        target: Range {
            first: (t0 - bt) as u32,
            last: (t_last - 1) as u32,
        },
        origin: Range {
            first: (o0 - bo) as u32,
            last: (o_last - 1) as u32,
        },
        matches: tally.matches,
        substitutions: tally.subs,
        indels: tally.indels,
        names: tally.names,
        path: tally.path,
        work: tally.work,
    })
}

/// What an alignment needs to be reported as a copy.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct VerifyParams {
    /// Fewest aligned matching tokens: 40 for k = 24. The harness's sweep
    /// (docs/accuracy.md) put 32 at 0.393 false findings per 1,000 unrelated
    /// pairs and 40 at 0.328, for 0.004 of recall on 10-line copies;
    /// shorter stretches are idioms as often as copies.
    pub min_matches: u32,
    /// Lowest share of matching columns.
    pub min_identity: f64,
    /// Lowest share of aligned names that follow one consistent renaming.
    pub min_name_consistency: f64,
    /// Lowest ratio of the shorter side's tokens to the longer side's.
    pub min_proportion: f64,
    /// Lowest identity of an alignment seeded by a single hit. The other
    /// floors assume several seeds agree; on the harness, 0.85 took false
    /// findings from 0.312 to 0.272 per 1,000 pairs once single seeds of
    /// rare grams make candidates, and raised precision (0.8 kept more
    /// false findings, 0.9 lost 10-line T3 copies).
    pub lone_seed_identity: f64,
    /// Distinct shapes (runs of [`SHAPE_LEN`] aligned tokens, names used
    /// once alike) below which an alignment is repetitive and needs half
    /// its names and literal values to keep their text; 0 in prose, whose
    /// words are all names. See `pipeline::informative`.
    pub min_shapes: u32,
    /// Distinct shapes from which structure alone makes a copy; between
    /// the two, one in ten names and values must keep its text. On the
    /// harness 16 and 24 took false findings from 0.245 to 0.223 per 1,000
    /// pairs at no cost to T2 and 0.009 of T3-10, and the real cases'
    /// findings in own-code files from 154 to 130. A floor of 20 or 24
    /// alone cost T3-10 0.012 or T2-10 0.04 (renamed header prototypes,
    /// Python imports, enum tables); text required of every short
    /// alignment cost T2-10 0.005.
    pub structure_shapes: u32,
    /// Share of an alignment's target grams that the target also has
    /// around it (`crate::repeats`) from which an alignment whose names
    /// and values mostly differ from its origin's (`Run::own_idiom` in
    /// `crate::pipeline`) is the target's own idiom; 0 turns the rule off
    /// (prose, whose grams of word classes all look alike). On the harness, with grams of 12 tokens, 0.4, 0.5 and 0.6
    /// left 0.158, 0.164 and 0.172 false findings per 1,000 pairs (0.223
    /// without the rule), 0.6 alone without losing a renamed 10-line copy;
    /// with grams of 10 tokens 0.5 left 0.156.
    pub idiom_share: f64,
    /// What a finding with nothing else of its origin in the target needs
    /// to stand on its own (`pipeline::alone_and_weak`).
    pub alone: AloneFloors,
}

/// Below either floor, a finding with nothing else of its origin in the
/// target is set apart (`pipeline::alone_and_weak`) for the caller to
/// judge by where the target lies; zero floors set none apart. On the real
/// cases (docs/accuracy.md), 48 of the 67 findings in own-code files were
/// under 60 aligned tokens and 87 of the 1,030 in copied files, nearly all
/// of those beside other findings of their origin or inside the copied
/// tree; of the longer own-code ones left alone outside a tree of their
/// project, the idioms aligned at 0.66 to 0.90 and the copies at 0.98 to
/// 1.0.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct AloneFloors {
    pub min_matches: u32,
    pub min_identity: f64,
}

/// Fewest aligned tokens of a small file aligned whole
/// ([`VerifyParams::for_small_files`]): a little under a fingerprint's
/// gram of 24 (the end trims may give up part of the seed with a renamed
/// package line). A Java enum of ten constants is 24 tokens.
pub const SMALL_FILE_MIN_MATCHES: u32 = 20;

/// Fewest aligned tokens of a copy that kept its names and values
/// ([`VerifyParams::for_verbatim`]): one seed's gram, where other copies
/// need [`VerifyParams::min_matches`] (40). That floor is there because 40
/// tokens of structure are as often an idiom as a copy; a stretch whose
/// names and values keep their text is not an idiom by chance. On the
/// harness, 5-line copies kept verbatim (T1) went from 0.305 to 0.633 of
/// their lines found (28 tokens: 0.584, 20: 0.611, with at least 6
/// texts), with one false finding more on 627,763 unrelated pairs and the
/// real cases unchanged.
pub const VERBATIM_MIN_MATCHES: u32 = 24;

/// Tokens in one shape of [`VerifyParams::min_shapes`].
pub const SHAPE_LEN: usize = 4;

impl VerifyParams {
    pub fn for_k(k: usize) -> VerifyParams {
        VerifyParams {
            min_matches: (5 * k / 3) as u32,
            min_identity: 0.6,
            min_name_consistency: 0.7,
            min_proportion: 0.6,
            lone_seed_identity: 0.85,
            min_shapes: 16,
            structure_shapes: 24,
            idiom_share: 0.5,
            alone: AloneFloors {
                min_matches: 60,
                min_identity: 0.9,
            },
        }
    }

    /// The floors for a small file aligned whole with an origin file
    /// (`pipeline::whole_small_files`): its code may be shorter than
    /// [`VerifyParams::min_matches`] (a Java enum or a PHP interface is
    /// mostly comments), so fewer aligned tokens do, and the caller
    /// confirms the candidate with both files' full text.
    pub fn for_small_files(&self) -> VerifyParams {
        VerifyParams {
            min_matches: SMALL_FILE_MIN_MATCHES,
            ..*self
        }
    }

    /// The floors for an alignment that kept its names and values (the
    /// caller judges the text, `pipeline::KeptText::verbatim`): one
    /// gram's worth of aligned tokens, [`VERBATIM_MIN_MATCHES`].
    pub fn for_verbatim(&self) -> VerifyParams {
        VerifyParams {
            min_matches: VERBATIM_MIN_MATCHES.min(self.min_matches),
            ..*self
        }
    }

    /// Why an alignment is not a copy worth reporting, if it is not.
    pub fn reject(&self, a: &Alignment) -> Option<&'static str> {
        if a.matches < self.min_matches {
            Some("too few aligned tokens")
        } else if a.identity() < self.min_identity {
            Some("identity too low")
        } else if a.proportion() < self.min_proportion {
            Some("target and origin ranges out of proportion")
        } else if a.names.consistency() < self.min_name_consistency {
            Some("names do not map one to one")
        } else {
            None
        }
    }
}

#[cfg(test)]
mod tests {
    /// The banded segment written plainly (every cell read through bounds
    /// tests): the reference the fast one must equal cell for cell.
    fn reference_segment(
        t: Side,
        o: Side,
        si: usize,
        sj: usize,
        p: &ExtendParams,
        tally: &mut Tally,
    ) -> Segment {
        let (n, m) = (t.len() - si, o.len() - sj);
        let b = p.band;
        let stride = 2 * b + 2;
        let at_t = |i: usize| t.at(si + i);
        let at_o = |j: usize| o.at(sj + j);
        let (key_t, key_o) = (|i: usize| t.key(si + i), |j: usize| o.key(sj + j));
        let Rows {
            mut lo,
            mut width,
            mut h,
            mut dir,
        } = Rows::first(b, m);
        let get = |h: &[i32], lo: &[usize], width: &[usize], r: usize, j: usize| -> i32 {
            if j < lo[r] || j >= lo[r] + width[r] {
                NEG
            } else {
                h[r * stride + j - lo[r]]
            }
        };
        let mut walk = Walk::new(p.x_drop * SCALE);
        let mut settled = false;
        for i in 1..=n {
            let row_lo = walk.center.saturating_sub(b);
            let hi = (walk.center + b + 1).min(m);
            if row_lo > hi {
                break;
            }
            let base = i * stride;
            h.resize(base + stride, NEG);
            dir.resize(base + stride, DIAG);
            let (mut row_best, mut row_best_j) = (NEG, row_lo);
            for j in row_lo..=hi {
                let d = if j > 0 {
                    get(&h, &lo, &width, i - 1, j - 1).saturating_add(score(
                        at_t(i - 1),
                        at_o(j - 1),
                        key_t(i - 1),
                        key_o(j - 1),
                    ))
                } else {
                    NEG
                };
                let u = get(&h, &lo, &width, i - 1, j).saturating_sub(GAP);
                let l = if j > row_lo {
                    h[base + j - 1 - row_lo].saturating_sub(GAP)
                } else {
                    NEG
                };
                let (v, how) = choose(d, u, l);
                h[base + j - row_lo] = v;
                dir[base + j - row_lo] = how;
                if v > row_best {
                    row_best = v;
                    row_best_j = j;
                }
            }
            tally.work += (hi - row_lo + 1) as u64;
            lo.push(row_lo);
            width.push(hi - row_lo + 1);
            let ahead = |x| {
                i + x < n && row_best_j + x < m && {
                    let (ti, oj) = (i + x, row_best_j + x);
                    identical(at_t(ti), at_o(oj), key_t(ti), key_o(oj))
                }
            };
            if let Some(s) = walk.end_row(i, row_best, row_best_j, ahead).stop() {
                settled = s;
                break;
            }
        }
        walk.finish(
            settled,
            (si, sj),
            tally,
            |i, j| dir[i * stride + j - lo[i]],
            |i, j| (at_t(i), at_o(j)),
        )
    }

    use super::*;
    use crate::align::Anchor;
    use crate::stream::NAME_BIT;
    use proptest::prelude::*;

    fn hit(t: u32, o: u32) -> Hit {
        let a = |pos| Anchor {
            pos,
            first_line: 0,
            last_line: 0,
        };
        Hit {
            target: a(t),
            origin: a(o),
        }
    }

    /// A pseudo-random stream of fixed tokens and names.
    fn stream(seed: u64, n: usize) -> Vec<u32> {
        let mut x = seed;
        (0..n)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                if x.is_multiple_of(3) {
                    NAME_BIT | (x % 17) as u32
                } else {
                    (x % 40) as u32 + 1
                }
            })
            .collect()
    }

    fn params() -> ExtendParams {
        ExtendParams {
            k: 8,
            band: 8,
            x_drop: 10,
        }
    }

    /// [`extend_chain`] on symbols without their text.
    fn extend_bare(
        target: &[u32],
        origin: &[u32],
        chain: &[Hit],
        p: &ExtendParams,
    ) -> Option<Alignment> {
        extend_chain(Tokens::bare(target), Tokens::bare(origin), chain, p)
    }

    /// Text keys for test streams: a name's ordinal stands for its text.
    fn keys_of(syms: &[u32]) -> Vec<u16> {
        syms.iter()
            .map(|&s| {
                if is_name(s) {
                    (s & !NAME_BIT) as u16 + 1
                } else {
                    0
                }
            })
            .collect()
    }

    #[test]
    fn a_run_of_one_shape_stays_in_step_past_an_insertion_when_its_text_is_known() {
        // Thirty `import name;` rows, then the seed; the target has four
        // tokens more just before the seed (a patched import line). By
        // class alone, the rows shifted by two line up as well as the
        // rows in place, and cost less than the gap that keeps them in
        // step.
        const IMPORT: u32 = 5;
        let rows: Vec<u32> = (0..30)
            .flat_map(|i| [IMPORT, NAME_BIT | (100 + i)])
            .collect();
        let seed = stream(7, 40);
        let mut origin = stream(2, 60);
        origin.extend(&rows);
        origin.extend(&seed);
        let mut target = stream(4, 60);
        target.extend(&rows);
        target.extend([31, 32, 33, 34]);
        target.extend(&seed);
        let (tk, ok) = (keys_of(&target), keys_of(&origin));
        let hit = [hit(60 + 60 + 4, 60 + 60)];
        let p = ExtendParams {
            k: 8,
            band: 8,
            x_drop: 10,
        };
        let in_step = |a: &Alignment| {
            a.path
                .iter()
                .filter(|&&(i, j)| {
                    (60..120).contains(&i)
                        && is_name(target[i as usize])
                        && is_name(origin[j as usize])
                })
                .all(|&(i, j)| target[i as usize] == origin[j as usize])
        };
        let keyed = extend_chain(
            Tokens {
                syms: &target,
                keys: &tk,
            },
            Tokens {
                syms: &origin,
                keys: &ok,
            },
            &hit,
            &p,
        )
        .unwrap();
        assert!(in_step(&keyed), "{:?}", keyed.path);
        assert!(
            keyed.target.first <= 62 && keyed.origin.first <= 62,
            "{keyed:?}"
        );
        // Without the text the same extension pairs each name with a
        // neighbour's: what the keys are for.
        let bare = extend_bare(&target, &origin, &hit, &p).unwrap();
        assert!(!in_step(&bare), "{:?}", bare.path);
    }

    #[test]
    fn extension_finds_both_ends_of_a_copy() {
        let copy = stream(1, 200);
        let mut origin = stream(2, 300);
        origin.extend(&copy);
        origin.extend(stream(3, 300));
        let mut target = stream(4, 100);
        target.extend(&copy);
        target.extend(stream(5, 100));
        // One seed in the middle of the copy.
        let a = extend_bare(&target, &origin, &[hit(200, 400)], &params()).unwrap();
        // Exact but for a token that happens to agree on either side.
        let near = |got: u32, want: u32| got.abs_diff(want) <= 2;
        assert!(
            near(a.target.first, 100) && near(a.target.last, 299),
            "{a:?}"
        );
        assert!(
            near(a.origin.first, 300) && near(a.origin.last, 499),
            "{a:?}"
        );
        assert_eq!(a.target.first + 200, a.origin.first);
        assert!(a.identity() > 0.99, "{a:?}");
        assert!(a.names.consistency() > 0.9);
    }

    #[test]
    fn edits_inside_and_near_the_ends_are_bridged() {
        let copy = stream(7, 300);
        let mut edited = copy.clone();
        edited.splice(250..250, [3, 4, 5, 6, 7]); // inserted near the end
        edited.drain(30..34); // deleted near the start
        edited[150] = 39; // substituted
        let mut origin = stream(8, 50);
        origin.extend(&copy);
        origin.extend(stream(9, 50));
        let mut target = stream(10, 60);
        target.extend(&edited);
        target.extend(stream(11, 60));
        let a = extend_bare(&target, &origin, &[hit(160, 150)], &params()).unwrap();
        let near = |got: u32, want: usize| (got as usize).abs_diff(want) <= 2;
        assert!(near(a.target.first, 60), "{a:?}");
        assert!(near(a.target.last, 60 + edited.len() - 1), "{a:?}");
        assert!(
            near(a.origin.first, 50) && near(a.origin.last, 349),
            "{a:?}"
        );
        assert!(a.edits() >= 10 && a.edits() <= 30, "{a:?}");
        assert!(VerifyParams::for_k(8).reject(&a).is_none());
    }

    #[test]
    fn a_long_copy_with_scattered_edits_is_followed_to_both_ends() {
        // One seed; 4,000 tokens of copy with an edit every 97 tokens on
        // one side of the seed, and some insertions and deletions: the
        // extension walks exact runs and aligns only around the edits.
        let copy = stream(21, 4000);
        let mut edited = copy.clone();
        for at in (40..3960).step_by(97) {
            edited[at] = 39;
        }
        edited.splice(3000..3000, [1, 2, 3]);
        edited.drain(1000..1002);
        let mut origin = stream(22, 80);
        origin.extend(&copy);
        origin.extend(stream(23, 80));
        let mut target = stream(24, 70);
        target.extend(&edited);
        target.extend(stream(25, 70));
        let a = extend_bare(&target, &origin, &[hit(70 + 500, 80 + 500)], &params()).unwrap();
        let near = |got: u32, want: usize| (got as usize).abs_diff(want) <= 2;
        assert!(
            near(a.target.first, 70) && near(a.origin.first, 80),
            "{:?}",
            (a.target, a.origin)
        );
        assert!(near(a.target.last, 70 + edited.len() - 1), "{:?}", a.target);
        assert!(near(a.origin.last, 80 + copy.len() - 1), "{:?}", a.origin);
        assert!(a.identity() > 0.97, "{}", a.identity());
        assert!(a.edits() >= 40 && a.edits() <= 60, "{}", a.edits());
    }

    #[test]
    fn gaps_between_seeds_are_aligned() {
        let copy = stream(12, 120);
        let mut edited = copy.clone();
        edited.splice(60..60, [1, 2, 3]);
        let a = extend_bare(
            &edited,
            &copy,
            &[hit(10, 10), hit(80, 77)],
            &ExtendParams {
                x_drop: 5,
                ..params()
            },
        )
        .unwrap();
        assert_eq!((a.target.first, a.target.last), (0, 122));
        assert_eq!((a.origin.first, a.origin.last), (0, 119));
        assert_eq!(a.indels, 3);
        assert_eq!(a.substitutions, 0);
    }

    #[test]
    fn renamed_copies_are_consistent_and_reshuffled_names_are_not() {
        let origin = stream(20, 200);
        let renamed: Vec<u32> = origin
            .iter()
            .map(|&s| {
                if is_name(s) {
                    NAME_BIT | ((s & 0xff) + 100)
                } else {
                    s
                }
            })
            .collect();
        let a = extend_bare(&renamed, &origin, &[hit(50, 50)], &params()).unwrap();
        assert_eq!(a.names.consistency(), 1.0);
        // The same shape with names drawn independently.
        let mut x = 99u32;
        let shuffled: Vec<u32> = origin
            .iter()
            .map(|&s| {
                x = x.wrapping_mul(1_103_515_245).wrapping_add(12345);
                if is_name(s) {
                    NAME_BIT | ((x >> 16) % 17)
                } else {
                    s
                }
            })
            .collect();
        let b = extend_bare(&shuffled, &origin, &[hit(50, 50)], &params()).unwrap();
        assert!(b.names.consistency() < 0.5, "{}", b.names.consistency());
        assert_eq!(
            VerifyParams::for_k(8).reject(&b),
            Some("names do not map one to one")
        );
    }

    #[test]
    fn unrelated_neighbours_are_not_absorbed() {
        let copy = stream(30, 100);
        let mut target = stream(31, 500);
        target.splice(200..200, copy.iter().copied());
        let mut origin = stream(32, 500);
        origin.splice(250..250, copy.iter().copied());
        let a = extend_bare(&target, &origin, &[hit(240, 290)], &params()).unwrap();
        // A few lucky tokens at most on either end.
        assert!(a.target.first >= 195 && a.target.first <= 200, "{a:?}");
        assert!(a.target.last >= 299 && a.target.last <= 304, "{a:?}");
    }
    /// An edit of a token stream, for the property test below.
    #[derive(Clone, Debug)]
    enum Edit {
        Delete(usize),
        Insert(usize, u32),
        Replace(usize, u32),
        /// Unrelated tokens from here on: the end of a copy.
        Diverge(usize, u64),
        /// A run of unrelated tokens inserted.
        InsertRun(usize, u64, usize),
    }

    fn edit_strategy() -> impl Strategy<Value = Edit> {
        let tok = prop_oneof![1u32..40, (0u32..17).prop_map(|x| x | NAME_BIT)];
        // Edits gather near the start, where the band leaves its diagonal.
        prop_oneof![
            (0usize..80).prop_map(Edit::Delete),
            ((0usize..80), tok.clone()).prop_map(|(p, t)| Edit::Insert(p, t)),
            ((0usize..80), tok).prop_map(|(p, t)| Edit::Replace(p, t)),
            ((0usize..400), any::<u64>()).prop_map(|(p, s)| Edit::Diverge(p, s | 1)),
            ((0usize..80), any::<u64>(), 1usize..40).prop_map(|(p, s, n)| Edit::InsertRun(
                p,
                s | 1,
                n
            )),
        ]
    }

    fn segment_end(s: Segment) -> (usize, usize, bool) {
        match s {
            Segment::Settled { i, j } => (i, j, true),
            Segment::Ended { i, j } => (i, j, false),
        }
    }

    proptest! {
        /// The fast banded segment makes the same choices as the plain one,
        /// cell for cell: same end, same tally, both directions.
        #[test]
        fn banded_segment_equals_the_plain_one(
            seed in 1u64..u64::MAX,
            edits in proptest::collection::vec(edit_strategy(), 0..12),
            start in 0usize..20,
            kinds in prop_oneof![Just(2u32), Just(4), Just(40)],
        ) {
            // A small alphabet: chance matches, ties, and paths along the
            // band's edges, which is where a fast band can go wrong.
            let a: Vec<u32> = stream(seed, 300).into_iter().map(|t| if is_name(t) { t } else { t % kinds + 1 }).collect();
            let mut b = a.clone();
            for e in edits {
                let n = b.len().max(1);
                match e {
                    Edit::Delete(p) if !b.is_empty() => { b.remove(p % n); }
                    Edit::Delete(_) => {}
                    Edit::Insert(p, t) => b.insert(p % (b.len() + 1), t),
                    Edit::Replace(p, t) => if !b.is_empty() { b[p % n] = t },
                    Edit::Diverge(p, s) => { b.truncate(p % n); b.extend(stream(s, 200)); }
                    Edit::InsertRun(p, s, len) => {
                        let at = p % (b.len() + 1);
                        b.splice(at..at, stream(s, len));
                    }
                }
            }
            let p = params();
            let sj = start.min(b.len());
            // With the names' text known, so that same-text pairs score
            // their bonus in both.
            let (ka, kb) = (keys_of(&a), keys_of(&b));
            let (ta, tb) = (Tokens { syms: &a, keys: &ka }, Tokens { syms: &b, keys: &kb });
            for (t, o) in [
                (Side::Forward(Tokens::bare(&a)), Side::Forward(Tokens::bare(&b))),
                (Side::Backward(Tokens::bare(&a)), Side::Backward(Tokens::bare(&b))),
                (Side::Forward(ta), Side::Forward(tb)),
                (Side::Backward(ta), Side::Backward(tb)),
            ] {
                let (mut fast, mut plain) = (Tally::default(), Tally::default());
                let f = segment_end(banded_segment(t, o, start, sj, &p, &mut fast));
                let r = segment_end(reference_segment(t, o, start, sj, &p, &mut plain));
                prop_assert_eq!((f, &fast), (r, &plain));
            }
        }
    }
}
