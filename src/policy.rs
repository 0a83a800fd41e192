//! The policy gate: license classes, `--fail-on`, `--declared`,
//! `--fail-on-stripped-notice`, and the verdict the scan command turns into
//! its exit code. The rules are documented in `docs/policy.md`; keep the two
//! in step.

use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;

use anyhow::{bail, Context};
use spdx::expression::{ExprNode, Operator};
use spdx::{Expression, LicenseItem, LicenseReq, ParseMode};

use crate::declared::Declared;
use crate::report::{Finding, Report};

/// How much a license asks of whoever copies code under it, from least to
/// most. `Unknown` stands apart: see [`LicenseClass::and`] and
/// [`LicenseClass::or`] for how it combines.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum LicenseClass {
    PublicDomain,
    Permissive,
    WeakCopyleft,
    StrongCopyleft,
    NetworkCopyleft,
    Unknown,
}

impl LicenseClass {
    pub const ALL: [LicenseClass; 6] = [
        LicenseClass::PublicDomain,
        LicenseClass::Permissive,
        LicenseClass::WeakCopyleft,
        LicenseClass::StrongCopyleft,
        LicenseClass::NetworkCopyleft,
        LicenseClass::Unknown,
    ];

    /// The name used on the command line, in reports and in SARIF properties.
    pub fn name(self) -> &'static str {
        match self {
            LicenseClass::PublicDomain => "public-domain",
            LicenseClass::Permissive => "permissive",
            LicenseClass::WeakCopyleft => "weak-copyleft",
            LicenseClass::StrongCopyleft => "strong-copyleft",
            LicenseClass::NetworkCopyleft => "network-copyleft",
            LicenseClass::Unknown => "unknown",
        }
    }

    pub fn from_name(name: &str) -> Option<LicenseClass> {
        LicenseClass::ALL
            .into_iter()
            .find(|c| c.name().eq_ignore_ascii_case(name.trim()))
    }

    /// True for the three copyleft classes.
    pub fn is_copyleft(self) -> bool {
        matches!(
            self,
            LicenseClass::WeakCopyleft
                | LicenseClass::StrongCopyleft
                | LicenseClass::NetworkCopyleft
        )
    }

    /// `A AND B`: both sets of terms apply, so the stricter wins. An unknown
    /// license outranks permissive terms (it may add obligations) but a known
    /// copyleft obligation is the more useful fact and outranks it.
    pub fn and(self, other: LicenseClass) -> LicenseClass {
        fn rank(c: LicenseClass) -> u8 {
            match c {
                LicenseClass::PublicDomain => 0,
                LicenseClass::Permissive => 1,
                LicenseClass::Unknown => 2,
                LicenseClass::WeakCopyleft => 3,
                LicenseClass::StrongCopyleft => 4,
                LicenseClass::NetworkCopyleft => 5,
            }
        }
        if rank(other) > rank(self) {
            other
        } else {
            self
        }
    }

    /// `A OR B`: the copier may pick, so the less strict wins. An unknown
    /// alternative is never assumed to be the better pick.
    pub fn or(self, other: LicenseClass) -> LicenseClass {
        // The derived order puts Unknown last, which is exactly this rule.
        self.min(other)
    }
}

