//! Which tokenizer a file gets, and which files are not worth tokenizing.
//!
//! Detection is deliberately cheap (extension, shebang, a peek at the first
//! bytes): it runs on every file of every scan, before any parsing.

use std::path::Path;

/// A language with its own tree-sitter grammar, or `Text` for the fallback lexer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Language {
    C,
    Cpp,
    Java,
    Python,
    JavaScript,
    TypeScript,
    Tsx,
    Go,
    Rust,
    CSharp,
    Php,
    Ruby,
    /// Any other text: words, numbers and punctuation from the fallback lexer.
    Text,
    /// Documentation, translations, certificates, data tables and IDE
    /// project files: lexed like `Text`, with sparser seeds (see
    /// [`Language::seed_sampling`]).
    Prose,
}

impl Language {
    pub const ALL: [Language; 14] = [
        Language::C,
        Language::Cpp,
        Language::Java,
        Language::Python,
        Language::JavaScript,
        Language::TypeScript,
        Language::Tsx,
        Language::Go,
        Language::Rust,
        Language::CSharp,
        Language::Php,
        Language::Ruby,
        Language::Text,
        Language::Prose,
    ];

    /// Stable lower-case name, used in the index and in reports.
    pub fn name(self) -> &'static str {
        match self {
            Language::C => "c",
            Language::Cpp => "cpp",
            Language::Java => "java",
            Language::Python => "python",
            Language::JavaScript => "javascript",
            Language::TypeScript => "typescript",
            Language::Tsx => "tsx",
            Language::Go => "go",
            Language::Rust => "rust",
            Language::CSharp => "csharp",
            Language::Php => "php",
            Language::Ruby => "ruby",
            Language::Text => "text",
            Language::Prose => "prose",
        }
    }

    /// One fingerprint in this many (by hash) is kept as a seed. Prose keeps
    /// a quarter: in a corpus of Debian sources, manuals, translation
    /// catalogs, test vectors and project files made a fifth of all
    /// fingerprints, yet a vendored README, manual or changelog is evidence
    /// of what was vendored. Seeds only have to find a copy (extension
    /// along the stream finds its ends), and a stretch of prose long enough
    /// to matter holds several. Selecting by hash keeps the same grams on
    /// both sides.
    pub fn seed_sampling(self) -> u64 {
        if self == Language::Prose {
            4
        } else {
            1
        }
    }

    pub fn from_name(name: &str) -> Option<Language> {
        Language::ALL.into_iter().find(|l| l.name() == name)
    }

    /// Languages whose copies are compared with each other. A C file pasted
    /// into a C++ file, or JavaScript into TypeScript, is still the same
    /// code; a Python file matching a Go file is noise.
    pub fn family(self) -> &'static str {
        match self {
            Language::C | Language::Cpp => "c",
            Language::JavaScript | Language::TypeScript | Language::Tsx => "js",
            other => other.name(),
        }
    }
}

/// Why a file or archive entry was not checked, for every crate: the
/// classifier here, the walker and archive reader in `corpus`, the scan.
/// Downstream code (reports, the scan cache, benches) branches on
/// [`SkipReason::kind`], never on the message.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum SkipReason {
    /// A NUL byte or many control bytes near the start.
    Binary,
    /// Very long lines: bundled or minified code whose line numbers mean nothing.
    Minified,
    /// A marker such as `@generated` or `DO NOT EDIT` in the first lines.
    Generated,
    /// Larger than the configured limit.
    TooLarge {
        /// Size in bytes (for a streamed archive entry: as far as it was read).
        size: u64,
        /// The cap in bytes.
        limit: u64,
    },
    /// Nothing left after dropping whitespace.
    Empty,
    /// A license or notice file: it matches every other copy of the same
    /// license, which says which license it is, not where code came from.
    LicenseText,
    /// The file could not be read (permissions, I/O error, vanished).
    Unreadable(String),
    /// A symbolic link that leads back into one of its own ancestors.
    SymlinkLoop,
    /// A symbolic link whose target lies outside the walked root.
    OutsideRoot(String),
    /// A link inside an archive or git tree that stays inside it; its
    /// target is read under its own path, so the link adds nothing.
    Link {
        /// The link target as recorded.
        target: String,
    },
    /// Device nodes, FIFOs, sockets and other non-regular entries.
    Special(String),
    /// A git submodule: its content lives in another repository.
    Submodule,
    /// An encrypted archive entry.
    Encrypted,
    /// An archive entry refused on its own: a path climbing out of the
    /// archive or absolute, a link pointing out, a likely decompression
    /// bomb. The message names the archive, the entry and the problem.
    UnsafeEntry(String),
    /// An archive nested deeper than the configured depth; its bytes are
    /// not expanded (nor checked as a file: they are compressed).
    NestedTooDeep {
        /// The depth limit.
        limit: u32,
    },
    /// An archive that is truncated or corrupt, or whose unpacked volume
    /// went over the budget: the entries read before the damage were
    /// checked, the rest could not be.
    DamagedArchive(String),
    /// A nested archive that could not be unpacked (when archives are read
    /// whole, for the index); its raw bytes are kept as an ordinary file.
    NestedArchive(String),
    /// Anything else, described in words.
    Other(String),
}

