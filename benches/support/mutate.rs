//! Making a copied snippet look different, the way people do: re-layout and
//! comments (T1), consistent renaming and changed literals (T2), and a few
//! lines inserted, deleted or edited (T3). Operates on lines of text; token
//! spans from `engine::token` say where names and literals are.

use engine::lang::Language;
use engine::token::{class, Token, TokenKind};

/// splitmix64: tiny, seedable, good enough to pick test cases.
pub struct Rng(u64);

impl Rng {
    /// A generator for one item of a family, independent of the others.
    pub fn derive(parts: &[u64]) -> Rng {
        let mut r = Rng(0x2545_f491_4f6c_dd1d);
        for &p in parts {
            r.0 ^= p;
            r.next_u64();
        }
        r
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (n > 0).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }

    pub fn chance(&mut self, p: f64) -> bool {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64 <= p
    }

    pub fn uniform(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * ((self.next_u64() >> 11) as f64 / (1u64 << 53) as f64)
    }

    /// A fresh lower-case word, never a keyword of any language measured.
    pub fn word(&mut self, prefix: &str) -> String {
        const LETTERS: &[u8] = b"abcdefghijklmnopqrstuvwxyz";
        let mut s = String::from(prefix);
        for _ in 0..5 {
            s.push(LETTERS[self.below(LETTERS.len())] as char);
        }
        s
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Mutation {
    T1,
    T2,
    T3,
}

impl Mutation {
    pub const ALL: [Mutation; 3] = [Mutation::T1, Mutation::T2, Mutation::T3];
}

/// Lines picked from a donor file.
pub struct Snippet {
    /// 1-based, inclusive, in the donor.
    pub first_line: u32,
    pub last_line: u32,
    /// Byte offset of the first line in the donor.
    pub offset: usize,
    pub text: String,
}

/// Picks `n` consecutive lines that start and end with code and are mostly
/// code (not a table of numbers, not a comment block). `None` if the file
/// has no such place after a few tries.
pub fn pick_snippet(
    text: &str,
    tokens: &[Token],
    n: usize,
    python: bool,
    rng: &mut Rng,
) -> Option<Snippet> {
    let all_lines: Vec<&str> = text.split('\n').collect();
    let starts: Vec<usize> = std::iter::once(0)
        .chain(text.match_indices('\n').map(|(i, _)| i + 1))
        .collect();
    let lines = starts.len();
    if lines < n + 2 {
        return None;
    }
    let mut code_line = vec![false; lines + 2];
    for t in tokens {
        code_line[t.line as usize] = true;
        code_line[t.end_line as usize] = true;
    }
    for _ in 0..200 {
        let first = 1 + rng.below(lines - n);
        let last = first + n - 1;
        if !code_line[first]
            || !code_line[last]
            || !is_statement_run(&all_lines, first, last, python)
        {
            continue;
        }
        let code = (first..=last).filter(|&l| code_line[l]).count();
        let inside: Vec<&Token> = tokens
            .iter()
            .filter(|t| t.line as usize >= first && t.end_line as usize <= last)
            .collect();
        let literals = inside.iter().filter(|t| is_literal(t)).count();
        if code * 10 < n * 7 || inside.len() < 4 * n || literals * 10 > inside.len() * 3 {
            continue;
        }
        let offset = starts[first - 1];
        let end = starts.get(last).map_or(text.len(), |&e| e - 1);
        return Some(Snippet {
            first_line: first as u32,
            last_line: last as u32,
            offset,
            text: text[offset..end].trim_end_matches('\r').to_string(),
        });
    }
    None
}

fn is_literal(t: &Token) -> bool {
    t.kind == TokenKind::Fixed && matches!(t.code, class::STRING | class::NUMBER | class::CHAR)
}

/// Applies `mutation` to a snippet; returns its new lines.
pub fn mutate(
    snippet: &Snippet,
    donor: &str,
    tokens: &[Token],
    lang: Language,
    mutation: Mutation,
    rng: &mut Rng,
) -> Vec<String> {
    let mut names = Vec::new();
    let text = if mutation >= Mutation::T2 {
        rename_and_relit(snippet, donor, tokens, rng, &mut names)
    } else {
        snippet.text.clone()
    };
    let mut lines: Vec<String> = text
        .split('\n')
        .map(|l| l.trim_end_matches('\r').to_string())
        .collect();
    if mutation == Mutation::T3 {
        edit_lines(&mut lines, &names, lang, rng);
    }
    relayout(&mut lines, lang, rng);
    lines
}

/// T2: every distinct name is renamed (consistently) with probability 0.8,
/// every string or number literal changed with probability 0.5.
fn rename_and_relit(
    snippet: &Snippet,
    donor: &str,
    tokens: &[Token],
    rng: &mut Rng,
    new_names: &mut Vec<String>,
) -> String {
    let (lo, hi) = (snippet.offset, snippet.offset + snippet.text.len());
    let inside: Vec<&Token> = tokens
        .iter()
        .filter(|t| t.start as usize >= lo && t.end as usize <= hi)
        .collect();
    let text_of = |t: &Token| &donor[t.start as usize..t.end as usize];
    // Words that are also keywords here (macro bodies lex keywords as names).
    let fixed: std::collections::HashSet<&str> = inside
        .iter()
        .filter(|t| t.kind == TokenKind::Fixed)
        .map(|t| text_of(t))
        .collect();
    let mut map: std::collections::HashMap<&str, Option<String>> = Default::default();
    let mut edits: Vec<(usize, usize, String)> = Vec::new();
    for t in &inside {
        let s = text_of(t);
        let replacement = match t.kind {
            TokenKind::Ident if !fixed.contains(s) => map
                .entry(s)
                .or_insert_with(|| rng.chance(0.8).then(|| rng.word("rn")))
                .clone(),
            TokenKind::Fixed if t.code == class::NUMBER && rng.chance(0.5) => {
                Some((1 + rng.below(999)).to_string())
            }
            TokenKind::Fixed if t.code == class::STRING && rng.chance(0.5) => new_string(s, rng),
            _ => None,
        };
        if let Some(r) = replacement {
            edits.push((t.start as usize - lo, t.end as usize - lo, r));
        }
    }
    new_names.extend(map.into_values().flatten());
    let mut out = String::with_capacity(snippet.text.len());
    let mut at = 0;
    for (start, end, r) in edits {
        if start < at || end > snippet.text.len() {
            continue;
        }
        out.push_str(&snippet.text[at..start]);
        out.push_str(&r);
        at = end;
    }
    out.push_str(&snippet.text[at..]);
    out
}

/// The same string literal with other contents; `None` if its quotes are unclear.
fn new_string(s: &str, rng: &mut Rng) -> Option<String> {
    let q = s.find(['"', '\'', '`'])?;
    let c = s[q..].chars().next()?;
    let triple: String = std::iter::repeat_n(c, 3).collect();
    let run = if s[q..].starts_with(&triple) && s.len() >= q + 6 {
        3
    } else {
        1
    };
    let last = s.rfind(c)?;
    let close = last + 1 - run;
    if close < q + run {
        return None;
    }
    Some(format!(
        "{}{}{}",
        &s[..q + run],
        rng.word("text "),
        &s[close..]
    ))
}

fn indent_of(line: &str) -> &str {
    &line[..line.len() - line.trim_start().len()]
}

fn statement(lang: Language, rng: &mut Rng) -> String {
    let name = rng.word("extra");
    let value = 1 + rng.below(99);
    match lang {
        Language::Python => format!("{name} = {value}"),
        Language::Rust => format!("let {name} = {value};"),
        _ => format!("{name} += {value};"),
    }
}

/// T3: 10–25 % of the lines (at least one) inserted, deleted or edited.
fn edit_lines(lines: &mut Vec<String>, names: &[String], lang: Language, rng: &mut Rng) {
    let n = lines.len();
    let ops = ((n as f64 * rng.uniform(0.10, 0.25)).round() as usize).max(1);
    for _ in 0..ops {
        let len = lines.len();
        if len < 3 {
            break;
        }
        // Internal positions only, so the copy still starts and ends with code.
        let i = 1 + rng.below(len - 2);
        match rng.below(3) {
            0 => {
                let line = format!("{}{}", indent_of(&lines[i]), statement(lang, rng));
                lines.insert(i, line);
            }
            1 => {
                lines.remove(i);
            }
            _ => {
                if !edit_line(&mut lines[i], names, rng) {
                    let line = format!("{}{}", indent_of(&lines[i]), statement(lang, rng));
                    lines.insert(i, line);
                }
            }
        }
    }
}

/// Replaces one name with a new one, or changes an operator.
fn edit_line(line: &mut String, names: &[String], rng: &mut Rng) -> bool {
    let words = words_of(line);
    let candidates: Vec<&(usize, usize)> = words
        .iter()
        .filter(|(s, e)| names.is_empty() || names.iter().any(|n| n == &line[*s..*e]))
        .collect();
    if !candidates.is_empty() {
        let &(s, e) = candidates[rng.below(candidates.len())];
        line.replace_range(s..e, &rng.word("edited"));
        return true;
    }
    for (from, to) in [
        (" + ", " - "),
        (" < ", " <= "),
        (" == ", " != "),
        (" - ", " + "),
    ] {
        if let Some(p) = line.find(from) {
            line.replace_range(p..p + from.len(), to);
            return true;
        }
    }
    false
}

fn words_of(line: &str) -> Vec<(usize, usize)> {
    let b = line.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if b[i].is_ascii_alphabetic() || b[i] == b'_' {
            let s = i;
            while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'_') {
                i += 1;
            }
            out.push((s, i));
        } else {
            i += 1;
        }
    }
    out
}