impl fmt::Display for LicenseClass {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Parses a license expression as found in reports: strict SPDX first, then
/// the lax forms seen in the wild (`GPL-2.0+`, `MIT/Apache-2.0`, deprecated
/// ids), canonicalized.
pub fn parse_expression(expr: &str) -> Option<Expression> {
    let expr = expr.trim();
    if expr.is_empty() {
        return None;
    }
    if let Ok(e) = Expression::parse(expr) {
        return Some(e);
    }
    if let Ok(Some(canon)) = Expression::canonicalize(expr) {
        if let Ok(e) = Expression::parse(&canon) {
            return Some(e);
        }
    }
    let lax = ParseMode {
        allow_deprecated: true,
        ..ParseMode::LAX
    };
    Expression::parse_mode(expr, lax).ok()
}

/// The class of a license expression (`None`: no license known).
pub fn classify(expr: Option<&str>) -> LicenseClass {
    let Some(parsed) = expr.and_then(parse_expression) else {
        return match expr.map(str::trim) {
            Some(e) if is_public_domain_text(e) => LicenseClass::PublicDomain,
            _ => LicenseClass::Unknown,
        };
    };
    classify_parsed(&parsed)
}

/// The class of a parsed expression: each requirement is classified, then
/// the postfix node list is folded with [`LicenseClass::and`] / [`LicenseClass::or`].
pub fn classify_parsed(expr: &Expression) -> LicenseClass {
    let mut stack: Vec<LicenseClass> = Vec::new();
    for node in expr.iter() {
        match node {
            ExprNode::Req(r) => stack.push(classify_req(&r.req)),
            ExprNode::Op(op) => {
                let (Some(b), Some(a)) = (stack.pop(), stack.pop()) else {
                    return LicenseClass::Unknown;
                };
                stack.push(match op {
                    Operator::And => a.and(b),
                    Operator::Or => a.or(b),
                });
            }
        }
    }
    match stack.as_slice() {
        [one] => *one,
        _ => LicenseClass::Unknown,
    }
}

fn is_public_domain_text(s: &str) -> bool {
    let l = s.to_ascii_lowercase().replace(['_', ' '], "-");
    l.contains("public-domain") || l == "pd"
}

/// Exceptions that only permit combining the covered code with one named
/// non-free component; they leave the copyleft of the code itself intact.
const NON_WEAKENING_EXCEPTIONS: &[&str] = &[
    "openvpn-openssl-exception",
    "i2p-gpl-java-exception",
    "x11vnc-openssl-exception",
    "GPL-CC-1.0",
    "gnu-javamail-exception",
];

fn classify_req(req: &LicenseReq) -> LicenseClass {
    let base = match &req.license {
        LicenseItem::Spdx { id, .. } => classify_id(id.name),
        LicenseItem::Other(r) if r.doc_ref.is_none() && is_public_domain_text(&r.lic_ref) => {
            LicenseClass::PublicDomain
        }
        LicenseItem::Other(_) => LicenseClass::Unknown,
    };
    let Some(addition) = &req.addition else {
        return base;
    };
    let name = addition.to_string();
    let keeps = NON_WEAKENING_EXCEPTIONS
        .iter()
        .any(|n| name.eq_ignore_ascii_case(n));
    match base {
        LicenseClass::StrongCopyleft | LicenseClass::NetworkCopyleft if !keeps => {
            LicenseClass::WeakCopyleft
        }
        other => other,
    }
}

/// Classification of one SPDX license id (from the SPDX license list, any
/// version of it). Ids not listed here are `Unknown`.
pub fn classify_id(id: &str) -> LicenseClass {
    use LicenseClass::*;
    let has = |prefixes: &[&str]| prefixes.iter().any(|p| id.starts_with(p));
    // Creative Commons licenses that restrict use (non-commercial) or forbid
    // changes are not open source; they do not fit the scale.
    if id.starts_with("CC-") && (id.contains("-NC") || id.contains("-ND")) {
        return Unknown;
    }
    // Deprecated GPL ids that have a linking exception built in.
    if id.starts_with("GPL-") && id.contains("-with-") {
        return WeakCopyleft;
    }
    if has(&[
        "AGPL-", "SSPL-", "OSL-", "RPL-", "CPAL-", "EUPL-", "Parity-",
    ]) {
        return NetworkCopyleft;
    }
    if has(&[
        "GPL-",
        "CC-BY-SA-",
        "GFDL-",
        "copyleft-next-",
        "Sleepycat",
        "QPL-",
        "ODbL-",
        "CECILL-1",
        "CECILL-2",
        "YPL-",
        "BSD-Protection",
        "xinetd",
        "Watcom-",
        "RPSL-",
        "SimPL-",
    ]) {
        return StrongCopyleft;
    }
    if has(&[
        "LGPL",
        "MPL-",
        "EPL-",
        "CDDL-",
        "CPL-",
        "IPL-",
        "MS-RL",
        "MS-PL",
        "APSL-",
        "NPL-",
        "SPL-",
        "Nokia",
        "ErlPL-",
        "CECILL-C",
        "eCos-",
        "OSET-PL-",
        "LPL-",
        "SISSL",
        "Motosoto",
        "NASA-",
        "Interbase-",
        "Ruby",
        "gSOAP-",
        "MulanPSL-1",
        "Vim",
    ]) {
        return WeakCopyleft;
    }
    const PUBLIC_DOMAIN: &[&str] = &[
        "CC0-1.0",
        "Unlicense",
        "blessing",
        "PDDL-1.0",
        "SAX-PD",
        "SAX-PD-2.0",
        "CC-PDDC",
        "CC-PDM-1.0",
        "libselinux-1.0",
        "Unlicense-libtelnet",
        "Unlicense-libwhirlpool",
        "NIST-PD",
        "NIST-PD-fallback",
    ];
    if PUBLIC_DOMAIN.contains(&id) {
        return PublicDomain;
    }
    if has(&[
        "MIT",
        "BSD-",
        "0BSD",
        "Apache-",
        "ISC",
        "Zlib",
        "zlib-acknowledgement",
        "bzip2-",
        "BSL-1.0",
        "PSF-2.0",
        "Python-2.0",
        "CNRI-Python",
        "X11",
        "XFree86-",
        "curl",
        "OpenSSL",
        "SSLeay",
        "Libpng",
        "libpng-",
        "PHP-",
        "Artistic-",
        "NCSA",
        "Unicode-",
        "UPL-",
        "W3C",
        "BlueOak-",
        "AFL-",
        "ECL-",
        "PostgreSQL",
        "TCL",
        "OLDAP-",
        "Zend-",
        "FTL",
        "IJG",
        "HPND",
        "MulanPSL-2",
        "NTP",
        "Beerware",
        "WTFPL",
        "CC-BY-",
        "Info-ZIP",
        "ICU",
        "JSON",
        "Naumen",
        "Fair",
        "Xnet",
        "EFL-",
        "AAL",
        "Entessa",
        "UCL-",
        "Boost",
        "OFL-",
        "libtiff",
        "Spencer-",
        "FSFAP",
        "FSFUL",
        "FSFULLR",
        "X11-distribute-modifications-variant",
        "Intel",
        "Xerox",
        "ImageMagick",
        "Sendmail",
        "TU-Berlin-",
        "dtoa",
        "SMLNJ",
        "snprintf",
        "Cube",
        "Ubuntu-font-",
    ]) {
        return Permissive;
    }
    Unknown
}

/// The version numbers in a license name, trailing zeros dropped
/// (`GPL-2.0-only` and `gpl2` both give `[2]`).
fn version_of(name: &str) -> Vec<u64> {
    let mut v: Vec<u64> = name
        .split(|c: char| !c.is_ascii_digit())
        .filter(|s| !s.is_empty())
        .map(|s| s.parse().unwrap_or(u64::MAX))
        .collect();
    while v.last() == Some(&0) {
        v.pop();
    }
    v
}

/// One `--fail-on` item.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FailOn {
    /// Every finding.
    Any,
    /// Findings of this class or a stricter one (copyleft classes only).
    Class(LicenseClass),
    /// Findings whose license could not be classified.
    Unknown,
    /// Findings whose expression names this license id (exact SPDX id,
    /// case-insensitive, `+`/`-or-later` variants of GNU ids included).
    License(String),
}