/// The stable name of a [`SkipReason`]: what reports carry as `kind` and
/// what tools downstream may test.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum SkipKind {
    Binary,
    Minified,
    Generated,
    TooLarge,
    Empty,
    LicenseText,
    Unreadable,
    SymlinkLoop,
    OutsideRoot,
    Link,
    Special,
    Submodule,
    Encrypted,
    UnsafeEntry,
    NestedTooDeep,
    DamagedArchive,
    NestedArchive,
    Other,
}

impl SkipKind {
    pub const ALL: [SkipKind; 18] = [
        SkipKind::Binary,
        SkipKind::Minified,
        SkipKind::Generated,
        SkipKind::TooLarge,
        SkipKind::Empty,
        SkipKind::LicenseText,
        SkipKind::Unreadable,
        SkipKind::SymlinkLoop,
        SkipKind::OutsideRoot,
        SkipKind::Link,
        SkipKind::Special,
        SkipKind::Submodule,
        SkipKind::Encrypted,
        SkipKind::UnsafeEntry,
        SkipKind::NestedTooDeep,
        SkipKind::DamagedArchive,
        SkipKind::NestedArchive,
        SkipKind::Other,
    ];

    /// Kebab-case name, stable across releases (docs/report-schema.md).
    pub fn name(self) -> &'static str {
        match self {
            SkipKind::Binary => "binary",
            SkipKind::Minified => "minified",
            SkipKind::Generated => "generated",
            SkipKind::TooLarge => "too-large",
            SkipKind::Empty => "empty",
            SkipKind::LicenseText => "license-text",
            SkipKind::Unreadable => "unreadable",
            SkipKind::SymlinkLoop => "symlink-loop",
            SkipKind::OutsideRoot => "outside-root",
            SkipKind::Link => "link",
            SkipKind::Special => "special",
            SkipKind::Submodule => "submodule",
            SkipKind::Encrypted => "encrypted",
            SkipKind::UnsafeEntry => "unsafe-entry",
            SkipKind::NestedTooDeep => "nested-too-deep",
            SkipKind::DamagedArchive => "damaged-archive",
            SkipKind::NestedArchive => "nested-archive",
            SkipKind::Other => "other",
        }
    }

    pub fn from_name(name: &str) -> Option<SkipKind> {
        SkipKind::ALL.into_iter().find(|k| k.name() == name)
    }
}

impl SkipReason {
    pub fn kind(&self) -> SkipKind {
        match self {
            SkipReason::Binary => SkipKind::Binary,
            SkipReason::Minified => SkipKind::Minified,
            SkipReason::Generated => SkipKind::Generated,
            SkipReason::TooLarge { .. } => SkipKind::TooLarge,
            SkipReason::Empty => SkipKind::Empty,
            SkipReason::LicenseText => SkipKind::LicenseText,
            SkipReason::Unreadable(_) => SkipKind::Unreadable,
            SkipReason::SymlinkLoop => SkipKind::SymlinkLoop,
            SkipReason::OutsideRoot(_) => SkipKind::OutsideRoot,
            SkipReason::Link { .. } => SkipKind::Link,
            SkipReason::Special(_) => SkipKind::Special,
            SkipReason::Submodule => SkipKind::Submodule,
            SkipReason::Encrypted => SkipKind::Encrypted,
            SkipReason::UnsafeEntry(_) => SkipKind::UnsafeEntry,
            SkipReason::NestedTooDeep { .. } => SkipKind::NestedTooDeep,
            SkipReason::DamagedArchive(_) => SkipKind::DamagedArchive,
            SkipReason::NestedArchive(_) => SkipKind::NestedArchive,
            SkipReason::Other(_) => SkipKind::Other,
        }
    }
}