/// T1: indentation changed, blank lines and whole-line comments removed,
/// comments and blank lines added, spacing changed, long lines split.
fn relayout(lines: &mut Vec<String>, lang: Language, rng: &mut Rng) {
    let python = lang == Language::Python;
    let marker = if python { "#" } else { "//" };
    let continued = |l: &str| l.trim_end().ends_with('\\');
    let last = lines.len() - 1;
    let keep_ends = |i: usize| i == 0 || i == last;
    if rng.chance(0.5) {
        let mut i = 0;
        lines.retain(|l| {
            let t = l.trim_start();
            let drop = !keep_ends(i) && t.starts_with(marker) && !t.starts_with("#!");
            i += 1;
            !drop
        });
    }
    if rng.chance(0.5) {
        let last = lines.len() - 1;
        let mut i = 0;
        lines.retain(|l| {
            let drop = i != 0 && i != last && l.trim().is_empty();
            i += 1;
            !drop
        });
    }
    // Indentation relative to the first line is halved, doubled or turned
    // into tabs; the first line keeps its own, so the copy still fits where
    // it is pasted (Python needs that).
    let scheme = rng.below(if python { 2 } else { 3 });
    let base = lines.first().map_or(0, |l| width(l));
    for l in lines.iter_mut() {
        let old = width(l);
        let rel = old.saturating_sub(base);
        let body = l.trim_start().to_string();
        let indent = match scheme {
            _ if old < base || l.trim().is_empty() => " ".repeat(old),
            0 => " ".repeat(base + rel / 2),
            1 => " ".repeat(base + rel * 2),
            _ => " ".repeat(base) + &"\t".repeat(rel / 4) + &" ".repeat(rel % 4),
        };
        *l = indent + &body;
        if rng.chance(0.3) {
            *l = l.replace(", ", ",");
        } else if rng.chance(0.2) {
            *l = l.replace(" = ", "=");
        } else if rng.chance(0.1) && l.contains('(') && !python {
            *l = l.replacen('(', "( ", 1);
        }
    }
    let mut out: Vec<String> = Vec::with_capacity(lines.len() * 2);
    let count = lines.len();
    for (i, l) in lines.drain(..).enumerate() {
        let after_continuation = out.last().is_some_and(|p: &String| continued(p));
        if i > 0 && !after_continuation {
            if rng.chance(0.1) {
                out.push(format!("{}{marker} {}", indent_of(&l), rng.word("note ")));
            }
            if rng.chance(0.08) {
                out.push(String::new());
            }
        }
        let splittable = !python
            && !l.contains(['"', '\'', '`', '#'])
            && !l.contains("//")
            && !l.contains("/*")
            && !continued(&l);
        match l.find(", ") {
            Some(p) if splittable && rng.chance(0.1) => {
                let rest = format!("{}    {}", indent_of(&l), &l[p + 2..]);
                out.push(l[..p + 1].to_string());
                out.push(rest);
            }
            _ if i + 1 < count && !continued(&l) && rng.chance(0.1) => {
                out.push(format!("{l} {marker} {}", rng.word("tail ")));
            }
            _ => out.push(l),
        }
    }
    *lines = out;
}