impl FailOn {
    pub fn parse(item: &str) -> anyhow::Result<FailOn> {
        let item = item.trim();
        if item.is_empty() {
            bail!("empty --fail-on item");
        }
        if item.eq_ignore_ascii_case("any") {
            return Ok(FailOn::Any);
        }
        match LicenseClass::from_name(item) {
            Some(LicenseClass::Unknown) => return Ok(FailOn::Unknown),
            Some(c) if c.is_copyleft() => return Ok(FailOn::Class(c)),
            Some(c) => bail!(
                "--fail-on {c}: class thresholds are weak-copyleft, strong-copyleft and \
                 network-copyleft (use `any` to fail on every finding)"
            ),
            None => {}
        }
        if item.starts_with("LicenseRef-") || item.starts_with("DocumentRef-") {
            return Ok(FailOn::License(item.to_string()));
        }
        if let Some(id) = spdx::license_id(item) {
            return Ok(FailOn::License(id.name.to_string()));
        }
        // The imprecise lookup forgives spellings (`gpl2`, `Apache 2`) but
        // also guesses: `GPL-9.9-only` would become GPL-2.0-only. A guess
        // is only taken when it keeps the version the user wrote.
        if let Some((id, _)) = spdx::imprecise_license_id(item) {
            if version_of(item) == version_of(id.name) {
                return Ok(FailOn::License(id.name.to_string()));
            }
            bail!(
                "--fail-on {item:?}: not an SPDX license id (did you mean {}?)",
                id.name
            );
        }
        bail!(
            "--fail-on {item:?}: not a license class (any, weak-copyleft, strong-copyleft, \
             network-copyleft, unknown) nor an SPDX license id"
        )
    }

