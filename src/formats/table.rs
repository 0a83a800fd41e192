//! The terminal report: what was copied from whom under which license,
//! before any detail. A summary by license class (strongest obligation
//! first), then one block per origin project@version listing the target
//! files copied from it with the share of each file, the line ranges and
//! whether the notice was kept. Fits 100 columns; `--details` adds one row
//! per snippet.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;

use crate::policy::{classify, LicenseClass, Verdict};
use crate::report::{BaselineState, Finding, FindingKind, Report};

use super::{origin_label, Context};

/// Terminal width the report is laid out for.
pub const WIDTH: usize = 100;
const PATH_W: usize = 46;
const SHARE_W: usize = 5;
const LINES_W: usize = 22;
const NOTICE_W: usize = 8;

/// Strongest obligation first; an unknown license ranks where
/// [`LicenseClass::and`] puts it, above permissive terms.
fn strength(c: LicenseClass) -> u8 {
    match c {
        LicenseClass::NetworkCopyleft => 0,
        LicenseClass::StrongCopyleft => 1,
        LicenseClass::WeakCopyleft => 2,
        LicenseClass::Unknown => 3,
        LicenseClass::Permissive => 4,
        LicenseClass::PublicDomain => 5,
    }
}

/// ANSI styling, or none.
struct Style(bool);

impl Style {
    fn paint(&self, code: &str, s: &str) -> String {
        if self.0 && !s.is_empty() {
            format!("\x1b[{code}m{s}\x1b[0m")
        } else {
            s.to_string()
        }
    }
    fn class(&self, c: LicenseClass, s: &str) -> String {
        let code = match c {
            LicenseClass::NetworkCopyleft | LicenseClass::StrongCopyleft => "1;31",
            LicenseClass::WeakCopyleft => "33",
            LicenseClass::Unknown => "35",
            LicenseClass::Permissive | LicenseClass::PublicDomain => "32",
        };
        self.paint(code, s)
    }
}

/// Sorted, merged 1-based inclusive line ranges.
fn merge(mut ranges: Vec<[u32; 2]>) -> Vec<[u32; 2]> {
    ranges.sort_unstable();
    let mut out: Vec<[u32; 2]> = Vec::new();
    for r in ranges {
        match out.last_mut() {
            Some(last) if r[0] <= last[1].saturating_add(1) => last[1] = last[1].max(r[1]),
            _ => out.push(r),
        }
    }
    out
}

fn covered(ranges: &[[u32; 2]]) -> u64 {
    ranges.iter().map(|r| u64::from(r[1] - r[0] + 1)).sum()
}

/// `path` in at most `width` characters: cut in the middle, never in the
/// file name.
pub fn shorten(path: &str, width: usize) -> String {
    let chars: Vec<char> = path.chars().collect();
    if chars.len() <= width {
        return path.to_string();
    }
    let name_len = path
        .rsplit(['/', '!'])
        .next()
        .map_or(chars.len(), |n| n.chars().count());
    let tail = name_len.max((width.saturating_sub(1)) * 2 / 3);
    if tail + 1 >= width {
        let name: String = chars[chars.len() - name_len..].iter().collect();
        return format!("…{name}");
    }
    let head = width - 1 - tail;
    let start: String = chars[..head].iter().collect();
    let end: String = chars[chars.len() - tail..].iter().collect();
    format!("{start}…{end}")
}

fn thousands(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn ranges_text(ranges: &[[u32; 2]], width: usize) -> String {
    let mut out = String::new();
    for (i, r) in ranges.iter().enumerate() {
        let item = if r[0] == r[1] {
            r[0].to_string()
        } else {
            format!("{}-{}", r[0], r[1])
        };
        let sep = if i == 0 { "" } else { "," };
        let more = format!(" +{}", ranges.len() - i);
        let rest_after = ranges.len() - i - 1;
        let need = out.len() + sep.len() + item.len() + if rest_after > 0 { more.len() } else { 0 };
        if need > width && i > 0 {
            out.push_str(&more);
            return out;
        }
        out.push_str(sep);
        out.push_str(&item);
    }
    out
}

/// One target file's findings from one origin project@version.
struct FileRow<'a> {
    path: &'a str,
    findings: Vec<usize>,
}