impl std::fmt::Display for SkipReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SkipReason::Binary => write!(f, "binary file"),
            SkipReason::Minified => write!(f, "minified or bundled (very long lines)"),
            SkipReason::Generated => write!(f, "generated file (marker in header)"),
            SkipReason::TooLarge { size, limit } => {
                write!(f, "too large ({size} bytes, limit {limit})")
            }
            SkipReason::Empty => write!(f, "empty file"),
            SkipReason::LicenseText => write!(f, "license or notice text, not code"),
            SkipReason::Unreadable(e) => write!(f, "unreadable: {e}"),
            SkipReason::SymlinkLoop => write!(f, "symbolic link loop"),
            SkipReason::OutsideRoot(t) => {
                write!(f, "symbolic link to {t} points outside the root")
            }
            SkipReason::Link { target } => write!(f, "link to {target}"),
            SkipReason::Special(kind) => write!(f, "not a regular file ({kind})"),
            SkipReason::Submodule => write!(f, "git submodule"),
            SkipReason::Encrypted => write!(f, "encrypted archive entry"),
            SkipReason::UnsafeEntry(e) => write!(f, "unsafe archive entry refused: {e}"),
            SkipReason::NestedTooDeep { limit } => write!(
                f,
                "archive nested more than {limit} levels deep, not expanded (raise --max-archive-depth)"
            ),
            SkipReason::DamagedArchive(e) => {
                write!(f, "damaged archive, entries after the damage not checked: {e}")
            }
            SkipReason::NestedArchive(e) => write!(f, "nested archive not expanded: {e}"),
            SkipReason::Other(s) => f.write_str(s),
        }
    }
}

/// Limits for [`classify`]; the defaults suit source code.
#[derive(Clone, Debug)]
pub struct ClassifyOptions {
    pub max_bytes: u64,
    /// Average line length (bytes) above which a file counts as minified.
    pub max_avg_line: usize,
    /// Skip files that say they are generated.
    pub skip_generated: bool,
}

impl Default for ClassifyOptions {
    fn default() -> Self {
        ClassifyOptions {
            // sqlite3.c, the most vendored file there is, is 9 MB.
            max_bytes: 16 << 20,
            max_avg_line: 300,
            skip_generated: true,
        }
    }
}

/// Decide whether a file is worth tokenizing and with which language.
pub fn classify(path: &Path, bytes: &[u8], opts: &ClassifyOptions) -> Result<Language, SkipReason> {
    let len = bytes.len() as u64;
    if len > opts.max_bytes {
        return Err(SkipReason::TooLarge {
            size: len,
            limit: opts.max_bytes,
        });
    }
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(SkipReason::Empty);
    }
    if looks_binary(bytes) {
        return Err(SkipReason::Binary);
    }
    if looks_minified(bytes, opts.max_avg_line) {
        return Err(SkipReason::Minified);
    }
    if opts.skip_generated && looks_generated(bytes) {
        return Err(SkipReason::Generated);
    }
    Ok(detect(path, bytes))
}

/// Language from the file name, then the shebang, then the content.
pub fn detect(path: &Path, bytes: &[u8]) -> Language {
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase);
    if let Some(lang) = ext.as_deref().and_then(|e| from_extension(e, bytes)) {
        return lang;
    }
    from_shebang(bytes).unwrap_or(Language::Text)
}

