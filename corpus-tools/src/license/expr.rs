//! License names and expressions as written in the wild, normalized to SPDX
//! expressions: SPDX ids in any case, Debian short names (`GPL-2+`,
//! `Expat`), `with … exception` wordings, `/` and `,` between alternatives.
//! What cannot be mapped without guessing stays unknown (`None`).

use std::collections::HashMap;
use std::sync::OnceLock;

fn lower_license_map() -> &'static HashMap<String, &'static str> {
    static MAP: OnceLock<HashMap<String, &'static str>> = OnceLock::new();
    MAP.get_or_init(|| {
        spdx::identifiers::LICENSES
            .iter()
            .map(|l| (l.name.to_ascii_lowercase(), l.name))
            .collect()
    })
}

fn lower_exception_map() -> &'static HashMap<String, &'static str> {
    static MAP: OnceLock<HashMap<String, &'static str>> = OnceLock::new();
    MAP.get_or_init(|| {
        spdx::identifiers::EXCEPTIONS
            .iter()
            .map(|e| (e.name.to_ascii_lowercase(), e.name))
            .collect()
    })
}

/// Whole-string names in common use that denote exactly one SPDX license.
/// Deliberately absent: bare "BSD", "GPL", "Apache", "Artistic" — they do not
/// say which version or variant.
const WHOLE_NAMES: &[(&str, &str)] = &[
    ("mit license", "MIT"),
    ("the mit license", "MIT"),
    ("mit licence", "MIT"),
    ("expat license", "MIT"),
    ("isc license", "ISC"),
    ("apache license 2.0", "Apache-2.0"),
    ("apache license, version 2.0", "Apache-2.0"),
    ("apache license version 2.0", "Apache-2.0"),
    ("apache software license 2.0", "Apache-2.0"),
    ("apache 2.0", "Apache-2.0"),
    ("new bsd license", "BSD-3-Clause"),
    ("modified bsd license", "BSD-3-Clause"),
    ("bsd 3-clause", "BSD-3-Clause"),
    ("bsd 3-clause license", "BSD-3-Clause"),
    ("3-clause bsd license", "BSD-3-Clause"),
    ("simplified bsd license", "BSD-2-Clause"),
    ("bsd 2-clause", "BSD-2-Clause"),
    ("bsd 2-clause license", "BSD-2-Clause"),
    ("2-clause bsd license", "BSD-2-Clause"),
    ("mozilla public license 2.0", "MPL-2.0"),
    ("the unlicense", "Unlicense"),
    ("zlib license", "Zlib"),
    ("python software foundation license", "PSF-2.0"),
    ("boost software license 1.0", "BSL-1.0"),
    ("perl", "Artistic-1.0-Perl OR GPL-1.0-or-later"),
];

/// Single-token aliases (Debian short names and common spellings).
fn alias(tok: &str) -> Option<&'static str> {
    Some(match tok {
        "expat" => "MIT",
        "apache-2" | "apache2" | "apache-2.0" | "asl-2.0" | "asl2.0" => "Apache-2.0",
        "mpl-2" => "MPL-2.0",
        "gpl-1" | "gplv1" => "GPL-1.0",
        "gpl-2" | "gplv2" | "gpl2" => "GPL-2.0",
        "gpl-3" | "gplv3" | "gpl3" => "GPL-3.0",
        "lgpl-2" | "lgplv2" => "LGPL-2.0",
        "lgplv2.1" | "lgpl2.1" => "LGPL-2.1",
        "lgpl-3" | "lgplv3" | "lgpl3" => "LGPL-3.0",
        "agpl-3" | "agplv3" => "AGPL-3.0",
        "gfdl-1.2" => "GFDL-1.2",
        "gfdl-1.3" => "GFDL-1.3",
        "cc0" => "CC0-1.0",
        "bsl" | "boost" => "BSL-1.0",
        "unlicense" => "Unlicense",
        "psf-2" => "PSF-2.0",
        _ => return None,
    })
}