struct Block<'a> {
    label: String,
    class: LicenseClass,
    licenses: BTreeSet<&'a str>,
    evidence: BTreeSet<&'a str>,
    copyright: Vec<&'a str>,
    files: BTreeMap<&'a str, FileRow<'a>>,
    lines: u64,
}

fn project_label(f: &Finding) -> String {
    let o = &f.origin;
    match (&o.project, &o.version) {
        (Some(p), Some(v)) => format!("{p}@{v}"),
        (Some(p), None) => p.clone(),
        _ => format!("unattributed ({})", o.path),
    }
}

/// Lines of `path` covered by findings `which`.
fn file_lines(report: &Report, which: &[usize]) -> Vec<[u32; 2]> {
    merge(
        which
            .iter()
            .map(|&i| report.findings[i].target_lines)
            .collect(),
    )
}

pub fn write_table(
    report: &Report,
    verdict: &Verdict,
    ctx: &Context,
    out: &mut dyn Write,
) -> anyhow::Result<()> {
    let st = Style(ctx.color);
    let classes: Vec<LicenseClass> = report
        .findings
        .iter()
        .map(|f| classify(f.origin.license.as_deref()))
        .collect();

    // Blocks by origin project@version.
    let mut blocks: BTreeMap<(String, Option<String>), Block> = BTreeMap::new();
    for (i, f) in report.findings.iter().enumerate() {
        // One block per origin and license: files of one project can carry
        // different licenses, and each deserves its own line of obligations.
        let label = project_label(f);
        let key = (label.clone(), f.origin.license.clone());
        let b = blocks.entry(key).or_insert_with(|| Block {
            label,
            class: classes[i],
            licenses: BTreeSet::new(),
            evidence: BTreeSet::new(),
            copyright: Vec::new(),
            files: BTreeMap::new(),
            lines: 0,
        });
        b.class = b.class.and(classes[i]);
        b.licenses
            .insert(f.origin.license.as_deref().unwrap_or("no license found"));
        if let Some(e) = &f.origin.license_evidence {
            b.evidence.insert(e);
        }
        for c in &f.origin.copyright {
            if !b.copyright.contains(&c.as_str()) {
                b.copyright.push(c);
            }
        }
        b.files
            .entry(&f.path)
            .or_insert_with(|| FileRow {
                path: &f.path,
                findings: Vec::new(),
            })
            .findings
            .push(i);
    }
    for b in blocks.values_mut() {
        b.lines = b
            .files
            .values()
            .map(|r| covered(&file_lines(report, &r.findings)))
            .sum();
    }
    let mut blocks: Vec<Block> = blocks.into_values().collect();
    blocks.sort_by(|a, b| {
        (strength(a.class), std::cmp::Reverse(a.lines), &a.label).cmp(&(
            strength(b.class),
            std::cmp::Reverse(b.lines),
            &b.label,
        ))
    });

    // The summary: per class, files, lines and projects.
    let mut by_file: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    for (i, f) in report.findings.iter().enumerate() {
        by_file.entry(&f.path).or_default().push(i);
    }
    let total_lines: u64 = by_file
        .values()
        .map(|w| covered(&file_lines(report, w)))
        .sum();
    let projects: BTreeSet<String> = report.findings.iter().map(project_label).collect();
    let s = &report.summary;
    if report.findings.is_empty() {
        writeln!(
            out,
            "No copied code found in {} file(s), {} scanned.",
            thousands(s.files as u64),
            bytes_text(s.bytes)
        )?;
    } else {
        writeln!(
            out,
            "{}",
            st.paint(
                "1",
                &format!(
                    "Copied code: {} line(s) in {} file(s), from {} origin(s)",
                    thousands(total_lines),
                    thousands(by_file.len() as u64),
                    projects.len()
                )
            )
        )?;
        writeln!(
            out,
            "  {:<18}{:>8}{:>8}{:>10}  ORIGINS",
            "LICENSE CLASS", "FILES", "LINES", "FINDINGS"
        )?;
        let mut order: Vec<LicenseClass> = LicenseClass::ALL.to_vec();
        order.sort_by_key(|c| strength(*c));
        for class in order {
            let which: Vec<usize> = (0..report.findings.len())
                .filter(|&i| classes[i] == class)
                .collect();
            if which.is_empty() {
                continue;
            }
            let mut files: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
            for &i in &which {
                files.entry(&report.findings[i].path).or_default().push(i);
            }
            let lines: u64 = files
                .values()
                .map(|w| covered(&file_lines(report, w)))
                .sum();
            let names: BTreeSet<String> = which
                .iter()
                .map(|&i| project_label(&report.findings[i]))
                .collect();
            let names: Vec<String> = names.into_iter().collect();
            let names = truncate(&names.join(", "), WIDTH - 48);
            writeln!(
                out,
                "  {}{:>8}{:>8}{:>10}  {names}",
                st.class(class, &format!("{:<18}", class.name())),
                thousands(files.len() as u64),
                thousands(lines),
                thousands(which.len() as u64),
            )?;
        }
        let accepted = (0..report.findings.len())
            .filter(|&i| report.is_accepted(i))
            .count();
        if accepted > 0 {
            writeln!(out, "  accepted by decisions: {accepted} finding(s)")?;
        }
        if report.absent.is_some() {
            let count = |state| {
                report
                    .review
                    .iter()
                    .filter(|r| r.baseline_state == Some(state))
                    .count()
            };
            writeln!(
                out,
                "  against the baseline: {} new, {} unchanged, {} absent",
                count(BaselineState::New),
                count(BaselineState::Unchanged),
                report.absent.as_ref().map_or(0, Vec::len)
            )?;
        }
        if !verdict.passed() {
            writeln!(
                out,
                "  {}",
                st.paint(
                    "1;31",
                    &format!("policy: {} finding(s) fail", verdict.violations.len())
                )
            )?;
        }
    }

    for b in &blocks {
        writeln!(out)?;
        let licenses: Vec<&str> = b.licenses.iter().copied().collect();
        let head = format!(
            "{}  {}",
            b.label,
            truncate(
                &licenses.join(" | "),
                WIDTH.saturating_sub(b.label.chars().count() + 22).max(12)
            )
        );
        writeln!(
            out,
            "{}  {}",
            st.paint("1", &head),
            st.class(b.class, &format!("[{}]", b.class.name()))
        )?;
        if !b.evidence.is_empty() {
            let ev: Vec<&str> = b.evidence.iter().copied().collect();
            writeln!(
                out,
                "  license from: {}",
                truncate(&ev.join(", "), WIDTH - 16)
            )?;
        }
        for c in b.copyright.iter().take(2) {
            writeln!(out, "  {}", truncate(c, WIDTH - 2))?;
        }
        if b.copyright.len() > 2 {
            writeln!(out, "  (+{} more copyright notices)", b.copyright.len() - 2)?;
        }
        let mut under = common_dir(b.files.keys().copied());
        if b.files.len() > 1 && under.chars().count() >= 12 {
            writeln!(out, "  under {}", shorten(under, WIDTH - 8))?;
        } else {
            under = "";
        }
        writeln!(
            out,
            "  {:<PATH_W$}  {:>SHARE_W$}  {:<LINES_W$}  {:<NOTICE_W$}  STATUS",
            format!(
                "{} file(s), {} line(s)",
                thousands(b.files.len() as u64),
                thousands(b.lines)
            ),
            "SHARE",
            "LINES",
            "NOTICE"
        )?;
        for row in b.files.values() {
            write_row(report, verdict, &st, row, under, out)?;
        }
    }

    if !report.stale_decisions.is_empty() {
        writeln!(out)?;
        writeln!(
            out,
            "Stale decisions (they match no finding any more; remove them from .provscan.toml):"
        )?;
        for d in &report.stale_decisions {
            let what: Vec<String> = [
                d.origin.as_ref().map(|o| format!("origin {o}")),
                d.origin_path.as_ref().map(|o| format!("origin-path {o}")),
                d.target.as_ref().map(|t| format!("target {t}")),
            ]
            .into_iter()
            .flatten()
            .collect();
            writeln!(
                out,
                "  {}",
                truncate(&format!("{}: {}", what.join(", "), d.reason), WIDTH - 2)
            )?;
        }
    }
    if let Some(absent) = report.absent.as_ref().filter(|a| !a.is_empty()) {
        writeln!(out)?;
        writeln!(out, "Gone since the baseline:")?;
        for a in absent {
            let lines = format!("{}-{}", a.target_lines[0], a.target_lines[1]);
            writeln!(
                out,
                "  {:<PATH_W$}  {lines:<12}  {}",
                shorten(&a.path, PATH_W),
                truncate(&origin_label(&a.origin), WIDTH - PATH_W - 18)
            )?;
        }
    }
    if ctx.details {
        writeln!(out)?;
        write_details(report, out)?;
    }
    writeln!(out)?;
    writeln!(
        out,
        "{} file(s), {} scanned in {:.1} s; {} skipped{}",
        thousands(s.files as u64),
        bytes_text(s.bytes),
        s.elapsed_ms as f64 / 1000.0,
        report.skipped.len(),
        if report.skipped.is_empty() || ctx.details {
            ""
        } else {
            " (--details lists them)"
        }
    )?;
    Ok(())
}

