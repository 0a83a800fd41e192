//! A static HTML report, one self-contained file (no network, no external
//! scripts or styles): the summary with inline SVG charts of copied lines by
//! license class and by origin, a sortable table of files, and each finding
//! with its origin, license, evidence and copyright above the copied lines.
//!
//! The output is well-formed XML (XHTML-style: every element closed, every
//! attribute quoted), so a plain XML parser checks it in the test suite.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::Write;

use crate::policy::{classify, LicenseClass, Verdict};
use crate::report::{BaselineState, FindingKind, Report};

use super::{origin_label, Context};

/// Target line ranges per target path.
type RangesByFile<'a> = BTreeMap<&'a str, Vec<[u32; 2]>>;

/// Escapes text and attribute values.
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            // Control characters are not allowed in XML 1.0.
            c if (c as u32) < 0x20 && c != '\n' && c != '\t' => out.push('\u{fffd}'),
            c => out.push(c),
        }
    }
    out
}

fn class_colour(c: LicenseClass) -> &'static str {
    match c {
        LicenseClass::NetworkCopyleft => "#7b1fa2",
        LicenseClass::StrongCopyleft => "#c62828",
        LicenseClass::WeakCopyleft => "#ef6c00",
        LicenseClass::Unknown => "#757575",
        LicenseClass::Permissive => "#2e7d32",
        LicenseClass::PublicDomain => "#00838f",
    }
}

fn merged_lines(mut ranges: Vec<[u32; 2]>) -> u64 {
    ranges.sort_unstable();
    let mut total = 0u64;
    let mut cur: Option<[u32; 2]> = None;
    for r in ranges {
        match &mut cur {
            Some(c) if r[0] <= c[1].saturating_add(1) => c[1] = c[1].max(r[1]),
            _ => {
                if let Some(c) = cur {
                    total += u64::from(c[1] - c[0] + 1);
                }
                cur = Some(r);
            }
        }
    }
    total + cur.map_or(0, |c| u64::from(c[1] - c[0] + 1))
}

fn lines_of(m: &BTreeMap<&str, Vec<[u32; 2]>>) -> u64 {
    m.values().map(|r| merged_lines(r.clone())).sum()
}

/// A horizontal bar chart, one bar per (label, value, colour).
fn bar_chart(title: &str, bars: &[(String, u64, &str)]) -> String {
    let max = bars.iter().map(|b| b.1).max().unwrap_or(1).max(1);
    let (row, label_w, bar_w): (usize, u32, u32) = (22, 220, 360);
    let height = 30 + row * bars.len();
    let mut svg = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{}\" height=\"{height}\" role=\"img\" aria-label=\"{}\">\
         <text x=\"0\" y=\"16\" font-weight=\"bold\">{}</text>",
        label_w + bar_w + 90,
        esc(title),
        esc(title)
    );
    for (i, (label, value, colour)) in bars.iter().enumerate() {
        let y = 26 + row * i;
        let w = (*value as f64 / max as f64 * bar_w as f64).max(1.0);
        let short: String = label.chars().take(32).collect();
        let _ = write!(
            svg,
            "<text x=\"0\" y=\"{}\" font-size=\"13\">{}</text>\
             <rect x=\"{label_w}\" y=\"{y}\" width=\"{w:.1}\" height=\"16\" fill=\"{colour}\"><title>{}: {value} lines</title></rect>\
             <text x=\"{:.1}\" y=\"{}\" font-size=\"12\">{value}</text>",
            y + 13,
            esc(&short),
            esc(label),
            f64::from(label_w) + w + 6.0,
            y + 13
        );
    }
    svg.push_str("</svg>");
    svg
}

const STYLE: &str = "body{font-family:sans-serif;margin:1.5em;color:#222}\
table{border-collapse:collapse;font-size:14px}th,td{padding:3px 8px;border-bottom:1px solid #ddd;text-align:left}\
th{cursor:pointer;background:#f3f3f3}td.num{text-align:right}\
.finding{border:1px solid #ccc;margin:1em 0;padding:.5em 1em}\
.meta{font-size:13px;color:#444}.accepted{color:#2e7d32}.fails{color:#c62828;font-weight:bold}\
.new{color:#ef6c00;font-weight:bold}pre{margin:0}\
.code{font-family:monospace;font-size:12px;white-space:pre;overflow-x:auto;background:#fafafa}\
.code span.hl{background:#fff3b0;display:block}.ln{color:#999;user-select:none}\
table.sbs{border-collapse:collapse;width:100%;font-family:monospace;font-size:12px;table-layout:fixed}\
table.sbs td{white-space:pre;overflow:hidden;vertical-align:top;padding:0 4px}\
table.sbs td.n{width:4em;color:#999;text-align:right}table.sbs tr.eq td.t{background:#fff3b0}\
table.sbs tr.chg td.t{background:#ffd8a8}table.sbs tr.ins td.t,table.sbs tr.del td.t{background:#ffc9c9}\
.charts{display:flex;flex-wrap:wrap;gap:2em}";

