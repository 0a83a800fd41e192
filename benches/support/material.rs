//! Real third-party source used as benchmark material, fetched at run time
//! through `provscan-corpus` (cargo, pip and npm as set up on the machine)
//! and cached under `$HOME/.cache/provscan-testdata`. Nothing of it is
//! committed.

use std::path::Path;

use corpus::source::SourceSpec;
use corpus::LoadOptions;
use engine::lang::{classify, ClassifyOptions, Language};

/// Which side of the accuracy experiment a package is on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    /// Snippets are taken from it, and it forms the corpus matched against.
    Donor,
    /// Snippets are pasted into its files.
    Host,
}

/// One registry package and the part of it used.
pub struct Package {
    pub spec: &'static str,
    pub role: Role,
    /// Only paths starting with one of these (empty: all paths).
    pub include: &'static [&'static str],
}

const fn pkg(spec: &'static str, role: Role, include: &'static [&'static str]) -> Package {
    Package {
        spec,
        role,
        include,
    }
}

/// Donor and host packages, disjoint, four languages. Chosen so that no host
/// is known to embed code of a donor (lz4 and zstd both carry xxHash, so both
/// are hosts; lua-src bundles several Lua releases, of which only one is used
/// so that the corpus holds no near-duplicate files).
pub const PACKAGES: &[Package] = &[
    // C
    pkg("crate:lua-src@547.0.0", Role::Donor, &["lua-5.4"]),
    pkg("crate:bzip2-sys@0.1.13+1.0.8", Role::Donor, &[]),
    pkg("crate:libz-sys@1.1.31", Role::Donor, &["src/zlib/"]),
    pkg("crate:lz4-sys@1.11.1+lz4-1.10.0", Role::Host, &[]),
    pkg(
        "crate:zstd-sys@2.1.3+zstd.1.5.7",
        Role::Host,
        &["zstd/lib/"],
    ),
    // Rust
    pkg("crate:regex-syntax@0.8.12", Role::Donor, &[]),
    pkg("crate:serde_json@1.0.154", Role::Donor, &[]),
    pkg("crate:syn@2.0.119", Role::Donor, &[]),
    pkg("crate:clap_builder@4.6.7", Role::Host, &[]),
    pkg("crate:toml_edit@0.25.20+spec-1.1.0", Role::Host, &[]),
    pkg("crate:indexmap@2.14.2", Role::Host, &[]),
    // Python
    pkg("pypi:requests==2.32.3", Role::Donor, &[]),
    pkg("pypi:chardet==5.2.0", Role::Donor, &[]),
    pkg("pypi:six==1.16.0", Role::Host, &[]),
    pkg("pypi:simplejson==3.19.3", Role::Host, &[]),
    pkg("pypi:PyYAML==6.0.2", Role::Host, &[]),
    // JavaScript
    pkg("npm:lodash@4.17.21", Role::Donor, &[]),
    pkg("npm:acorn@8.12.1", Role::Donor, &[]),
    pkg("npm:express@4.21.2", Role::Host, &[]),
    pkg("npm:commander@12.1.0", Role::Host, &[]),
    pkg("npm:moment@2.30.1", Role::Host, &[]),
];

/// The languages measured, by family.
pub const LANGUAGES: [Language; 4] = [
    Language::C,
    Language::Rust,
    Language::Python,
    Language::JavaScript,
];

/// One source file of the material.
pub struct SourceFile {
    pub package: &'static str,
    pub role: Role,
    pub path: String,
    pub language: Language,
    pub bytes: Vec<u8>,
}

/// Fetches (or reads from the cache) every package and keeps the files
/// whose language family is one of [`LANGUAGES`]'s (a C++-looking header stays C++,
/// as in `provscan compare`).
/// Files the engine would skip (generated, minified, binary) are left out.
pub fn load(packages: &[Package]) -> anyhow::Result<Vec<SourceFile>> {
    let opts = LoadOptions::new(crate::shared::testdata());
    let classify_opts = ClassifyOptions::default();
    let mut out = Vec::new();
    for p in packages {
        let spec = SourceSpec::parse(p.spec)?;
        let versions =
            corpus::load(&spec, &opts).map_err(|e| anyhow::anyhow!("{}: {e}", p.spec))?;
        let mut kept = 0;
        for v in versions {
            for f in v.files {
                if !p.include.is_empty() && !p.include.iter().any(|i| f.path.starts_with(i)) {
                    continue;
                }
                let language = match classify(Path::new(&f.path), &f.bytes, &classify_opts) {
                    Ok(l) if LANGUAGES.iter().any(|m| m.family() == l.family()) => l,
                    _ => continue,
                };
                kept += 1;
                out.push(SourceFile {
                    package: p.spec,
                    role: p.role,
                    path: f.path,
                    language,
                    bytes: f.bytes,
                });
            }
        }
        if kept == 0 {
            anyhow::bail!("{}: no usable source files", p.spec);
        }
    }
    Ok(out)
}