fn write_row(
    report: &Report,
    verdict: &Verdict,
    st: &Style,
    row: &FileRow,
    under: &str,
    out: &mut dyn Write,
) -> anyhow::Result<()> {
    let fs: Vec<&Finding> = row.findings.iter().map(|&i| &report.findings[i]).collect();
    let ranges = file_lines(report, &row.findings);
    let file_lines = row
        .findings
        .iter()
        .filter_map(|&i| report.review_of(i).and_then(|r| r.target_file_lines))
        .max()
        .or_else(|| {
            fs.iter()
                .filter(|f| f.kind == FindingKind::File)
                .map(|f| f.target_lines[1])
                .max()
        });
    let share = match file_lines {
        Some(n) if n > 0 => {
            let pct = (covered(&ranges) * 100).div_ceil(u64::from(n)).min(100);
            format!("{pct}%")
        }
        _ => "?".into(),
    };
    let lines = if fs.iter().any(|f| f.kind == FindingKind::File) {
        "whole file".to_string()
    } else {
        ranges_text(&ranges, LINES_W)
    };
    let notice = if fs.iter().any(|f| f.notice_retained == Some(false)) {
        st.paint("33", &format!("{:<NOTICE_W$}", "stripped"))
    } else if fs.iter().any(|f| f.notice_retained == Some(true)) {
        format!("{:<NOTICE_W$}", "kept")
    } else {
        format!("{:<NOTICE_W$}", "-")
    };
    // At most "fails,new": the column is 9 wide.
    let mut status = Vec::new();
    let open: Vec<usize> = row
        .findings
        .iter()
        .copied()
        .filter(|&i| !report.is_accepted(i))
        .collect();
    if open.iter().any(|&i| verdict.violation(i).is_some()) {
        status.push(st.paint("1;31", "fails"));
    }
    if open.iter().any(|&i| {
        report
            .review_of(i)
            .is_some_and(|r| r.baseline_state == Some(BaselineState::New))
    }) {
        status.push(st.paint("1;33", "new"));
    }
    if open.is_empty() {
        status.push(st.paint("32", "accepted"));
    } else if status.is_empty() && open.len() < row.findings.len() {
        status.push("part-acc".into());
    }
    let line = format!(
        "  {:<PATH_W$}  {share:>SHARE_W$}  {lines:<LINES_W$}  {notice}  {}",
        shorten(&row.path[under.len()..], PATH_W),
        status.join(",")
    );
    writeln!(out, "{}", line.trim_end())?;
    Ok(())
}