/// Maps one license token (maybe with a trailing `+`) to an SPDX id.
fn map_license_token(tok: &str) -> Option<String> {
    let (base, plus) = match tok.strip_suffix('+') {
        Some(b) => (b, true),
        None => (tok, false),
    };
    let lower = base.to_ascii_lowercase();
    if let Some(r) = lower.strip_prefix("licenseref-") {
        let _ = r;
        return None;
    }
    let name = alias(&lower).or_else(|| lower_license_map().get(&lower).copied())?;
    let id = spdx::license_id(name)?;
    if id.is_gnu() {
        let bare = name.trim_end_matches("-only").trim_end_matches("-or-later");
        let or_later = plus || name.ends_with("-or-later") || name.ends_with('+');
        return spdx::gnu_license_id(bare, or_later).map(|i| i.name.to_string());
    }
    if plus {
        Some(format!("{}+", id.name))
    } else {
        Some(id.name.to_string())
    }
}

/// Normalizes a license name or expression to a valid SPDX expression.
///
/// Accepts SPDX ids in any case, Debian short names (`GPL-2+`, `Expat`,
/// `BSD-3-clause`), lower-case operators, `/` and `,` as written in the
/// wild, and a few unambiguous long names (`MIT License`). Returns `None`
/// for anything not mappable without guessing (`BSD`, `GPL` without a
/// version, `public-domain`, free text).
pub fn normalize(text: &str) -> Option<String> {
    let t = text.trim().trim_end_matches(['.', ';']).trim();
    if t.is_empty() || t.len() > 400 {
        return None;
    }
    let lower = t.to_ascii_lowercase();
    if let Some((_, v)) = WHOLE_NAMES.iter().find(|(k, _)| *k == lower) {
        return Some(v.to_string());
    }
    // Tokenize: parentheses and '/' are separate tokens; commas vanish.
    let spaced = t
        .replace('(', " ( ")
        .replace(')', " ) ")
        .replace(',', " ")
        .replace('/', " OR ");
    let mut out: Vec<String> = Vec::new();
    let mut expect_exception = false;
    for tok in spaced.split_whitespace() {
        let up = tok.to_ascii_uppercase();
        match up.as_str() {
            "(" | ")" => out.push(tok.to_string()),
            "AND" | "OR" | "&" => out.push(if up == "&" { "AND".into() } else { up }),
            "WITH" => {
                out.push("WITH".into());
                expect_exception = true;
            }
            _ if expect_exception => {
                out.push(
                    lower_exception_map()
                        .get(&tok.to_ascii_lowercase())
                        .copied()?
                        .to_string(),
                );
                expect_exception = false;
            }
            _ => out.push(map_license_token(tok)?),
        }
    }
    let joined = out.join(" ").replace("( ", "(").replace(" )", ")");
    spdx::Expression::parse(&joined).ok()?;
    Some(joined)
}

/// An exception named in words (`with autoconf exception`, `with GCC
/// runtime library exception`) as an SPDX exception id, given the license
/// it amends (the GNU version picks among numbered exceptions). `None`
/// when the words do not single out one exception: "linking exception"
/// and "OpenSSL exception" are worded differently by every project, so
/// only their text can tell (see `text::detect_exceptions`).
pub fn exception_from_words(words: &str, license: &str) -> Option<&'static str> {
    let w = words.to_ascii_lowercase();
    let w = w.trim().trim_end_matches("exception").trim();
    if let Some(id) = lower_exception_map().get(w) {
        return Some(id);
    }
    if let Some(id) = lower_exception_map().get(&format!("{w}-exception")) {
        return Some(id);
    }
    let gpl3 = license.contains("-3.0");
    Some(match () {
        _ if w.contains("autoconf") => {
            if gpl3 {
                "Autoconf-exception-3.0"
            } else {
                "Autoconf-exception-2.0"
            }
        }
        _ if w.contains("classpath") => "Classpath-exception-2.0",
        _ if w.contains("gcc") || w.contains("runtime library") => {
            if gpl3 {
                "GCC-exception-3.1"
            } else {
                "GCC-exception-2.0"
            }
        }
        _ if w.contains("bison") => "Bison-exception-2.2",
        _ if w.contains("font") => "Font-exception-2.0",
        _ if w.contains("llvm") => "LLVM-exception",
        _ if w.contains("libtool") => "Libtool-exception",
        _ if w.contains("qt") && license.starts_with("LGPL") => "Qt-LGPL-exception-1.1",
        _ => return None,
    })
}

/// `license WITH exception`, parenthesized as SPDX requires when the
/// license side is compound; `None` if the result does not parse.
pub fn with_exception(license: &str, exception: &str) -> Option<String> {
    let e = if license.contains(' ') {
        format!("({license}) WITH {exception}")
    } else {
        format!("{license} WITH {exception}")
    };
    spdx::Expression::parse(&e).ok()?;
    Some(e)
}