fn from_extension(ext: &str, bytes: &[u8]) -> Option<Language> {
    Some(match ext {
        "c" => Language::C,
        "h" => {
            if looks_like_cpp(bytes) {
                Language::Cpp
            } else {
                Language::C
            }
        }
        "cc" | "cpp" | "cxx" | "c++" | "hh" | "hpp" | "hxx" | "h++" | "ipp" | "tcc" | "inl" => {
            Language::Cpp
        }
        "java" => Language::Java,
        "py" | "pyi" | "pyw" => Language::Python,
        "js" | "mjs" | "cjs" | "jsx" => Language::JavaScript,
        "ts" | "mts" | "cts" => Language::TypeScript,
        "tsx" => Language::Tsx,
        "go" => Language::Go,
        "rs" => Language::Rust,
        "cs" => Language::CSharp,
        "php" | "phtml" | "php5" | "php7" | "phps" => Language::Php,
        "rb" | "rake" | "gemspec" | "ru" => Language::Ruby,
        "txt" | "md" | "markdown" | "rst" | "adoc" | "asciidoc" | "pod" | "po" | "pot" | "man"
        | "html" | "htm" | "info" | "texi" | "texinfo" | "pem" | "crt" | "csr" | "num" | "csv"
        | "tsv" | "svg" | "vcxproj" | "vcproj" | "sln" | "filters" => Language::Prose,
        // Manual pages: `ls.1`, `readline.3`.
        _ if ext.len() == 1 && ext.as_bytes()[0].is_ascii_digit() && ext != "0" => Language::Prose,
        _ => return None,
    })
}

fn from_shebang(bytes: &[u8]) -> Option<Language> {
    let first = bytes.split(|&b| b == b'\n').next()?.strip_prefix(b"#!")?;
    let line = String::from_utf8_lossy(first);
    let mut words = line.split_whitespace();
    let mut program = words.next()?.rsplit('/').next()?;
    if program == "env" {
        program = words.find(|w| !w.starts_with('-'))?;
    }
    let table = [
        ("python", Language::Python),
        ("ruby", Language::Ruby),
        ("node", Language::JavaScript),
        ("php", Language::Php),
    ];
    table
        .into_iter()
        .find(|(prefix, _)| program.starts_with(prefix))
        .map(|(_, lang)| lang)
}

/// C++-only constructs in a header; C headers rarely contain any of them.
fn looks_like_cpp(bytes: &[u8]) -> bool {
    const MARKERS: [&[u8]; 6] = [
        b"namespace ",
        b"template<",
        b"template <",
        b"class ",
        b"public:",
        b"std::",
    ];
    let head = &bytes[..bytes.len().min(64 * 1024)];
    MARKERS
        .iter()
        .any(|m| head.windows(m.len()).any(|w| w == *m))
}

fn looks_binary(bytes: &[u8]) -> bool {
    let head = &bytes[..bytes.len().min(8192)];
    if head.contains(&0) {
        return true;
    }
    let control = head
        .iter()
        .filter(|&&b| b < 0x20 && !matches!(b, b'\n' | b'\r' | b'\t' | 0x0c))
        .count();
    control * 10 > head.len()
}

fn looks_minified(bytes: &[u8], max_avg_line: usize) -> bool {
    if bytes.len() < 4096 {
        return false;
    }
    let lines = bytes.iter().filter(|&&b| b == b'\n').count() + 1;
    bytes.len() / lines > max_avg_line
}

fn looks_generated(bytes: &[u8]) -> bool {
    const MARKERS: [&str; 6] = [
        "@generated",
        "do not edit",
        "code generated by",
        "automatically generated",
        "autogenerated",
        "auto-generated",
    ];
    let head = &bytes[..bytes.len().min(1024)];
    let head = String::from_utf8_lossy(head).to_ascii_lowercase();
    // Only the leading comment block counts: generators stamp the top of the
    // file, while a comment further down may well talk about generated keys.
    head.lines()
        .map(str::trim)
        .take_while(|l| l.is_empty() || is_comment_line(l))
        .any(|l| MARKERS.iter().any(|m| l.contains(m)))
}