const SCRIPT: &str = "document.querySelectorAll('table.sortable th').forEach(function(th,i){\
th.addEventListener('click',function(){var t=th.closest('table'),b=t.tBodies[0],\
r=Array.prototype.slice.call(b.rows),asc=th.dataset.asc!=='1';th.dataset.asc=asc?'1':'0';\
r.sort(function(x,y){var a=x.cells[i].dataset.v||x.cells[i].textContent,\
c=y.cells[i].dataset.v||y.cells[i].textContent,n=parseFloat(a)-parseFloat(c);\
if(!isNaN(n)){if(n!==0)return asc?n:-n;}return asc?a.localeCompare(c):c.localeCompare(a);});\
r.forEach(function(e){b.appendChild(e);});});});";

pub fn write_html(
    report: &Report,
    verdict: &Verdict,
    ctx: &Context,
    out: &mut dyn Write,
) -> anyhow::Result<()> {
    let classes: Vec<LicenseClass> = report
        .findings
        .iter()
        .map(|f| classify(f.origin.license.as_deref()))
        .collect();
    let mut h = String::new();
    let _ = write!(
        h,
        "<!DOCTYPE html>\n<html xmlns=\"http://www.w3.org/1999/xhtml\" lang=\"en\"><head>\
         <meta charset=\"utf-8\"/><title>provscan report: {}</title><style>{STYLE}</style></head><body>",
        esc(&ctx.name)
    );
    let _ = write!(h, "<h1>Copied code in {}</h1>", esc(&ctx.name));

    // Lines by class and by origin (per file, merged ranges).
    let mut by_class: BTreeMap<LicenseClass, RangesByFile> = BTreeMap::new();
    let mut by_origin: BTreeMap<String, (LicenseClass, RangesByFile)> = BTreeMap::new();
    for (i, f) in report.findings.iter().enumerate() {
        by_class
            .entry(classes[i])
            .or_default()
            .entry(&f.path)
            .or_default()
            .push(f.target_lines);
        let label = match (&f.origin.project, &f.origin.version) {
            (Some(p), Some(v)) => format!("{p}@{v}"),
            (Some(p), None) => p.clone(),
            _ => "unattributed".into(),
        };
        let e = by_origin
            .entry(label)
            .or_insert((classes[i], BTreeMap::new()));
        e.0 = e.0.and(classes[i]);
        e.1.entry(&f.path).or_default().push(f.target_lines);
    }
    let mut files: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    for (i, f) in report.findings.iter().enumerate() {
        files.entry(&f.path).or_default().push(i);
    }
    let total: u64 = files
        .values()
        .map(|w| merged_lines(w.iter().map(|&i| report.findings[i].target_lines).collect()))
        .sum();
    let accepted = (0..report.findings.len())
        .filter(|&i| report.is_accepted(i))
        .count();
    let _ = write!(
        h,
        "<p>{total} copied line(s) in {} file(s) from {} origin(s); {} finding(s), {accepted} accepted; \
         {} file(s) scanned, {} skipped. Policy: <span class=\"{}\">{}</span>.</p>",
        files.len(),
        by_origin.len(),
        report.findings.len(),
        report.summary.files,
        report.skipped.len(),
        if verdict.passed() { "accepted" } else { "fails" },
        if verdict.passed() {
            "passes".to_string()
        } else {
            format!("{} finding(s) fail", verdict.violations.len())
        }
    );
    let mut class_bars: Vec<(String, u64, &str)> = by_class
        .iter()
        .map(|(c, m)| (c.name().to_string(), lines_of(m), class_colour(*c)))
        .collect();
    class_bars.sort_by_key(|b| std::cmp::Reverse(b.1));
    let mut origin_bars: Vec<(String, u64, &str)> = by_origin
        .iter()
        .map(|(o, (c, m))| (o.clone(), lines_of(m), class_colour(*c)))
        .collect();
    origin_bars.sort_by_key(|b| std::cmp::Reverse(b.1));
    origin_bars.truncate(15);
    let _ = write!(
        h,
        "<div class=\"charts\">{}{}</div>",
        bar_chart("Copied lines by license class", &class_bars),
        bar_chart("Copied lines by origin", &origin_bars)
    );

    // Files, sortable.
    h.push_str(
        "<h2>Files</h2><table class=\"sortable\"><thead><tr><th>File</th><th>Origin</th>\
         <th>License</th><th>Class</th><th>Share</th><th>Lines</th><th>Notice</th><th>Status</th>\
         </tr></thead><tbody>",
    );
    for (path, which) in &files {
        let first = &report.findings[which[0]];
        let lines = merged_lines(
            which
                .iter()
                .map(|&i| report.findings[i].target_lines)
                .collect(),
        );
        let file_lines = which
            .iter()
            .filter_map(|&i| report.review_of(i).and_then(|r| r.target_file_lines))
            .max();
        let share = file_lines
            .filter(|&n| n > 0)
            .map(|n| (lines * 100).div_ceil(u64::from(n)).min(100));
        let class = which
            .iter()
            .map(|&i| classes[i])
            .reduce(LicenseClass::and)
            .unwrap_or(LicenseClass::Unknown);
        let notice = if which
            .iter()
            .any(|&i| report.findings[i].notice_retained == Some(false))
        {
            "stripped"
        } else if which
            .iter()
            .any(|&i| report.findings[i].notice_retained == Some(true))
        {
            "kept"
        } else {
            "-"
        };
        let _ = write!(
            h,
            "<tr><td><a href=\"#f{}\">{}</a></td><td>{}</td><td>{}</td><td>{}</td>\
             <td class=\"num\" data-v=\"{}\">{}</td><td class=\"num\">{lines}</td><td>{notice}</td><td>{}</td></tr>",
            which[0],
            esc(path),
            esc(&origin_label(&first.origin)),
            esc(first.origin.license.as_deref().unwrap_or("unknown")),
            class.name(),
            share.unwrap_or(0),
            share.map_or("?".to_string(), |s| format!("{s}%")),
            status(report, verdict, which),
        );
    }
    h.push_str("</tbody></table>");

    // Findings.
    h.push_str("<h2>Findings</h2>");
    for (i, f) in report.findings.iter().enumerate() {
        let o = &f.origin;
        let review = report.review_of(i);
        let _ = write!(
            h,
            "<div class=\"finding\" id=\"f{i}\"><h3>{} lines {}–{}</h3><div class=\"meta\">\
             <div>Origin: <b>{}</b> lines {}–{} ({}; similarity {:.2}, {} tokens)</div>\
             <div>License: <b>{}</b> [{}] from {}</div>",
            esc(&f.path),
            f.target_lines[0],
            f.target_lines[1],
            esc(&origin_label(o)),
            o.lines[0],
            o.lines[1],
            if f.kind == FindingKind::File {
                "whole file"
            } else {
                "snippet"
            },
            f.similarity,
            f.matched_tokens,
            esc(o.license.as_deref().unwrap_or("unknown")),
            classes[i].name(),
            esc(o.license_evidence.as_deref().unwrap_or("no evidence")),
        );
        for c in &o.copyright {
            let _ = write!(h, "<div>{}</div>", esc(c));
        }
        let _ = write!(
            h,
            "<div>Notice: {}; status: {}{}</div></div>",
            match f.notice_retained {
                Some(true) => "kept",
                Some(false) => "stripped",
                None => "none in the origin",
            },
            status(report, verdict, &[i]),
            review
                .filter(|r| !r.id.is_empty())
                .map(|r| format!("; id {}", esc(&r.id)))
                .unwrap_or_default()
        );
        match (
            review.and_then(|r| r.origin_text.as_deref()),
            review.and_then(|r| r.target_text.as_deref()),
        ) {
            (Some(origin), Some(target)) => {
                side_by_side(&mut h, origin, f.origin.lines[0], target, f.target_lines[0]);
            }
            (None, Some(text)) => {
                h.push_str(
                    "<p class=\"meta\">(origin text not in the index: added with --no-source, \
                     or a cached result; the copy alone)</p>",
                );
                h.push_str("<div class=\"code\">");
                for (n, line) in text.lines().enumerate() {
                    let _ = write!(
                        h,
                        "<span class=\"hl\"><span class=\"ln\">{:>6} </span>{}</span>",
                        f.target_lines[0] as usize + n,
                        esc(line)
                    );
                }
                h.push_str("</div>");
            }
            (_, None) => h.push_str("<p class=\"meta\">(target text not kept)</p>"),
        }
        h.push_str("</div>");
    }
    let _ = writeln!(h, "<script>{SCRIPT}</script></body></html>");
    out.write_all(h.as_bytes())?;
    Ok(())
}