    /// Why the finding matches this rule, if it does.
    fn matches(&self, license: Option<&str>, class: LicenseClass) -> Option<String> {
        let lic = license.unwrap_or("no license");
        match self {
            FailOn::Any => Some(format!("copied code ({lic}) and --fail-on any")),
            FailOn::Unknown => (class == LicenseClass::Unknown)
                .then(|| format!("license {lic} is not recognised (--fail-on unknown)")),
            FailOn::Class(threshold) => (class.is_copyleft() && class >= *threshold)
                .then(|| format!("license {lic} is {class} (--fail-on {threshold})")),
            FailOn::License(id) => license
                .filter(|l| expression_names(l, id))
                .map(|l| format!("license {l} names {id} (--fail-on {id})")),
        }
    }
}

/// Whether the expression mentions license `id` (GNU `-only`/`-or-later`/`+`
/// spellings compare equal to the bare id and to each other).
fn expression_names(expr: &str, id: &str) -> bool {
    fn stem(s: &str) -> String {
        let s = s.trim_end_matches('+');
        let s = s
            .strip_suffix("-or-later")
            .or_else(|| s.strip_suffix("-only"))
            .unwrap_or(s);
        s.to_ascii_lowercase()
    }
    let want = stem(id);
    match parse_expression(expr) {
        Some(e) => e.requirements().any(|r| {
            let name = match &r.req.license {
                LicenseItem::Spdx { id, .. } => id.name.to_string(),
                LicenseItem::Other(r) => r.to_string(),
            };
            stem(&name) == want
        }),
        None => expr
            .split(|c: char| c.is_whitespace() || c == '(' || c == ')')
            .any(|t| stem(t) == want),
    }
}

/// The policy options of `provscan scan`; flatten into its argument struct.
#[derive(clap::Args, Clone, Debug, Default)]
pub struct PolicyArgs {
    /// Exit 1 when a finding matches: a license class threshold
    /// (weak-copyleft, strong-copyleft, network-copyleft: that class or a
    /// stricter one), `unknown`, `any`, or an SPDX license id. Comma-separated
    /// or repeated.
    #[arg(long, value_delimiter = ',', value_name = "CLASS|any|unknown|SPDX-ID")]
    pub fail_on: Vec<String>,
    /// An SBOM (SPDX JSON or tag-value, CycloneDX JSON) or a text file of
    /// `project@version` / `project` lines: findings from what it declares
    /// pass, others fail (only those matching --fail-on, when given).
    #[arg(long, value_name = "FILE")]
    pub declared: Option<PathBuf>,
    /// Exit 1 when copied code dropped the origin's copyright or license notice.
    #[arg(long)]
    pub fail_on_stripped_notice: bool,
}