/// The longest directory prefix (ending in `/`) shared by all paths.
fn common_dir<'a>(mut paths: impl Iterator<Item = &'a str>) -> &'a str {
    let Some(first) = paths.next() else {
        return "";
    };
    let mut len = first.len();
    for p in paths {
        len = first
            .bytes()
            .zip(p.bytes())
            .take(len)
            .take_while(|(a, b)| a == b)
            .count();
    }
    match first[..len].rfind('/') {
        Some(i) => &first[..=i],
        None => "",
    }
}

fn truncate(s: &str, width: usize) -> String {
    if s.chars().count() <= width {
        return s.to_string();
    }
    let cut: String = s.chars().take(width.saturating_sub(1)).collect();
    format!("{cut}…")
}

fn bytes_text(b: u64) -> String {
    if b >= 1 << 20 {
        format!("{:.1} MB", b as f64 / f64::from(1 << 20))
    } else if b >= 1 << 10 {
        format!("{:.1} kB", b as f64 / 1024.0)
    } else {
        format!("{b} B")
    }
}

/// One row per finding (`--details`), with its id for `provscan accept`.
pub fn write_details(report: &Report, out: &mut dyn Write) -> anyhow::Result<()> {
    let rows: Vec<[String; 7]> = report
        .findings
        .iter()
        .enumerate()
        .map(|(i, f)| {
            let review = report.review_of(i);
            [
                review.map(|r| r.id.clone()).unwrap_or_default(),
                f.path.clone(),
                format!("{}-{}", f.target_lines[0], f.target_lines[1]),
                format!(
                    "{}:{}-{}",
                    origin_label(&f.origin),
                    f.origin.lines[0],
                    f.origin.lines[1]
                ),
                f.origin.license.clone().unwrap_or_else(|| "-".into()),
                format!("{:.2}", f.similarity),
                [
                    match (f.kind, f.notice_retained) {
                        (FindingKind::File, _) => "whole file".to_string(),
                        (_, Some(false)) => "notice stripped".into(),
                        _ => String::new(),
                    },
                    review
                        .and_then(|r| r.accepted.as_ref())
                        .map(|a| format!("accepted: {}", a.reason))
                        .unwrap_or_default(),
                    review
                        .and_then(|r| r.baseline_state)
                        .map(|b| b.name().to_string())
                        .unwrap_or_default(),
                ]
                .into_iter()
                .filter(|s| !s.is_empty())
                .collect::<Vec<_>>()
                .join("; "),
            ]
        })
        .collect();
    let header = ["ID", "PATH", "LINES", "ORIGIN", "LICENSE", "SIM", "NOTE"].map(String::from);
    let mut widths = header.clone().map(|h| h.len());
    for row in &rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    for row in std::iter::once(&header).chain(&rows) {
        let line: Vec<String> = row
            .iter()
            .zip(widths)
            .map(|(cell, w)| format!("{cell:<w$}"))
            .collect();
        writeln!(out, "{}", line.join("  ").trim_end())?;
    }
    for skip in &report.skipped {
        writeln!(out, "skipped {}: {}", skip.path, skip.reason)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_shorten_in_the_middle_keeping_the_name() {
        let p = "gnureadline-8.3.3.tar.gz!/gnureadline-8.3.3/rl/readline-8.3.tar.gz!/readline-8.3/examples/rlfe/rlfe.c";
        let s = shorten(p, 46);
        assert_eq!(s.chars().count(), 46, "{s}");
        assert!(
            s.ends_with("/rlfe.c") && s.starts_with("gnureadline"),
            "{s}"
        );
        assert_eq!(shorten("a/b.c", 46), "a/b.c");
        let long_name = format!("dir/{}.c", "x".repeat(60));
        assert!(shorten(&long_name, 46).ends_with(&format!("{}.c", "x".repeat(60))));
    }

    #[test]
    fn ranges_merge_and_fit() {
        assert_eq!(
            merge(vec![[5, 9], [1, 3], [4, 4], [20, 30]]),
            [[1, 9], [20, 30]]
        );
        let many: Vec<[u32; 2]> = (0..20).map(|i| [i * 100 + 1, i * 100 + 50]).collect();
        let t = ranges_text(&many, LINES_W);
        assert!(t.chars().count() <= LINES_W, "{t}");
        assert!(t.contains(" +"), "{t}");
        assert_eq!(thousands(1234567), "1,234,567");
        let paths = ["a/b/x.c", "a/b/c/y.c", "a/bb.c"];
        assert_eq!(common_dir(paths.into_iter()), "a/");
        assert_eq!(common_dir(["a/b/x.c", "a/b/y.c"].into_iter()), "a/b/");
        assert_eq!(common_dir(["x.c"].into_iter()), "");
    }

    #[test]
    fn every_line_fits_100_columns() {
        let mut report = crate::policy::tests::sample_report();
        for f in &mut report.findings {
            f.path = format!("very/long/vendor/directory/{}/{}", "x".repeat(80), f.path);
        }
        let mut ctx = Context::new("t", None);
        ctx.color = false;
        let mut out = Vec::new();
        write_table(&report, &Verdict::default(), &ctx, &mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        for line in text.lines() {
            assert!(
                line.chars().count() <= WIDTH,
                "{} chars: {line}",
                line.chars().count()
            );
        }
        assert!(!text.contains('\x1b'));
    }
}
