//! The engine's front door: one file's bytes in, everything the matcher and
//! the index need out.

use std::path::Path;

use crate::identity::FileDigests;
use crate::lang::{classify, ClassifyOptions, Language, SkipReason};
use crate::probe::Prober;
use crate::token::{Token, TokenStream, Tokenizer};
use crate::winnow::{fingerprint, fingerprint_file, Fingerprint, Params};

/// A file ready for lookup or indexing.
#[derive(Clone, Debug)]
pub struct Analyzed {
    pub language: Language,
    pub digests: FileDigests,
    /// Size in bytes.
    pub len: u64,
    pub lines: u32,
    pub tokens: TokenStream,
    /// Whether the lexer made the tokens: then [`Analyzer::relex`] makes
    /// them again from the same bytes, token for token, and an index need
    /// not store the stream beside the source text.
    pub lexed: bool,
    pub fingerprints: Vec<Fingerprint>,
}

/// Reusable per-thread analysis state.
#[derive(Default)]
pub struct Analyzer {
    tokenizer: Tokenizer,
    prober: Prober,
    pub params: Params,
    pub classify: ClassifyOptions,
}

impl Analyzer {
    /// Minified and bundled files are analyzed like any other (they are the
    /// most vendored files of all); their findings carry byte ranges, as
    /// their lines mean nothing. Generated files too: a vendored library
    /// ships its generated tables and bindings with the rest (three quarters
    /// of the lines Go vendors from golang.org/x are generated), and a copy
    /// of them is provenance like any other; the verify step, not the file
    /// name, keeps two outputs of one generator from matching by shape.
    pub fn new(params: Params) -> Analyzer {
        Analyzer {
            params,
            classify: ClassifyOptions {
                max_avg_line: usize::MAX,
                skip_generated: false,
                ..ClassifyOptions::default()
            },
            ..Analyzer::default()
        }
    }

    /// Classify, tokenize and fingerprint one file.
    pub fn analyze(&mut self, path: &Path, bytes: &[u8]) -> Result<Analyzed, SkipReason> {
        let language = self.language_of(path, bytes)?;
        self.analyze_as(language, bytes, FileDigests::of(bytes))
    }

    /// Which tokenizer the file gets, or why it is not worth tokenizing.
    pub fn language_of(&self, path: &Path, bytes: &[u8]) -> Result<Language, SkipReason> {
        classify(path, bytes, &self.classify)
    }

    /// Fingerprints of the probe lexer's approximation of the token stream
    /// (see [`crate::probe`]): if none of them is in the index, parsing the
    /// file would find nothing either, in all but rare cases. `None` when
    /// the language has no probe or the probe found no tokens; then only a
    /// full analysis can tell.
    pub fn probe(&mut self, language: Language, bytes: &[u8]) -> Option<Vec<Fingerprint>> {
        let tokens = self.prober.tokens(language, bytes)?;
        if tokens.is_empty() {
            return None;
        }
        let mut fps = fingerprint(&tokens, self.params);
        crate::winnow::sample_seeds(&mut fps, language.seed_sampling());
        Some(fps)
    }

    /// The tokens a scan matches a target with: the probe lexer's where the
    /// language has one (no parse on the scan path; the alignment absorbs
    /// its rare differences from the parse), else the parse's.
    pub fn target_tokens(&mut self, language: Language, bytes: &[u8], lexer: bool) -> Vec<Token> {
        if lexer {
            if let Some(tokens) = self.prober.tokens(language, bytes) {
                return tokens;
            }
        }
        self.tokenizer.tokenize(language, bytes).tokens
    }

    /// [`Analyzer::analyze`] for a file already classified and hashed
    /// (a scan hashes every file first, for the whole-file lookup).
    pub fn analyze_as(
        &mut self,
        language: Language,
        bytes: &[u8],
        digests: FileDigests,
    ) -> Result<Analyzed, SkipReason> {
        // One tokenizer on both sides: the lexer built from the grammars'
        // tables where the language has one (the accuracy harness measures
        // both sides lexed as good as both parsed, docs/accuracy.md), for a
        // tenth of a parse's cost; tree-sitter for the others.
        let (tokens, lexed) = match self.relex(language, bytes) {
            Some(tokens) => (
                TokenStream {
                    tokens,
                    fallback: false,
                },
                true,
            ),
            None => (self.tokenizer.tokenize(language, bytes), false),
        };
        if tokens.is_empty() {
            return Err(SkipReason::Empty);
        }
        let mut fingerprints = fingerprint_file(&tokens.tokens, bytes, self.params);
        crate::winnow::sample_seeds(&mut fingerprints, language.seed_sampling());
        Ok(Analyzed {
            language,
            digests,
            len: bytes.len() as u64,
            lines: line_count(bytes),
            tokens,
            lexed,
            fingerprints,
        })
    }

    /// The tokens of a file in a language the lexer knows, `None` for the
    /// parsed ones. Lexing is a pure function of the bytes (a parse can run
    /// out of time), so the tokens [`Analyzer::analyze_as`] gave when a file
    /// was indexed come back token for token from its stored text: an index
    /// keeps the text and rebuilds the stream from it.
    pub fn relex(&mut self, language: Language, bytes: &[u8]) -> Option<Vec<Token>> {
        self.prober.tokens(language, bytes)
    }
}

/// Lines as editors count them: a final line without a newline still counts.
pub fn line_count(bytes: &[u8]) -> u32 {
    let newlines = bytes.iter().filter(|&&b| b == b'\n').count() as u32;
    newlines + u32::from(!bytes.is_empty() && !bytes.ends_with(b"\n"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn analyzes_a_real_looking_file() {
        let src = "#include <stdio.h>\n\nint main(void) {\n    for (int i = 0; i < 10; i++) {\n        printf(\"%d\\n\", i * i);\n    }\n    return 0;\n}\n";
        let a = Analyzer::default()
            .analyze(Path::new("m.c"), src.as_bytes())
            .unwrap();
        assert_eq!(a.language, Language::C);
        assert_eq!(a.lines, 8);
        assert!(a.tokens.len() > 30);
        assert!(!a.fingerprints.is_empty());
        assert!(a
            .fingerprints
            .iter()
            .all(|f| f.first_line >= 1 && f.last_line <= 8));
    }

    #[test]
    fn prose_keeps_its_digests_but_no_fingerprints() {
        let text = "This manual describes the library. ".repeat(40);
        let a = Analyzer::default()
            .analyze(Path::new("guide.txt"), text.as_bytes())
            .unwrap();
        assert_eq!(a.language, Language::Prose);
        assert!(a.tokens.len() > 100);
        assert!(a.fingerprints.is_empty());
        assert_eq!(a.digests, FileDigests::of(text.as_bytes()));
    }

    #[test]
    fn counts_lines() {
        assert_eq!(line_count(b""), 0);
        assert_eq!(line_count(b"a"), 1);
        assert_eq!(line_count(b"a\n"), 1);
        assert_eq!(line_count(b"a\nb"), 2);
    }

    #[test]
    fn skips_with_reason() {
        let err = Analyzer::default()
            .analyze(Path::new("x.bin"), b"\0\x01\x02")
            .unwrap_err();
        assert_eq!(err, SkipReason::Binary);
    }
}