/// A policy ready to evaluate.
#[derive(Clone, Debug, Default)]
pub struct Policy {
    pub fail_on: Vec<FailOn>,
    pub declared: Option<Declared>,
    pub fail_on_stripped_notice: bool,
}

impl Policy {
    /// Validates the flags and reads the `--declared` file. Errors are usage
    /// or I/O errors (exit code 2).
    pub fn from_args(args: &PolicyArgs) -> anyhow::Result<Policy> {
        let fail_on = args
            .fail_on
            .iter()
            .map(|s| FailOn::parse(s))
            .collect::<anyhow::Result<Vec<_>>>()?;
        let declared = match &args.declared {
            Some(path) => Some(
                Declared::load(path).with_context(|| format!("--declared {}", path.display()))?,
            ),
            None => None,
        };
        Ok(Policy {
            fail_on,
            declared,
            fail_on_stripped_notice: args.fail_on_stripped_notice,
        })
    }

    /// Why this finding violates the policy; empty when it does not.
    pub fn reasons(&self, finding: &Finding) -> Vec<String> {
        let mut reasons = Vec::new();
        let license = finding.origin.license.as_deref();
        let class = classify(license);
        let matched: Vec<String> = self
            .fail_on
            .iter()
            .filter_map(|rule| rule.matches(license, class))
            .collect();
        match &self.declared {
            Some(declared) if !declared.covers(&finding.origin) => {
                let what = origin_name(finding);
                if self.fail_on.is_empty() {
                    reasons.push(format!("{what} is not declared"));
                } else {
                    reasons.extend(
                        matched
                            .into_iter()
                            .map(|m| format!("{what} is not declared and {m}")),
                    );
                }
            }
            Some(_) => {}
            None => reasons.extend(matched),
        }
        if self.fail_on_stripped_notice && finding.notice_retained == Some(false) {
            reasons.push(format!(
                "the copyright or license notice of {} was not kept",
                origin_name(finding)
            ));
        }
        reasons
    }
}

fn origin_name(f: &Finding) -> String {
    let o = &f.origin;
    match (&o.project, &o.version) {
        (Some(p), Some(v)) => format!("{p}@{v}"),
        (Some(p), None) => p.clone(),
        _ => format!("origin {}", o.path),
    }
}

/// The outcome of a policy evaluation.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Verdict {
    /// (index into `report.findings`, reasons joined by "; "), in finding order.
    pub violations: Vec<(usize, String)>,
}

impl Verdict {
    pub fn passed(&self) -> bool {
        self.violations.is_empty()
    }

    /// The reason finding `index` fails, if it does.
    pub fn violation(&self, index: usize) -> Option<&str> {
        self.violations
            .binary_search_by_key(&index, |(i, _)| *i)
            .ok()
            .map(|at| self.violations[at].1.as_str())
    }
}

/// Applies the policy to every finding.
pub fn evaluate(report: &Report, policy: &Policy) -> Verdict {
    let violations = report
        .findings
        .iter()
        .enumerate()
        .filter_map(|(i, f)| {
            let reasons = policy.reasons(f);
            (!reasons.is_empty()).then(|| (i, reasons.join("; ")))
        })
        .collect();
    Verdict { violations }
}

/// Counts findings per license class (class names as keys; absent classes
/// are left out).
pub fn license_class_counts(report: &Report) -> BTreeMap<String, usize> {
    let mut counts = BTreeMap::new();
    for f in &report.findings {
        *counts
            .entry(classify(f.origin.license.as_deref()).name().to_string())
            .or_insert(0) += 1;
    }
    counts
}