/// Joins SPDX expressions with `op` (`AND`/`OR`), parenthesizing compound
/// operands, dropping duplicates.
pub fn join(parts: &[String], op: &str) -> Option<String> {
    let mut seen: Vec<&String> = Vec::new();
    for p in parts {
        if !seen.contains(&p) {
            seen.push(p);
        }
    }
    let out = match seen.as_slice() {
        [] => return None,
        [one] => (*one).clone(),
        many => many
            .iter()
            .map(|p| {
                if p.contains(' ') && !(p.starts_with('(') && p.ends_with(')')) {
                    format!("({p})")
                } else {
                    (*p).clone()
                }
            })
            .collect::<Vec<_>>()
            .join(&format!(" {op} ")),
    };
    spdx::Expression::parse(&out).ok()?;
    Some(out)
}

/// The set of license ids in an expression, `-or-later` and `+` folded to
/// the version, for comparing evidence (`GPL-2.0-only` and
/// `GPL-2.0-or-later` name the same text).
pub fn license_ids(expression: &str) -> Vec<String> {
    let Ok(e) = spdx::Expression::parse(expression) else {
        return Vec::new();
    };
    let mut ids: Vec<String> = e
        .requirements()
        .filter_map(|r| match &r.req.license {
            spdx::LicenseItem::Spdx { id, .. } => Some(
                id.name
                    .trim_end_matches("-only")
                    .trim_end_matches("-or-later")
                    .to_string(),
            ),
            _ => None,
        })
        .collect();
    ids.sort();
    ids.dedup();
    ids
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalizes_common_names() {
        for (input, want) in [
            ("MIT", Some("MIT")),
            ("mit", Some("MIT")),
            ("Expat", Some("MIT")),
            ("GPL-2+", Some("GPL-2.0-or-later")),
            ("GPL-2.0+", Some("GPL-2.0-or-later")),
            ("GPL-2", Some("GPL-2.0-only")),
            ("GPL-2.0", Some("GPL-2.0-only")),
            ("LGPL-2.1+", Some("LGPL-2.1-or-later")),
            ("BSD-3-clause", Some("BSD-3-Clause")),
            ("MIT/Apache-2.0", Some("MIT OR Apache-2.0")),
            ("MIT OR Apache-2.0", Some("MIT OR Apache-2.0")),
            (
                "GPL-2+ or BSD-2-clause",
                Some("GPL-2.0-or-later OR BSD-2-Clause"),
            ),
            ("(MIT and Zlib)", Some("(MIT AND Zlib)")),
            (
                "Apache-2.0 WITH LLVM-exception",
                Some("Apache-2.0 WITH LLVM-exception"),
            ),
            ("MIT License", Some("MIT")),
            ("MPL-1.1+", Some("MPL-1.1+")),
            ("BSD", None),
            ("GPL", None),
            ("public-domain", None),
            ("GPL-2+ with OpenSSL exception", None),
            ("see LICENSE file", None),
            ("", None),
        ] {
            assert_eq!(normalize(input).as_deref(), want, "{input}");
        }
    }

    #[test]
    fn exceptions_from_words_and_joins() {
        assert_eq!(
            exception_from_words("autoconf exception", "GPL-3.0-or-later"),
            Some("Autoconf-exception-3.0")
        );
        assert_eq!(
            exception_from_words("Autoconf exception", "GPL-2.0-or-later"),
            Some("Autoconf-exception-2.0")
        );
        assert_eq!(
            exception_from_words("Classpath exception", "GPL-2.0-only"),
            Some("Classpath-exception-2.0")
        );
        assert_eq!(
            exception_from_words("LLVM-exception", "Apache-2.0"),
            Some("LLVM-exception")
        );
        assert_eq!(
            exception_from_words("linking exception", "GPL-2.0-only"),
            None
        );
        assert_eq!(
            exception_from_words("OpenSSL exception", "GPL-2.0-or-later"),
            None
        );
        assert_eq!(
            join(
                &[
                    "MIT".into(),
                    "GPL-2.0-only WITH GCC-exception-2.0".into(),
                    "MIT".into()
                ],
                "OR"
            )
            .as_deref(),
            Some("MIT OR (GPL-2.0-only WITH GCC-exception-2.0)")
        );
        assert_eq!(license_ids("GPL-2.0-or-later OR MIT"), ["GPL-2.0", "MIT"]);
    }
}