fn width(line: &str) -> usize {
    indent_of(line).replace('\t', "    ").len()
}

/// Whether a line ends a statement or opens/closes a block, so that the next
/// line starts a statement.
fn ends_statement(line: &str, python: bool) -> bool {
    let t = line.trim_end();
    if t.trim().is_empty() {
        return true;
    }
    if python {
        !t.ends_with([',', '(', '[', '{', '\\', '+', '-', '*', '/', '='])
    } else {
        t.ends_with([';', '{', '}'])
    }
}

/// Whether a line can start a statement (not a closing bracket or the
/// continuation of an `if`).
fn starts_statement(line: &str) -> bool {
    let t = line.trim_start();
    !t.is_empty()
        && !t.starts_with([')', ']', '}', '.', ',', '?', ':', '&', '|', '+', '-', '*'])
        && !["else", "elif", "except", "finally", "catch"]
            .iter()
            .any(|k| t.starts_with(k))
}

/// Whether the donor lines `first..=last` (1-based) look like whole
/// statements: they start after a statement ended and end one.
pub fn is_statement_run(lines: &[&str], first: usize, last: usize, python: bool) -> bool {
    let prev = lines[..first - 1]
        .iter()
        .rev()
        .find(|l| !l.trim().is_empty());
    prev.is_none_or(|p| ends_statement(p, python))
        && starts_statement(lines[first - 1])
        && ends_statement(lines[last - 1], python)
}