fn is_comment_line(line: &str) -> bool {
    const OPENERS: [&str; 8] = ["//", "/*", "*", "--", ";", "<!--", "\"\"\"", "'''"];
    // `#` opens a comment in shell, Python, Ruby…, but `#include` and
    // `#define` are C code.
    let hash_comment = line
        .strip_prefix('#')
        .is_some_and(|rest| !rest.starts_with(|c: char| c.is_ascii_alphabetic()));
    hash_comment || OPENERS.iter().any(|o| line.starts_with(o))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lang(path: &str, text: &str) -> Result<Language, SkipReason> {
        classify(
            Path::new(path),
            text.as_bytes(),
            &ClassifyOptions::default(),
        )
    }

    #[test]
    fn only_the_leading_comment_block_marks_a_file_generated() {
        let go = "// Code generated by protoc-gen-go. DO NOT EDIT.\npackage x\n";
        assert_eq!(lang("a.go", go), Err(SkipReason::Generated));
        let js = "/**\n * @generated\n */\nexport const x = 1;\n";
        assert_eq!(lang("a.js", js), Err(SkipReason::Generated));
        let c = "#include <string.h>\n\n/* keys may be auto-generated by the caller */\nint n;\n";
        assert_eq!(lang("keys.c", c), Ok(Language::C));
    }

    #[test]
    fn extensions_pick_grammars() {
        assert_eq!(lang("a.c", "int x;"), Ok(Language::C));
        assert_eq!(lang("a.h", "int x;"), Ok(Language::C));
        assert_eq!(lang("a.h", "namespace x { int y; }"), Ok(Language::Cpp));
        assert_eq!(lang("A.JAVA", "class A {}"), Ok(Language::Java));
        assert_eq!(lang("x.tsx", "let a = 1"), Ok(Language::Tsx));
        assert_eq!(lang("x.rs", "fn main() {}"), Ok(Language::Rust));
        assert_eq!(lang("x.cs", "class A {}"), Ok(Language::CSharp));
        assert_eq!(lang("x.php", "<?php echo 1;"), Ok(Language::Php));
        assert_eq!(lang("Rakefile.rake", "task :a"), Ok(Language::Ruby));
        assert_eq!(lang("notes.txt", "hello world"), Ok(Language::Prose));
        assert_eq!(lang("readline.3", ".TH READLINE 3"), Ok(Language::Prose));
        assert_eq!(lang("de.po", "msgid \"a\""), Ok(Language::Prose));
        assert_eq!(lang("build.sh", "echo 1"), Ok(Language::Text));
        assert_eq!(Language::Prose.seed_sampling(), 4);
        assert_eq!(Language::Text.seed_sampling(), 1);
    }

    #[test]
    fn shebang_names_the_interpreter() {
        assert_eq!(
            lang("tool", "#!/usr/bin/env python3\nprint(1)\n"),
            Ok(Language::Python)
        );
        assert_eq!(
            lang("tool", "#!/usr/bin/ruby -w\nputs 1\n"),
            Ok(Language::Ruby)
        );
        assert_eq!(
            lang("tool", "#!/usr/bin/env node\nconsole.log(1)\n"),
            Ok(Language::JavaScript)
        );
        assert_eq!(lang("tool", "#!/bin/sh\necho 1\n"), Ok(Language::Text));
    }

    #[test]
    fn bad_files_are_classified() {
        assert_eq!(lang("a.c", "int\0x"), Err(SkipReason::Binary));
        assert_eq!(lang("a.c", "   \n\n"), Err(SkipReason::Empty));
        let minified = "var a=1;".repeat(2000);
        assert_eq!(lang("a.js", &minified), Err(SkipReason::Minified));
        assert_eq!(
            lang(
                "a.go",
                "// Code generated by protoc. DO NOT EDIT.\npackage x\n"
            ),
            Err(SkipReason::Generated)
        );
        let opts = ClassifyOptions {
            max_bytes: 4,
            ..ClassifyOptions::default()
        };
        assert!(matches!(
            classify(Path::new("a.c"), b"int x;", &opts),
            Err(SkipReason::TooLarge { size: 6, limit: 4 })
        ));
    }

    #[test]
    fn invalid_utf8_is_still_text() {
        let bytes = b"int caf\xe9 = 1;\n";
        assert_eq!(
            classify(Path::new("a.c"), bytes, &ClassifyOptions::default()),
            Ok(Language::C)
        );
    }
}
