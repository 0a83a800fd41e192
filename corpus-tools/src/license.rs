//! Per-file license attribution with the evidence behind it.
//!
//! Precedence, strongest first (one rule for every file):
//! 1. an `SPDX-License-Identifier:` line in the file;
//! 2. a license notice in the file's leading comment;
//! 3. a DEP-5 `debian/copyright` stanza that names the file itself (no
//!    wildcard): the packager's statement about this one file, as lz4's
//!    `examples/simple_buffer.c` is BSD-2-Clause in a directory whose
//!    `COPYING` is the GPL;
//! 4. the nearest LICENSE/COPYING/NOTICE file in the file's directory or
//!    an ancestor;
//! 5. the DEP-5 stanza matching the path by a wildcard or a directory;
//! 6. the `license` field of the nearest package manifest;
//! 7. the license the caller declared for the project.
//!
//! Only the tree's top `debian/copyright` speaks for it, and one at the
//! top of a nested archive for that archive: lz4 ships its own packaging
//! template as `contrib/debian/`, whose `copyright` is not Debian's
//! statement about `contrib/`.
//!
//! The first that names a license wins; the others that name a different
//! one are kept beside it as competing evidence. Everything is normalized
//! to an SPDX expression; what cannot be identified without guessing is
//! unknown (`None`): for a compliance report a wrong license is worse than
//! a missing one.
//!
//! Modules: `expr` (names → SPDX), `text` (full license and exception
//! texts), `notice` (tags and header notices), `dep5` (debian/copyright),
//! `resolver` (the precedence over a tree).

mod dep5;
mod expr;
mod notice;
mod resolver;
mod text;

pub use dep5::{dep5_match, parse_dep5, resolve_name as resolve_dep5_name, Dep5Stanza};
pub use expr::{exception_from_words, license_ids, normalize, with_exception};
pub use notice::{header, header_license, header_lines, leading_comment, spdx_tag};
pub use resolver::{is_license_file, license_file_expression, LicenseFileKind, LicenseResolver};
pub use text::{detect_exceptions, detect_licenses, detect_text, Detection, Found};

/// What an attribution rests on, strongest first (the order of the
/// precedence above; `Ord` follows it).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Evidence {
    /// An `SPDX-License-Identifier:` line in the file itself.
    SpdxTag,
    /// A license notice in the file's leading comment.
    HeaderText,
    /// A `Files:` stanza of a machine-readable `debian/copyright` that
    /// names the file itself.
    Dep5File,
    /// The nearest LICENSE/COPYING/NOTICE file in the file's directory or
    /// an ancestor.
    LicenseFile,
    /// A `Files:` stanza of a machine-readable `debian/copyright`.
    Dep5,
    /// The `license` field of the nearest package manifest.
    PackageMetadata,
    /// The license the caller declared for the whole project.
    Declared,
}

impl std::fmt::Display for Evidence {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Evidence::SpdxTag => "spdx-tag",
            Evidence::HeaderText => "header-text",
            Evidence::Dep5File => "dep5-file",
            Evidence::Dep5 => "dep5",
            Evidence::LicenseFile => "license-file",
            Evidence::PackageMetadata => "package-metadata",
            Evidence::Declared => "declared",
        })
    }
}

/// Other evidence for the same file that names a different license.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Competing {
    /// Its SPDX expression.
    pub expression: String,
    /// Its kind.
    pub evidence: Evidence,
    /// Where it was found.
    pub source_path: Option<String>,
}

/// The license of one file and why we think so.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Attribution {
    /// A valid SPDX license expression, e.g. `MIT OR Apache-2.0`.
    pub expression: String,
    /// The kind of evidence.
    pub evidence: Evidence,
    /// The file the evidence was found in (the file itself for tags and
    /// headers; `None` for a declared license).
    pub source_path: Option<String>,
    /// Weaker evidence that disagrees, strongest first; empty when all
    /// evidence agrees.
    pub competing: Vec<Competing>,
}