/// Where a snippet goes in a host: before a statement indented like the
/// snippet's first line, after a line that ends a statement (so a run of
/// statements lands among statements and a definition among definitions);
/// else before a top-level line after a blank line; else at the end.
pub fn insertion_point(
    host_lines: &[&str],
    snippet_indent: usize,
    python: bool,
    rng: &mut Rng,
) -> usize {
    let ok = |i: usize| {
        !host_lines[i].trim().is_empty()
            && width(host_lines[i]) == snippet_indent
            && starts_statement(host_lines[i])
            && ends_statement(host_lines[i - 1], python)
    };
    let mut candidates: Vec<usize> = (1..host_lines.len()).filter(|&i| ok(i)).collect();
    if candidates.is_empty() {
        candidates = (1..host_lines.len())
            .filter(|&i| {
                host_lines[i - 1].trim().is_empty()
                    && !host_lines[i].trim().is_empty()
                    && indent_of(host_lines[i]).is_empty()
            })
            .collect();
    }
    if candidates.is_empty() {
        host_lines.len() - usize::from(host_lines.last().is_some_and(|l| l.is_empty()))
    } else {
        candidates[rng.below(candidates.len())]
    }
}

/// Indentation width of the first line of a snippet.
pub fn first_indent(lines: &[String]) -> usize {
    lines.first().map_or(0, |l| width(l))
}