/// Rows shown per finding at most: a report of a whole vendored library
/// stays a file a browser opens.
const MAX_ROWS: usize = 400;

/// The origin's lines beside the copy's, aligned by a line diff: equal lines
/// highlighted, changed ones marked, lines on one side only marked too.
fn side_by_side(h: &mut String, origin: &str, origin_first: u32, target: &str, target_first: u32) {
    let diff = similar::TextDiff::from_lines(origin, target);
    let o: Vec<&str> = origin.lines().collect();
    let t: Vec<&str> = target.lines().collect();
    h.push_str("<table class=\"sbs\"><tr><th></th><th>origin</th><th></th><th>copy</th></tr>");
    let mut rows = 0usize;
    let row = |h: &mut String, class: &str, a: Option<usize>, b: Option<usize>| {
        let cell = |h: &mut String, lines: &[&str], first: u32, i: Option<usize>| match i {
            Some(i) => {
                let _ = write!(
                    h,
                    "<td class=\"n\">{}</td><td class=\"t\">{}</td>",
                    first as usize + i,
                    esc(lines.get(i).copied().unwrap_or(""))
                );
            }
            None => h.push_str("<td class=\"n\"></td><td></td>"),
        };
        let _ = write!(h, "<tr class=\"{class}\">");
        cell(h, &o, origin_first, a);
        cell(h, &t, target_first, b);
        h.push_str("</tr>");
    };
    'ops: for op in diff.ops() {
        let (tag, old, new) = op.as_tag_tuple();
        let (class, n) = match tag {
            similar::DiffTag::Equal => ("eq", old.len()),
            similar::DiffTag::Delete => ("del", old.len()),
            similar::DiffTag::Insert => ("ins", new.len()),
            similar::DiffTag::Replace => ("chg", old.len().max(new.len())),
        };
        for k in 0..n {
            if rows == MAX_ROWS {
                break 'ops;
            }
            rows += 1;
            let a = (k < old.len()).then(|| old.start + k);
            let b = (k < new.len()).then(|| new.start + k);
            row(h, class, a, b);
        }
    }
    h.push_str("</table>");
    if rows == MAX_ROWS {
        let _ = write!(h, "<p class=\"meta\">(first {MAX_ROWS} lines shown)</p>");
    }
}