/// Fills `summary.findings_by_license_class`.
pub fn fill_license_classes(report: &mut Report) {
    for f in &mut report.findings {
        f.license_class = Some(classify(f.origin.license.as_deref()).name().to_string());
    }
    report.summary.findings_by_license_class = license_class_counts(report);
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::report::{FindingKind, Origin, Summary};

    pub(crate) fn origin(
        project: Option<&str>,
        version: Option<&str>,
        license: Option<&str>,
    ) -> Origin {
        Origin {
            project: project.map(String::from),
            version: version.map(String::from),
            versions: version.map(String::from).into_iter().collect(),
            path: "src/deflate.c".into(),
            lines: [100, 140],
            license: license.map(String::from),
            license_evidence: Some("spdx-tag".into()),
            copyright: vec!["Copyright (C) 1995-2024 Jean-loup Gailly and Mark Adler".into()],
            symbol: None,
            bytes: None,
        }
    }

    pub(crate) fn finding(path: &str, lines: [u32; 2], origin: Origin) -> Finding {
        Finding {
            path: path.into(),
            kind: FindingKind::Snippet,
            target_lines: lines,
            target_bytes: [u64::from(lines[0]) * 20, u64::from(lines[1]) * 20 + 19],
            origin,
            matched_tokens: 300,
            similarity: 0.93,
            edits: None,
            symbol: None,
            origin_content: None,
            notice_retained: Some(false),
            alone: false,
            license_class: None,
            alternatives: Vec::new(),
        }
    }

    /// A report with one finding of each interesting shape.
    pub(crate) fn sample_report() -> Report {
        let mut whole = finding(
            "third_party/json/json.hpp",
            [1, 900],
            origin(Some("nlohmann-json"), Some("3.11.3"), Some("MIT")),
        );
        whole.kind = FindingKind::File;
        whole.target_bytes = [0, 31_000];
        whole.similarity = 1.0;
        whole.notice_retained = Some(true);
        whole.origin.path = "single_include/nlohmann/json.hpp".into();
        whole.origin.lines = [1, 900];
        whole.origin.versions = vec!["3.11.2".into(), "3.11.3".into()];
        let mut gpl = finding(
            "src/util/readline.c",
            [40, 88],
            origin(Some("readline"), Some("8.2"), Some("GPL-3.0-or-later")),
        );
        gpl.origin.path = "complete.c".into();
        gpl.alternatives = vec![origin(Some("bash"), Some("5.2"), Some("GPL-3.0-or-later"))];
        let odd = finding(
            "src/odd.c",
            [5, 30],
            origin(
                Some("strange"),
                None,
                Some("Some custom license, see README"),
            ),
        );
        let anon = finding("src/anon.py", [3, 20], origin(None, None, None));
        let findings = vec![
            finding(
                "src/compress.c",
                [10, 52],
                origin(Some("zlib"), Some("1.3.1"), Some("Zlib")),
            ),
            gpl,
            whole,
            odd,
            anon,
        ];
        let summary = Summary {
            files: 12,
            bytes: 123_456,
            ..Default::default()
        };
        Report::new(findings, Vec::new(), summary)
    }

    #[test]
    fn classes_of_real_expressions() {
        use LicenseClass::*;
        let cases: &[(&str, LicenseClass)] = &[
            ("MIT", Permissive),
            ("Apache-2.0", Permissive),
            ("BSD-3-Clause", Permissive),
            ("BSD-2-Clause-Patent", Permissive),
            ("ISC", Permissive),
            ("Zlib", Permissive),
            ("bzip2-1.0.6", Permissive),
            ("BSL-1.0", Permissive),
            ("PSF-2.0", Permissive),
            ("Python-2.0", Permissive),
            ("X11", Permissive),
            ("0BSD", Permissive),
            ("curl", Permissive),
            ("OpenSSL", Permissive),
            ("Unicode-DFS-2016", Permissive),
            ("Unlicense", PublicDomain),
            ("CC0-1.0", PublicDomain),
            ("blessing", PublicDomain),
            ("LicenseRef-scancode-public-domain", PublicDomain),
            ("public domain", PublicDomain),
            ("LGPL-2.1-or-later", WeakCopyleft),
            ("LGPL-2.0+", WeakCopyleft),
            ("MPL-2.0", WeakCopyleft),
            ("EPL-2.0", WeakCopyleft),
            ("CDDL-1.0", WeakCopyleft),
            ("CPL-1.0", WeakCopyleft),
            ("GPL-2.0-only", StrongCopyleft),
            ("GPL-2.0", StrongCopyleft),
            ("GPL-2.0+", StrongCopyleft),
            ("GPL-3.0-or-later", StrongCopyleft),
            ("CC-BY-SA-4.0", StrongCopyleft),
            ("AGPL-3.0-only", NetworkCopyleft),
            ("AGPL-3.0-or-later", NetworkCopyleft),
            ("SSPL-1.0", NetworkCopyleft),
            ("OSL-3.0", NetworkCopyleft),
            ("EUPL-1.2", NetworkCopyleft),
            ("CC-BY-NC-SA-4.0", Unknown),
            ("LicenseRef-proprietary", Unknown),
            ("not a license at all", Unknown),
            ("", Unknown),
            // Compound expressions.
            ("MIT OR Apache-2.0", Permissive),
            ("(MIT OR Apache-2.0) AND Unicode-DFS-2016", Permissive),
            ("GPL-2.0-only OR BSD-3-Clause", Permissive),
            ("GPL-2.0-or-later OR MPL-2.0", WeakCopyleft),
            ("LGPL-2.1-only OR GPL-2.0-only", WeakCopyleft),
            ("MIT AND GPL-2.0-only", StrongCopyleft),
            ("GPL-2.0-only AND AGPL-3.0-only", NetworkCopyleft),
            ("MIT AND LicenseRef-foo", Unknown),
            ("GPL-3.0-only AND LicenseRef-foo", StrongCopyleft),
            ("GPL-3.0-only OR LicenseRef-foo", StrongCopyleft),
            ("MIT OR LicenseRef-foo", Permissive),
            ("CC0-1.0 OR MIT", PublicDomain),
            ("Apache-2.0 WITH LLVM-exception", Permissive),
            ("GPL-2.0-only WITH Classpath-exception-2.0", WeakCopyleft),
            ("GPL-3.0-or-later WITH GCC-exception-3.1", WeakCopyleft),
            ("GPL-2.0-or-later WITH Linux-syscall-note", WeakCopyleft),
            ("GPL-2.0-with-classpath-exception", WeakCopyleft),
            (
                "GPL-2.0-or-later WITH openvpn-openssl-exception",
                StrongCopyleft,
            ),
            (
                "(GPL-2.0-only WITH Linux-syscall-note) OR BSD-2-Clause",
                Permissive,
            ),
            ("MIT/Apache-2.0", Permissive),
            (
                "Apache-2.0 AND (MIT OR GPL-2.0-only) AND BSD-3-Clause",
                Permissive,
            ),
        ];
        for (expr, want) in cases {
            assert_eq!(classify(Some(expr)), *want, "{expr}");
        }
        assert_eq!(classify(None), Unknown);
    }

    #[test]
    fn fail_on_parsing() {
        assert_eq!(FailOn::parse("any").unwrap(), FailOn::Any);
        assert_eq!(
            FailOn::parse("Strong-Copyleft").unwrap(),
            FailOn::Class(LicenseClass::StrongCopyleft)
        );
        assert_eq!(FailOn::parse("unknown").unwrap(), FailOn::Unknown);
        assert_eq!(
            FailOn::parse("GPL-3.0-only").unwrap(),
            FailOn::License("GPL-3.0-only".into())
        );
        assert_eq!(
            FailOn::parse("LicenseRef-x").unwrap(),
            FailOn::License("LicenseRef-x".into())
        );
        assert!(FailOn::parse("permissive").is_err());
        // A version that does not exist is refused, not guessed.
        let e = FailOn::parse("GPL-9.9-only").unwrap_err().to_string();
        assert!(e.contains("GPL-9.9-only"), "{e}");
        assert!(FailOn::parse("AGPL-7.0").is_err());
        assert!(FailOn::parse("not-a-license").is_err());
        assert!(FailOn::parse("").is_err());
    }

    fn policy(fail_on: &[&str]) -> Policy {
        Policy {
            fail_on: fail_on.iter().map(|s| FailOn::parse(s).unwrap()).collect(),
            ..Default::default()
        }
    }

    fn failing(report: &Report, p: &Policy) -> Vec<usize> {
        evaluate(report, p)
            .violations
            .into_iter()
            .map(|(i, _)| i)
            .collect()
    }

    #[test]
    fn thresholds_include_stricter_classes() {
        let mut r = sample_report();
        let licenses = [
            "Zlib",
            "LGPL-2.1-only",
            "GPL-2.0-only",
            "AGPL-3.0-only",
            "MPL-2.0 AND MIT",
        ];
        for (f, l) in r.findings.iter_mut().zip(licenses) {
            f.origin.license = Some(l.into());
        }
        assert_eq!(failing(&r, &policy(&["network-copyleft"])), vec![3]);
        assert_eq!(failing(&r, &policy(&["strong-copyleft"])), vec![2, 3]);
        assert_eq!(failing(&r, &policy(&["weak-copyleft"])), vec![1, 2, 3, 4]);
        assert_eq!(failing(&r, &policy(&["any"])), vec![0, 1, 2, 3, 4]);
        assert_eq!(failing(&r, &policy(&["GPL-2.0-or-later"])), vec![2]);
        assert_eq!(failing(&r, &policy(&["MIT", "Zlib"])), vec![0, 4]);
        assert!(evaluate(&r, &policy(&[])).passed());
    }

    #[test]
    fn unknown_and_stripped_notice() {
        let r = sample_report();
        assert_eq!(failing(&r, &policy(&["unknown"])), vec![3, 4]);
        let p = Policy {
            fail_on_stripped_notice: true,
            ..Default::default()
        };
        // Every finding but the whole-file copy (notice kept) dropped its notice.
        assert_eq!(failing(&r, &p), vec![0, 1, 3, 4]);
        let v = evaluate(&r, &p);
        assert!(v.violation(1).unwrap().contains("readline@8.2"));
        assert_eq!(v.violation(2), None);
    }

    #[test]
    fn declared_components_pass() {
        let r = sample_report();
        let declared =
            Declared::parse("zlib@1.3.1\n# comment\nNLOHMANN-JSON@3.11.2\nreadline\n").unwrap();
        let p = Policy {
            declared: Some(declared.clone()),
            ..Default::default()
        };
        // nlohmann-json 3.11.2 is among the finding's versions; readline is
        // declared without a version; `strange` and the anonymous one are not.
        assert_eq!(failing(&r, &p), vec![3, 4]);
        // With --fail-on too, only undeclared findings that match it fail.
        let p = Policy {
            declared: Some(declared),
            fail_on: vec![FailOn::Unknown],
            fail_on_stripped_notice: false,
        };
        let v = evaluate(&r, &p);
        assert_eq!(v.violations.len(), 2);
        assert!(v.violations[0].1.contains("not declared"), "{:?}", v);
    }

    #[test]
    fn summary_counts() {
        let mut r = sample_report();
        fill_license_classes(&mut r);
        let c = &r.summary.findings_by_license_class;
        assert_eq!(c.get("permissive"), Some(&2));
        assert_eq!(c.get("strong-copyleft"), Some(&1));
        assert_eq!(c.get("unknown"), Some(&2));
        assert_eq!(c.values().sum::<usize>(), r.findings.len());
    }
}