fn status(report: &Report, verdict: &Verdict, which: &[usize]) -> String {
    let mut parts = Vec::new();
    let open: Vec<usize> = which
        .iter()
        .copied()
        .filter(|&i| !report.is_accepted(i))
        .collect();
    if open.iter().any(|&i| verdict.violation(i).is_some()) {
        parts.push("<span class=\"fails\">fails</span>".to_string());
    }
    if open.iter().any(|&i| {
        report
            .review_of(i)
            .is_some_and(|r| r.baseline_state == Some(BaselineState::New))
    }) {
        parts.push("<span class=\"new\">new</span>".into());
    }
    if open.is_empty() {
        let reason = which
            .iter()
            .find_map(|&i| report.review_of(i).and_then(|r| r.accepted.as_ref()))
            .map(|a| a.reason.as_str())
            .unwrap_or("");
        parts.push(format!(
            "<span class=\"accepted\" title=\"{}\">accepted</span>",
            esc(reason)
        ));
    }
    if parts.is_empty() {
        "-".into()
    } else {
        parts.join(" ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn html_is_well_formed_and_self_contained() {
        let mut report = crate::policy::tests::sample_report();
        report.findings[0].origin.copyright = vec!["(c) <Evil & Co> \"quoted\"".into()];
        report.review = report
            .findings
            .iter()
            .map(|f| crate::report::FindingReview {
                id: "0123456789abcdef".into(),
                target_file_lines: Some(f.target_lines[1] + 10),
                target_text: Some("int a < b && c;\n\tx = 'y';\u{1}\n".into()),
                ..Default::default()
            })
            .collect();
        let mut out = Vec::new();
        let ctx = Context::new("demo <tree>", None);
        write_html(&report, &Verdict::default(), &ctx, &mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        let body = text.trim_start_matches("<!DOCTYPE html>\n");
        let doc = roxmltree::Document::parse(body).unwrap_or_else(|e| panic!("{e}"));
        let root = doc.root_element();
        assert_eq!(root.tag_name().name(), "html");
        // No network: nothing loads from elsewhere.
        for node in doc.descendants().filter(|n| n.is_element()) {
            for attr in ["src", "href"] {
                if let Some(v) = node.attribute(attr) {
                    assert!(v.starts_with('#'), "{attr}={v}");
                }
            }
        }
        assert_eq!(
            doc.descendants()
                .filter(|n| n.has_tag_name(("http://www.w3.org/2000/svg", "svg")))
                .count(),
            2
        );
        let rows = doc
            .descendants()
            .filter(|n| n.has_tag_name(("http://www.w3.org/1999/xhtml", "tr")))
            .count();
        let files: std::collections::BTreeSet<&str> =
            report.findings.iter().map(|f| f.path.as_str()).collect();
        assert_eq!(rows, files.len() + 1);
        assert!(text.contains("(c) &lt;Evil &amp; Co&gt;"));
    }
}
