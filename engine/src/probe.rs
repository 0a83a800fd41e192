//! A lexer-only approximation of [`crate::token`]'s streams, to decide
//! cheaply whether a file is worth parsing at all.
//!
//! Most files of most scans share nothing with the index, and tree-sitter
//! parsing is most of what a scan spends on them (about 5 MB/s a core).
//! Since the normalized stream only keeps leaves (names, keywords,
//! operators, literal classes), a lexer that knows a grammar's keywords and
//! operators (read from the grammar's own symbol table), its comment and
//! literal syntax and the few named words that are not names (`true`,
//! `int`, `None`) reproduces nearly all of it at a tenth of the cost. A
//! scan looks up the probe's fingerprints first and parses only the files
//! where one of them hits: the probe never produces a finding, so where it
//! lexes differently (contextual keywords, `>>` closing two generics, JSX)
//! the worst case is a file parsed for nothing, or a copy whose every
//! probe gram differs from the parse's, which the accuracy harness measures.

use std::collections::HashSet;
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::OnceLock;

use crate::lang::Language;
use crate::token::{class, grammar_of, lex_text, relex_at, text_code, utf8_len, Token, TokenKind};
use crate::winnow::{fingerprint, Params};

/// Tokenizes by lexing alone. The lexicons it reads are built once per
/// process (see [`lexicon`]), so a prober costs nothing to make.
#[derive(Default)]
pub struct Prober {
    _private: (),
}

impl Prober {
    /// The approximate token stream, or `None` for languages the probe does
    /// not know (those are always parsed).
    pub fn tokens(&mut self, lang: Language, bytes: &[u8]) -> Option<Vec<Token>> {
        if matches!(lang, Language::Text | Language::Prose) {
            // The plain lexer *is* these languages' tokenizer: exact and cheap.
            return Some(lex_text(bytes, TokenKind::Fixed).tokens);
        }
        Some(Lexer::new(lexicon(lang)?, bytes).run())
    }
}

/// A language's lexicon, built on its first use and then shared by every
/// thread: building one reads the grammar's whole symbol table (a few
/// milliseconds), which a thread per scan worker, and another for the
/// index's stream rebuilding, each paid again.
fn lexicon(lang: Language) -> Option<&'static Lexicon> {
    const N: usize = Language::ALL.len();
    static LEXICONS: [OnceLock<Option<Lexicon>>; N] = [const { OnceLock::new() }; N];
    let i = Language::ALL.iter().position(|&l| l == lang)?;
    LEXICONS[i].get_or_init(|| Lexicon::new(lang)).as_ref()
}

/// How much of the parse's fingerprint set a probe stream keeps: the
/// number of distinct winnowed fingerprints of `parsed`, and how many of
/// them `probed` picks too. The measure of the probe's fidelity (a file
/// whose copy shares none of them would be gated out).
pub fn agreement(parsed: &[Token], probed: &[Token], params: Params) -> (usize, usize) {
    let hashes = |tokens: &[Token]| -> HashSet<u64> {
        fingerprint(tokens, params).iter().map(|f| f.hash).collect()
    };
    let want = hashes(parsed);
    let shared = want.intersection(&hashes(probed)).count();
    (want.len(), shared)
}

/// Codes are already hashes: hashing them again is waste.
#[derive(Default)]
struct CodeHasher(u64);

impl Hasher for CodeHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = self.0.rotate_left(8) ^ b as u64;
        }
    }
    fn write_u32(&mut self, n: u32) {
        self.0 = n as u64;
    }
}

type CodeSet = HashSet<u32, BuildHasherDefault<CodeHasher>>;

/// What a single quote starts.
#[derive(Clone, Copy, PartialEq, Eq)]
enum SingleQuote {
    Char,
    String,
    /// Rust: a char literal, or a lifetime (`'a` without a closing quote).
    CharOrLifetime,
}

/// A language's lexical syntax, as far as the normalized stream sees it.
struct Syntax {
    line_comments: &'static [&'static [u8]],
    block_comments: bool,
    nested_block_comments: bool,
    single_quote: SingleQuote,
    /// `` ` `` opens a string (JavaScript templates, Go raw strings).
    backtick_strings: bool,
    /// `"""` opens a string that ends at the next `"""` (Python, Java, C#).
    triple_quotes: bool,
    /// Words that, directly before a quote, belong to the literal (`r"…"`, `u8"…"`).
    string_prefixes: &'static [&'static str],
    preprocessor: bool,
    regex_literals: bool,
    /// `-1` is one number token where an operand is expected (C's grammar).
    signed_numbers: bool,
    /// `.5` is a number (everywhere but Rust, where `t.0` is a field).
    leading_dot_numbers: bool,
    /// `$` is part of names (JavaScript).
    dollar_in_names: bool,
    /// Words the grammar gives named leaf nodes that are not names.
    fixed_words: &'static [&'static [&'static str]],
    /// Keywords of the grammar that code mostly uses as names.
    name_words: &'static [&'static str],
    /// Operators the grammar gives named leaf nodes (`?.`).
    extra_operators: &'static [&'static str],
    /// Operators of the grammar that code mostly writes as two tokens.
    split_operators: &'static [&'static str],
    /// Adjacent string literals (and C's `"%" PRIu64 "\n"`) are one literal.
    concatenated_strings: bool,
    /// Rust: `$name` metavariables and `macro_rules!` are single tokens.
    rust_macros: bool,
    /// `>>` closing two generic argument lists is two tokens (Rust, C++).
    generic_angles: bool,
}

const C_LIKE: Syntax = Syntax {
    line_comments: &[b"//"],
    block_comments: true,
    nested_block_comments: false,
    single_quote: SingleQuote::Char,
    backtick_strings: false,
    triple_quotes: false,
    string_prefixes: &[],
    preprocessor: false,
    regex_literals: false,
    signed_numbers: false,
    leading_dot_numbers: true,
    dollar_in_names: false,
    fixed_words: &[],
    name_words: &[],
    extra_operators: &[],
    split_operators: &[],
    concatenated_strings: false,
    rust_macros: false,
    generic_angles: false,
};

const C_TYPES: &[&str] = &[
    "bool",
    "char",
    "int",
    "float",
    "double",
    "void",
    "size_t",
    "ssize_t",
    "ptrdiff_t",
    "intptr_t",
    "uintptr_t",
    "charptr_t",
    "nullptr_t",
    "max_align_t",
    "int8_t",
    "int16_t",
    "int32_t",
    "int64_t",
    "uint8_t",
    "uint16_t",
    "uint32_t",
    "uint64_t",
    "char8_t",
    "char16_t",
    "char32_t",
    "true",
    "false",
    "TRUE",
    "FALSE",
    "NULL",
    "nullptr",
];

const RUST_WORDS: &[&str] = &[
    "self", "crate", "super", "$crate", "_", "mut", "bool", "char", "str", "u8", "u16", "u32",
    "u64", "u128", "usize", "i8", "i16", "i32", "i64", "i128", "isize", "f32", "f64", "true",
    "false",
];

/// Keywords that stay keywords inside a Rust macro's token tree; every
/// other word there is a name to the grammar.
const RUST_TOKEN_TREE_KEYWORDS: &[&[u8]] = &[
    b"as",
    b"async",
    b"await",
    b"break",
    b"const",
    b"continue",
    b"default",
    b"enum",
    b"fn",
    b"for",
    b"if",
    b"impl",
    b"let",
    b"loop",
    b"match",
    b"mod",
    b"pub",
    b"return",
    b"static",
    b"struct",
    b"trait",
    b"type",
    b"union",
    b"unsafe",
    b"use",
    b"where",
    b"while",
    b"self",
    b"super",
    b"crate",
    b"mut",
    b"_",
    b"bool",
    b"char",
    b"str",
    b"u8",
    b"u16",
    b"u32",
    b"u64",
    b"u128",
    b"usize",
    b"i8",
    b"i16",
    b"i32",
    b"i64",
    b"i128",
    b"isize",
    b"f32",
    b"f64",
    b"true",
    b"false",
];

/// Fragment specifiers of `macro_rules!`: keywords there, names everywhere else.
const RUST_NAMES: &[&str] = &[
    "path",
    "expr",
    "ident",
    "ty",
    "pat",
    "pat_param",
    "block",
    "item",
    "stmt",
    "vis",
    "literal",
    "lifetime",
    "meta",
    "union",
    "default",
    "raw",
    "gen",
    "safe",
];

const C: Syntax = Syntax {
    string_prefixes: &["L", "u", "U", "u8", "R", "LR", "uR", "UR", "u8R"],
    preprocessor: true,
    signed_numbers: true,
    concatenated_strings: true,
    fixed_words: &[C_TYPES],
    ..C_LIKE
};

const JS: Syntax = Syntax {
    single_quote: SingleQuote::String,
    backtick_strings: true,
    regex_literals: true,
    dollar_in_names: true,
    fixed_words: &[&["true", "false", "null", "undefined", "this", "super"]],
    extra_operators: &["?."],
    ..C_LIKE
};

fn syntax(lang: Language) -> Option<Syntax> {
    Some(match lang {
        Language::C => C,
        Language::Cpp => Syntax {
            fixed_words: &[C_TYPES, &["auto", "this"]],
            generic_angles: true,
            ..C
        },
        Language::Rust => Syntax {
            nested_block_comments: true,
            single_quote: SingleQuote::CharOrLifetime,
            string_prefixes: &["b", "r", "br", "c", "cr"],
            leading_dot_numbers: false,
            fixed_words: &[RUST_WORDS],
            name_words: RUST_NAMES,
            rust_macros: true,
            generic_angles: true,
            ..C_LIKE
        },
        Language::Go => Syntax {
            backtick_strings: true,
            fixed_words: &[&["nil", "true", "false", "iota"]],
            ..C_LIKE
        },
        Language::Java => Syntax {
            triple_quotes: true,
            fixed_words: &[&["true", "false", "null", "this", "super"]],
            ..C_LIKE
        },
        Language::CSharp => Syntax {
            triple_quotes: true,
            string_prefixes: &["@", "$", "$@", "@$"],
            fixed_words: &[&[
                "true", "false", "null", "this", "base", "bool", "byte", "char", "decimal",
                "double", "float", "int", "long", "object", "sbyte", "short", "string", "uint",
                "ulong", "ushort", "void", "nint", "nuint", "dynamic",
            ]],
            ..C_LIKE
        },
        Language::JavaScript => Syntax {
            name_words: &["target", "get", "set", "static"],
            ..JS
        },
        Language::TypeScript | Language::Tsx => Syntax {
            name_words: &["target", "get", "set", "type"],
            split_operators: &["?:"],
            ..JS
        },
        Language::Python => Syntax {
            line_comments: &[b"#"],
            block_comments: false,
            single_quote: SingleQuote::String,
            triple_quotes: true,
            string_prefixes: &[
                "r", "u", "b", "f", "br", "rb", "fr", "rf", "R", "U", "B", "F", "Br", "bR", "BR",
                "Rb", "rB", "RB", "Fr", "fR", "FR", "Rf", "rF", "RF",
            ],
            fixed_words: &[&["None", "True", "False"]],
            concatenated_strings: true,
            name_words: &["print", "exec", "type", "match", "case", "_"],
            ..C_LIKE
        },
        _ => return None,
    })
}

struct Lexicon {
    syntax: Syntax,
    keywords: CodeSet,
    /// Operators packed into a `u32` (up to 4 bytes), for longest-match lookup.
    operators: HashSet<u32, BuildHasherDefault<CodeHasher>>,
    longest_operator: usize,
    /// Per first byte, bit `n` set when an operator of `n` bytes starts
    /// with it: most punctuation starts none longer than itself (`;`, `(`,
    /// `,`), and the longest-match lookup then asks the set nothing (its
    /// probes were a third of the lexer's time).
    lengths: [u8; 256],
    /// Bytes that can start a comment: at any other byte the comment
    /// markers need not be compared (that was 5 % of a scan of Rust).
    comment_starts: [bool; 256],
}

fn pack(op: &[u8]) -> u32 {
    op.iter().fold(0u32, |acc, &b| acc << 8 | b as u32)
}

/// The first byte and the length of a [`pack`]ed operator.
fn first_and_len(op: u32) -> (u8, usize) {
    let bytes = op.to_be_bytes();
    let at = bytes.iter().position(|&b| b != 0).unwrap_or(3);
    (bytes[at], 4 - at)
}

impl Lexicon {
    fn new(lang: Language) -> Option<Lexicon> {
        let syntax = syntax(lang)?;
        let grammar = grammar_of(lang)?;
        let mut keywords = CodeSet::default();
        let mut operators = HashSet::default();
        let mut longest_operator = 1;
        for id in 0..grammar.node_kind_count() as u16 {
            if grammar.node_kind_is_named(id) || !grammar.node_kind_is_visible(id) {
                continue;
            }
            let Some(name) = grammar.node_kind_for_id(id) else {
                continue;
            };
            let b = name.as_bytes();
            if b.first()
                .is_some_and(|&c| c.is_ascii_alphabetic() || c == b'#')
                && b[1..]
                    .iter()
                    .all(|&c| c.is_ascii_alphanumeric() || c == b'_')
            {
                keywords.insert(text_code(b));
            } else if (1..=4).contains(&b.len())
                && b.iter().all(|c| c.is_ascii_punctuation())
                && !(b.len() > 1 && b.iter().all(|c| b"[](){}".contains(c)))
                && !syntax.split_operators.contains(&name)
            {
                operators.insert(pack(b));
                longest_operator = longest_operator.max(b.len());
            }
        }
        for w in syntax.fixed_words.iter().flat_map(|list| list.iter()) {
            keywords.insert(text_code(w.as_bytes()));
        }
        for w in syntax.name_words {
            keywords.remove(&text_code(w.as_bytes()));
        }
        for op in syntax.extra_operators {
            operators.insert(pack(op.as_bytes()));
        }
        let mut lengths = [0u8; 256];
        for &op in &operators {
            let (first, len) = first_and_len(op);
            lengths[first as usize] |= 1 << len;
        }
        let mut comment_starts = [false; 256];
        for marker in syntax.line_comments {
            if let Some(&b) = marker.first() {
                comment_starts[b as usize] = true;
            }
        }
        if syntax.block_comments {
            comment_starts[b'/' as usize] = true;
        }
        Some(Lexicon {
            syntax,
            keywords,
            operators,
            longest_operator,
            lengths,
            comment_starts,
        })
    }
}

struct Lexer<'a> {
    lex: &'a Lexicon,
    bytes: &'a [u8],
    i: usize,
    line: u32,
    /// Only blanks since the last newline (for `#` directives).
    at_line_start: bool,
    /// Open generic argument lists (Rust), to split their closing `>>`.
    angles: u32,
    /// Bracket depth inside a Rust macro invocation's token tree (0: outside).
    token_tree: u32,
    /// Tokens emitted when the last preprocessor directive ended.
    directive_end: usize,
    out: Vec<Token>,
}

fn is_word_byte(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_' || c >= 0x80
}

impl<'a> Lexer<'a> {
    fn new(lex: &'a Lexicon, bytes: &'a [u8]) -> Lexer<'a> {
        Lexer {
            lex,
            bytes,
            i: 0,
            line: 1,
            at_line_start: true,
            angles: 0,
            token_tree: 0,
            directive_end: usize::MAX,
            out: Vec::with_capacity(bytes.len() / 4),
        }
    }

    fn run(mut self) -> Vec<Token> {
        while self.i < self.bytes.len() {
            let b = self.bytes[self.i];
            if b == b'\n' {
                self.line += 1;
                self.i += 1;
                self.at_line_start = true;
                continue;
            }
            if b.is_ascii_whitespace() {
                self.i += 1;
                continue;
            }
            if b == b'\\' && self.lex.syntax.preprocessor && self.rest().get(1) == Some(&b'\n') {
                self.advance(2); // a line continuation is blank to the grammar
                continue;
            }
            let line_start = std::mem::replace(&mut self.at_line_start, false);
            if self.skip_comment() {
                continue;
            }
            if b == b'#' && line_start && self.lex.syntax.preprocessor {
                self.directive();
                self.directive_end = self.out.len();
                continue;
            }
            self.token(b);
        }
        self.out
    }

    fn rest(&self) -> &'a [u8] {
        &self.bytes[self.i..]
    }

    fn skip_comment(&mut self) -> bool {
        let syntax = &self.lex.syntax;
        let rest = self.rest();
        if !self.lex.comment_starts[rest[0] as usize] {
            return false;
        }
        if syntax.line_comments.iter().any(|c| rest.starts_with(c)) {
            self.i += rest.iter().position(|&c| c == b'\n').unwrap_or(rest.len());
            return true;
        }
        if syntax.block_comments && rest.starts_with(b"/*") {
            let mut depth = 0usize;
            let mut j = 0;
            while j < rest.len() {
                if rest[j..].starts_with(b"/*") && (depth == 0 || syntax.nested_block_comments) {
                    depth += 1;
                    j += 2;
                } else if rest[j..].starts_with(b"*/") {
                    depth -= 1;
                    j += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    j += 1;
                }
            }
            self.advance(j);
            return true;
        }
        false
    }

    /// Moves past `n` bytes, counting their newlines.
    fn advance(&mut self, n: usize) {
        let n = n.min(self.bytes.len() - self.i);
        self.line += self.rest()[..n].iter().filter(|&&c| c == b'\n').count() as u32;
        self.i += n;
    }

    fn push(&mut self, kind: TokenKind, code: u32, start: usize, line: u32) {
        self.out.push(Token {
            kind,
            code,
            start: start as u32,
            end: self.i as u32,
            line,
            end_line: self.line,
        });
    }

    fn token(&mut self, b: u8) {
        let (start, line) = (self.i, self.line);
        if self.is_name_byte(b) && !b.is_ascii_digit() {
            let len = self.word_len();
            let word = &self.rest()[..len];
            let next = self.rest().get(len).copied();
            if next == Some(b'#') && self.is_string_prefix(word) {
                if let Some(n) = rust_hashed_raw_len(&self.rest()[len..]) {
                    self.advance(len + n);
                    return self.push(TokenKind::Fixed, class::STRING, start, line);
                }
            }
            if matches!(next, Some(b'"' | b'\'')) && self.is_string_prefix(word) {
                self.i += len;
                let q = self.bytes[self.i];
                return self.quoted(q, start, line);
            }
            let rust = self.lex.syntax.rust_macros;
            if rust && word == b"macro_rules" && next == Some(b'!') {
                self.i += len + 1;
                return self.push(TokenKind::Fixed, text_code(b"macro_rules!"), start, line);
            }
            self.i += len;
            let code = text_code(word);
            // `_` is a pattern, but a name where it stands for a type
            // (`Vec<_>`) or an import (`use Trait as _`).
            let inferred_type = rust
                && word == b"_"
                && (self.angles > 0 || self.previous_text() == Some(&b"as"[..]));
            // Inside a macro's token tree most keywords are names.
            let in_token_tree = self.token_tree > 0 && !RUST_TOKEN_TREE_KEYWORDS.contains(&word);
            let fixed = (self.lex.keywords.contains(&code)
                && !self.type_after_macro(word)
                && !inferred_type
                && !in_token_tree)
                || (rust && self.after_metavar_colon());
            let kind = if fixed {
                TokenKind::Fixed
            } else {
                TokenKind::Ident
            };
            return self.push(kind, code, start, line);
        }
        if b == b'$' && self.lex.syntax.rust_macros {
            let len = 1 + self.rest()[1..]
                .iter()
                .take_while(|&&c| is_word_byte(c))
                .count();
            if len > 1 {
                let code = text_code(&self.rest()[..len]);
                self.i += len;
                return self.push(TokenKind::Fixed, code, start, line);
            }
        }
        if b == b'\\' && self.lex.syntax.concatenated_strings && !self.lex.syntax.preprocessor {
            // Python's line continuation is one token, newline included.
            let len = match self.rest().get(1) {
                Some(b'\n') => 2,
                Some(b'\r') if self.rest().get(2) == Some(&b'\n') => 3,
                _ => 1,
            };
            let code = text_code(&self.rest()[..len]);
            self.advance(len);
            return self.push(TokenKind::Fixed, code, start, line);
        }
        if self.number_starts(b) {
            if !b.is_ascii_digit() && b != b'.' {
                self.i += 1; // the sign
            }
            self.number();
            return self.push(TokenKind::Fixed, class::NUMBER, start, line);
        }
        if b == b'"' || b == b'\'' || (b == b'`' && self.lex.syntax.backtick_strings) {
            return self.quoted(b, start, line);
        }
        if (b == b'@' || b == b'$')
            && matches!(self.rest().get(1), Some(b'"'))
            && self.is_string_prefix(&self.rest()[..1])
        {
            self.i += 1;
            return self.quoted(b'"', start, line);
        }
        if b == b'/' && self.lex.syntax.regex_literals && self.operand_expected() {
            if let Some(len) = regex_len(self.rest()) {
                self.i += len;
                return self.push(TokenKind::Fixed, class::STRING, start, line);
            }
        }
        let mut len = self.operator_len();
        if self.lex.syntax.generic_angles {
            len = self.track_angles(start, len);
        }
        if self.lex.syntax.rust_macros {
            self.track_token_tree(&self.bytes[start..start + len]);
        }
        let code = text_code(&self.rest()[..len]);
        self.i += len;
        self.push(TokenKind::Fixed, code, start, line);
    }

    /// Inside `name!( … )` the grammar keeps only some keywords as keywords
    /// (see [`RUST_TOKEN_TREE_KEYWORDS`]); the rest, like `in`, are names.
    fn track_token_tree(&mut self, op: &[u8]) {
        match op {
            b"(" | b"[" | b"{" if self.token_tree > 0 => self.token_tree += 1,
            b"(" | b"[" | b"{" => {
                let n = self.out.len();
                let bang = n >= 2
                    && self.out[n - 1].code == text_code(b"!")
                    && self.out[n - 2].kind == TokenKind::Ident;
                if bang {
                    self.token_tree = 1;
                }
            }
            b")" | b"]" | b"}" => self.token_tree = self.token_tree.saturating_sub(1),
            _ => {}
        }
    }

    /// C's grammar reads `API int f(void);` (an unknown macro, then a type,
    /// at the start of a declaration) as if `API` were the type and `int`
    /// a name: so must the probe.
    fn type_after_macro(&self, word: &[u8]) -> bool {
        const TYPES: &[&[u8]] = &[
            b"bool",
            b"char",
            b"int",
            b"float",
            b"double",
            b"void",
            b"size_t",
            b"ssize_t",
            b"ptrdiff_t",
            b"intptr_t",
            b"uintptr_t",
            b"int8_t",
            b"int16_t",
            b"int32_t",
            b"int64_t",
            b"uint8_t",
            b"uint16_t",
            b"uint32_t",
            b"uint64_t",
            b"struct",
            b"union",
            b"enum",
        ];
        const QUALIFIERS: &[&[u8]] = &[
            b"const",
            b"volatile",
            b"unsigned",
            b"signed",
            b"long",
            b"short",
        ];
        if !self.lex.syntax.preprocessor || !TYPES.contains(&word) {
            return false;
        }
        let text = |t: &Token| &self.bytes[t.start as usize..t.end as usize];
        let mut i = self.out.len();
        while i > 0 && QUALIFIERS.contains(&text(&self.out[i - 1])) {
            i -= 1;
        }
        if i == 0 || self.out[i - 1].kind != TokenKind::Ident {
            return false;
        }
        let mut before = i - 1;
        while before > 0
            && matches!(
                text(&self.out[before - 1]),
                b"static" | b"extern" | b"inline"
            )
        {
            before -= 1;
        }
        before == 0
            || before == self.directive_end
            || matches!(text(&self.out[before - 1]), b";" | b"{" | b"}")
    }

    fn previous_text(&self) -> Option<&'a [u8]> {
        let t = self.out.last()?;
        Some(&self.bytes[t.start as usize..t.end as usize])
    }

    /// Rust fragment specifiers: `$x:expr` makes `expr` a keyword.
    fn after_metavar_colon(&self) -> bool {
        let n = self.out.len();
        n >= 2 && {
            let (colon, var) = (&self.out[n - 1], &self.out[n - 2]);
            colon.code == text_code(b":") && self.bytes.get(var.start as usize) == Some(&b'$')
        }
    }

    /// Counts generic argument lists opened by a `<` written against a
    /// name (`Vec<T>`, `impl<T>`, `::<T>`), and returns the length of the
    /// operator at `start`, shortened to a single `>` where `>>` closes two.
    fn track_angles(&mut self, start: usize, len: usize) -> usize {
        let op = &self.bytes[start..start + len];
        let glued = start > 0 && !self.bytes[start - 1].is_ascii_whitespace();
        match op {
            b"<" if glued
                && self.out.last().is_some_and(|t| {
                    t.kind == TokenKind::Ident
                        || t.code == text_code(b"::")
                        || self.bytes[t.start as usize].is_ascii_alphabetic()
                }) =>
            {
                self.angles += 1;
                len
            }
            b">" if self.angles > 0 => {
                self.angles -= 1;
                len
            }
            b">>" | b">=" | b">>=" if self.angles > 0 => {
                self.angles -= 1;
                1
            }
            b";" | b"{" | b"}" => {
                self.angles = 0;
                len
            }
            _ => len,
        }
    }

    fn is_name_byte(&self, c: u8) -> bool {
        is_word_byte(c) || (c == b'$' && self.lex.syntax.dollar_in_names)
    }

    fn word_len(&self) -> usize {
        self.rest()
            .iter()
            .take_while(|&&c| self.is_name_byte(c))
            .count()
    }

    fn number_starts(&self, b: u8) -> bool {
        let next_is_digit = self.rest().get(1).is_some_and(u8::is_ascii_digit);
        b.is_ascii_digit()
            || (b == b'.' && next_is_digit && self.lex.syntax.leading_dot_numbers)
            || (matches!(b, b'-' | b'+')
                && next_is_digit
                && self.lex.syntax.signed_numbers
                && self.operand_expected())
    }

    fn is_string_prefix(&self, word: &[u8]) -> bool {
        self.lex
            .syntax
            .string_prefixes
            .iter()
            .any(|p| p.as_bytes() == word)
    }

    fn operator_len(&self) -> usize {
        let rest = self.rest();
        let max = self.lex.longest_operator.min(rest.len());
        let lengths = self.lex.lengths[rest[0] as usize];
        (2..=max)
            .rev()
            .filter(|&n| lengths & (1 << n) != 0)
            .find(|&n| self.lex.operators.contains(&pack(&rest[..n])))
            .unwrap_or_else(|| utf8_len(rest[0]).min(rest.len()))
    }

    fn number(&mut self) {
        let rest = self.rest();
        let hex = rest.len() > 1 && rest[0] == b'0' && matches!(rest[1], b'x' | b'X');
        let mut j = 0;
        while j < rest.len() {
            let c = rest[j];
            let exponent = if hex {
                matches!(c, b'p' | b'P')
            } else {
                matches!(c, b'e' | b'E')
            };
            if exponent && matches!(rest.get(j + 1), Some(b'+' | b'-')) {
                j += 2;
            } else if c == b'.'
                && rest
                    .get(j + 1)
                    .is_some_and(|&n| n == b'.' || n == b'_' || n.is_ascii_alphabetic())
            {
                break; // a range `0..n`, or a method `1.max(x)`
            } else if c.is_ascii_alphanumeric() || c == b'_' || c == b'.' || c == b'\'' {
                j += 1;
            } else {
                break;
            }
        }
        self.i += j;
    }

    /// A literal opened by `q` at `self.i` (any prefix already consumed).
    fn quoted(&mut self, q: u8, start: usize, line: u32) {
        let syntax = &self.lex.syntax;
        let prefix = &self.bytes[start..self.i];
        let rest = self.rest();
        let len = if q == b'\'' && syntax.single_quote == SingleQuote::CharOrLifetime {
            match char_len(rest) {
                Some(len) => len,
                None => {
                    // A lifetime is `'` then a name, whatever the name.
                    self.i += 1;
                    self.push(TokenKind::Fixed, text_code(b"'"), start, line);
                    let (start, len) = (self.i, self.word_len());
                    if len > 0 {
                        let code = text_code(&self.rest()[..len]);
                        self.i += len;
                        self.push(TokenKind::Ident, code, start, line);
                    }
                    return;
                }
            }
        } else if syntax.triple_quotes && rest.starts_with(&[q, q, q]) {
            let close = [q, q, q];
            3 + find(&rest[3..], &close).map_or(rest.len() - 3, |p| p + 3)
        } else if q == b'"' && prefix.contains(&b'R') && syntax.preprocessor {
            cpp_raw_len(rest)
        } else if q == b'"' && prefix.contains(&b'r') && !syntax.triple_quotes {
            rust_raw_len(rest)
        } else if q == b'`' && syntax.regex_literals {
            template_len(rest)
        } else {
            let escapes = q != b'`' && !(prefix.contains(&b'@') && syntax.triple_quotes);
            string_len(rest, q, escapes)
        };
        self.advance(len);
        if q == b'\'' && syntax.single_quote != SingleQuote::String {
            return self.push(TokenKind::Fixed, class::CHAR, start, line);
        }
        if syntax.concatenated_strings && self.join_strings() {
            return;
        }
        self.push(TokenKind::Fixed, class::STRING, start, line);
    }

    /// Extends the previous string over the one just lexed when the grammar
    /// makes them one literal: `"a" "b"`, and in C `"%" PRIu64 "\n"`.
    fn join_strings(&mut self) -> bool {
        let n = self.out.len();
        let is_string = |t: &Token| t.code == class::STRING && t.kind == TokenKind::Fixed;
        let joined = if n >= 1 && is_string(&self.out[n - 1]) {
            n - 1
        } else if n >= 2
            && self.lex.syntax.preprocessor
            && self.out[n - 1].kind == TokenKind::Ident
            && is_string(&self.out[n - 2])
        {
            self.out.pop();
            n - 2
        } else {
            return false;
        };
        let last = &mut self.out[joined];
        last.end = self.i as u32;
        last.end_line = self.line;
        true
    }

    /// Whether the next token is an operand (where `/` starts a regex and
    /// C's `-1` is one number): after an operator, an opening bracket, or a
    /// keyword like `return`.
    fn operand_expected(&self) -> bool {
        let Some(prev) = self.out.last() else {
            return true;
        };
        if prev.kind == TokenKind::Ident || matches!(prev.code, class::NUMBER | class::STRING) {
            return false;
        }
        let text = &self.bytes[prev.start as usize..prev.end as usize];
        match text {
            b")" | b"]" | b"}" | b"this" | b"super" | b"++" | b"--" => false,
            t => !t.first().is_some_and(|c| c.is_ascii_alphanumeric()) || is_operand_keyword(t),
        }
    }

    /// `#include`, `#define` and friends: the directive keyword, then what
    /// the grammar parses (names and expressions) or re-lexes (macro bodies).
    fn directive(&mut self) {
        let (start, line) = (self.i, self.line);
        let rest = self.rest();
        let blanks = rest[1..]
            .iter()
            .take_while(|&&c| c == b' ' || c == b'\t')
            .count();
        let word_len = rest[1 + blanks..]
            .iter()
            .take_while(|&&c| c.is_ascii_alphanumeric() || c == b'_')
            .count();
        let word = &rest[1 + blanks..1 + blanks + word_len];
        let keyword = matches!(
            word,
            b"define"
                | b"include"
                | b"if"
                | b"elif"
                | b"ifdef"
                | b"ifndef"
                | b"else"
                | b"endif"
                | b"elifdef"
                | b"elifndef"
        );
        // Keywords are coded by their name (`#  if` is `#if`), other
        // directives by their text.
        let code = if keyword {
            let mut name = Vec::with_capacity(word.len() + 1);
            name.push(b'#');
            name.extend_from_slice(word);
            text_code(&name)
        } else {
            text_code(&rest[..1 + blanks + word_len])
        };
        self.i += 1 + blanks + word_len;
        self.push(TokenKind::Fixed, code, start, line);
        match word {
            b"define" => self.define_body(),
            b"include" => self.include_path(),
            // The grammar ends a condition with a newline token.
            b"if" | b"elif" => self.condition(true),
            b"ifdef" | b"ifndef" | b"elifdef" | b"elifndef" => self.condition(false),
            b"else" | b"endif" => {}
            _ => self.relex_to_line_end(),
        }
    }

    fn skip_blanks(&mut self) {
        while self
            .rest()
            .first()
            .is_some_and(|&c| c == b' ' || c == b'\t')
        {
            self.i += 1;
        }
    }

    /// Blanks and line continuations: what the grammar skips before a macro body.
    fn skip_blanks_and_continuations(&mut self) {
        loop {
            self.skip_blanks();
            if !self.rest().starts_with(b"\\\n") {
                return;
            }
            self.advance(2);
        }
    }

    /// `<stdio.h>` is one string to the grammar.
    fn include_path(&mut self) {
        self.skip_blanks();
        if self.rest().first() != Some(&b'<') {
            return;
        }
        if let Some(close) = self.rest().iter().position(|&c| c == b'>' || c == b'\n') {
            if self.rest()[close] == b'>' {
                let (start, line) = (self.i, self.line);
                self.i += close + 1;
                self.push(TokenKind::Fixed, class::STRING, start, line);
            }
        }
    }

    /// A condition up to the end of its logical line; the grammar ends an
    /// `#if` expression (not an `#ifdef` name) with a newline token.
    fn condition(&mut self, newline_token: bool) {
        while self.i < self.bytes.len() {
            let b = self.bytes[self.i];
            if b == b'\n' {
                if !newline_token {
                    return;
                }
                let (start, line) = (self.i, self.line);
                self.advance(1);
                self.at_line_start = true;
                return self.push(TokenKind::Fixed, text_code(b"\n"), start, line);
            }
            if b.is_ascii_whitespace() {
                self.i += 1;
            } else if self.rest().starts_with(b"\\\n") {
                self.advance(2);
            } else if !self.skip_comment() {
                self.token(b);
            }
        }
    }

    /// After `#define`: the macro's name, its parameters, then the body as
    /// the grammar has it, re-lexed as plain words and punctuation.
    fn define_body(&mut self) {
        self.skip_blanks();
        let (start, line) = (self.i, self.line);
        let len = self.rest().iter().take_while(|&&c| is_word_byte(c)).count();
        if len == 0 {
            return;
        }
        let code = text_code(&self.rest()[..len]);
        self.i += len;
        self.push(TokenKind::Ident, code, start, line);
        if self.rest().first() == Some(&b'(') {
            let close = self.rest().iter().position(|&c| c == b')' || c == b'\n');
            if let Some(close) = close.filter(|&p| self.rest()[p] == b')') {
                let end = self.i + close + 1;
                while self.i < end {
                    let b = self.bytes[self.i];
                    if b.is_ascii_whitespace() {
                        self.i += 1;
                    } else {
                        self.token(b);
                    }
                }
            }
        }
        self.relex_to_line_end();
    }

    /// The rest of a directive line, as the grammar re-lexes a macro body:
    /// every word a name, and each line continuation inside the body a `\`
    /// token. Block comments split the body into pieces, and a piece
    /// starts after blanks and continuations.
    fn relex_to_line_end(&mut self) {
        loop {
            self.skip_blanks_and_continuations();
            self.relex_segment();
            if !self.rest().starts_with(b"/*") {
                return;
            }
            self.skip_comment();
        }
    }

    /// Re-lexes up to the end of the logical line or the next block comment.
    fn relex_segment(&mut self) {
        let rest = self.rest();
        let mut end = 0;
        while end < rest.len() && rest[end] != b'\n' && !rest[end..].starts_with(b"/*") {
            if rest[end] == b'\\' && rest.get(end + 1) == Some(&b'\n') {
                end += 1;
            }
            end += 1;
        }
        self.out
            .extend(relex_at(&rest[..end], self.i as u32, self.line));
        self.advance(end);
    }
}

fn is_operand_keyword(t: &[u8]) -> bool {
    matches!(
        t,
        b"return"
            | b"typeof"
            | b"case"
            | b"do"
            | b"else"
            | b"in"
            | b"of"
            | b"new"
            | b"delete"
            | b"void"
            | b"throw"
            | b"instanceof"
            | b"yield"
            | b"await"
    )
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// Length of a quoted literal from its opening quote; an unterminated one
/// runs to the end of its line.
fn string_len(rest: &[u8], q: u8, escapes: bool) -> usize {
    let mut j = 1;
    while j < rest.len() {
        match rest[j] {
            b'\\' if escapes => j += 2,
            c if c == q => {
                if !escapes && rest.get(j + 1) == Some(&q) {
                    j += 2; // C# verbatim strings double their quotes
                    continue;
                }
                return j + 1;
            }
            b'\n' if q == b'\'' => return j,
            _ => j += 1,
        }
    }
    rest.len()
}

/// A Rust char literal (`'x'`, `'\n'`, `'\u{1F600}'`), or `None` for a lifetime.
fn char_len(rest: &[u8]) -> Option<usize> {
    if rest.get(1) == Some(&b'\\') {
        return rest[2..]
            .iter()
            .position(|&c| c == b'\'')
            .map(|p| p + 3)
            .filter(|&n| n <= 12);
    }
    let ch = rest.get(1).map_or(1, |&c| utf8_len(c));
    (rest.get(1 + ch) == Some(&b'\'')).then_some(2 + ch)
}

/// `"…"` after a Rust `r`: no escapes.
fn rust_raw_len(rest: &[u8]) -> usize {
    rest[1..]
        .iter()
        .position(|&c| c == b'"')
        .map_or(rest.len(), |p| p + 2)
}

/// `#"…"#`, `##"…"##` after a Rust `r`, or `None` if no quote follows the hashes.
fn rust_hashed_raw_len(rest: &[u8]) -> Option<usize> {
    let hashes = rest.iter().take_while(|&&c| c == b'#').count();
    if rest.get(hashes) != Some(&b'"') {
        return None;
    }
    let mut close = vec![b'"'];
    close.extend(std::iter::repeat_n(b'#', hashes));
    let body = hashes + 1;
    Some(find(&rest[body..], &close).map_or(rest.len(), |p| body + p + close.len()))
}

/// C++ `R"delim(…)delim"`.
fn cpp_raw_len(rest: &[u8]) -> usize {
    let Some(open) = rest.iter().position(|&c| c == b'(') else {
        return string_len(rest, b'"', true);
    };
    let mut close = Vec::with_capacity(open + 1);
    close.push(b')');
    close.extend_from_slice(&rest[1..open]);
    close.push(b'"');
    find(&rest[open..], &close).map_or(rest.len(), |p| open + p + close.len())
}

/// A JavaScript template literal, `${…}` substitutions included (and
/// templates inside those, kept on a stack: hostile nesting must not
/// exhaust the call stack).
fn template_len(rest: &[u8]) -> usize {
    // One entry per open template: how many of its `${` are open.
    let mut open: Vec<usize> = vec![0];
    let mut j = 1;
    while j < rest.len() {
        let Some(depth) = open.last_mut() else {
            return j;
        };
        match rest[j] {
            b'\\' => j += 1,
            b'`' if *depth == 0 => {
                open.pop();
                if open.is_empty() {
                    return j + 1;
                }
            }
            b'$' if rest.get(j + 1) == Some(&b'{') => {
                *depth += 1;
                j += 1;
            }
            b'}' if *depth > 0 => *depth -= 1,
            b'`' => open.push(0),
            _ => {}
        }
        j += 1;
    }
    rest.len()
}

/// A regex literal `/…/flags` on one line, or `None` when the line has no closing slash.
fn regex_len(rest: &[u8]) -> Option<usize> {
    let mut in_class = false;
    let mut j = 1;
    while j < rest.len() {
        match rest[j] {
            b'\\' => j += 1,
            b'[' => in_class = true,
            b']' => in_class = false,
            b'/' if !in_class => {
                let flags = rest[j + 1..]
                    .iter()
                    .take_while(|c| c.is_ascii_alphabetic())
                    .count();
                return Some(j + 1 + flags);
            }
            b'\n' => return None,
            _ => {}
        }
        j += 1;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::token::Tokenizer;

    /// The probe must give exactly the parse's stream on ordinary code.
    fn assert_same(lang: Language, src: &str) {
        let parsed = Tokenizer::default().tokenize(lang, src.as_bytes()).tokens;
        let probed = Prober::default().tokens(lang, src.as_bytes()).unwrap();
        let show = |ts: &[Token]| -> Vec<String> {
            ts.iter()
                .map(|t| {
                    format!(
                        "{:?}:{}@{}",
                        t.kind,
                        &src[t.start as usize..t.end as usize],
                        t.line
                    )
                })
                .collect()
        };
        let key = |ts: &[Token]| -> Vec<(TokenKind, u32, u32)> {
            ts.iter().map(|t| (t.kind, t.code, t.line)).collect()
        };
        assert_eq!(
            key(&parsed),
            key(&probed),
            "\nparse: {:?}\nprobe: {:?}",
            show(&parsed),
            show(&probed)
        );
    }

    #[test]
    fn c_with_preprocessor() {
        assert_same(
            Language::C,
            "#include <stdio.h>\n#include \"local.h\"\n#define LIMIT 10 // max\n\
             #define MAX(a, b) \\\n    ((a) > (b) ? (a) : (b))\n#if defined(X) && LIMIT > 2\n\
             #pragma once\n#endif\n\
             static const char *name = \"a\" \"b\";\n\
             int f(unsigned int n, size_t len) {\n    int x = -1, y = n - 1;\n\
             \x20   char c = '\\n'; /* block\n comment */\n    if (x <= y && !c) return 0x1fUL;\n\
             \x20   for (int i = 0; i < 10; i++) { y += i >> 2; }\n    return NULL == name ? 1.5e-3 : true;\n}\n",
        );
    }

    #[test]
    fn c_macro_before_a_type_as_the_grammar_reads_it() {
        assert_same(
            Language::C,
            "#include <lua.h>\nLUA_API int (lua_gettop) (lua_State *L);\n\
             LUAI_FUNC const char *luaO_pushfstring (lua_State *L, const char *fmt);\n\
             API unsigned int f(void);\nint g(void) { return h(1.5, 2); }\n\
             static ossl_inline uint64_t widemul(uint32_t a) { return a; }\n\
             struct s {\n#ifdef USE_X\n  struct x *p;\n#endif\n};\n",
        );
    }

    #[test]
    fn cpp_templates_auto_and_this() {
        assert_same(
            Language::Cpp,
            "#include <vector>\nnamespace ns {\ntemplate <typename T>\nclass Box {\n public:\n\
             \x20 std::vector<std::vector<T>> rows;\n  auto size() const -> size_t { return this->rows.size() >> 1; }\n\
             \x20 static constexpr auto kRaw = R\"x(a \"quoted\" (paren))x\";\n};\n}  // namespace ns\n",
        );
    }

    #[test]
    fn rust_with_generics_lifetimes_and_macros() {
        assert_same(
            Language::Rust,
            "use std::collections::HashMap;\n\
             pub struct Wrap<'a, T> { items: Vec<Vec<&'a T>>, raw: &'static str }\n\
             impl<'a, T: Clone> Wrap<'a, T> {\n    fn get(&self, i: usize) -> Option<&'a T> {\n\
             \x20       let s = r#\"raw \"quoted\"\"#; let b = b'x'; let c = '\\u{1F600}';\n\
             \x20       let m: HashMap<u8, Vec<u32>> = HashMap::new();\n\
             \x20       if i >> 2 > 0 { return None; }\n        self.items.get(i)?.first().copied()\n    }\n}\n\
             macro_rules! twice { ($e:expr) => { $e; $e }; }\n\
             type F<'a>= Formatter<'a>; fn n() -> u8 { 842.min(0u8.max(1)) }\n\
             fn m(_: u8) { let _ = x.iter().map(|_| 0).collect::<Vec<_>>(); }\n\
             use std::io::Write as _;\n\
             fn a() { asm!(\"nop\", in(\"x8\") n, out(reg) _); vec![1, 2].len(); }\n",
        );
    }

    #[test]
    fn python_strings_and_continuations() {
        assert_same(
            Language::Python,
            "import os\n\ndef f(a, b=None):\n    \"\"\"Doc\n    string.\"\"\"\n\
             \x20   x = rb'\\x00' + f\"{a}!\" 'more'\n    if a is None and \\\n            b:\n\
             \x20       return True  # done\n    return [i ** 2 for i in range(10)], .5\n",
        );
    }

    #[test]
    fn javascript_regex_templates_and_chains() {
        assert_same(
            Language::JavaScript,
            "const re = /a[/]b\\//gi;\nfunction f(x, $y) {\n  const t = `v=${x + `${$y}`}`;\n\
             \x20 return x?.y ?? (x / 2) / 3 || this.z === undefined;\n}\nexport default f;\n",
        );
    }

    #[test]
    fn go_java_and_csharp_literals() {
        assert_same(
            Language::Go,
            "package main\n\nfunc f(s string) rune {\n\traw := `a\\nb`\n\tif s == \"\" || raw == nil { return 'x' }\n\treturn 0\n}\n",
        );
        assert_same(
            Language::Java,
            "class A {\n  String s = \"\"\"\n    text block\n    \"\"\";\n  int f(int n) { return n > 0 ? this.g('c') : null; }\n}\n",
        );
        assert_same(
            Language::CSharp,
            "class A {\n  string p = @\"C:\\dir\"\"q\";\n  int F(int n) { var s = $\"{n}\"; return n >= 0 ? 1 : -1; }\n}\n",
        );
    }

    const PROBED: [Language; 9] = [
        Language::C,
        Language::Cpp,
        Language::Rust,
        Language::Go,
        Language::Java,
        Language::CSharp,
        Language::JavaScript,
        Language::TypeScript,
        Language::Python,
    ];

    proptest::proptest! {
        /// Every scanned file goes through the probe: whatever the bytes, it
        /// ends, and its tokens are non-empty spans inside the file, in order.
        #[test]
        fn any_bytes_give_sound_tokens(
            bytes in proptest::collection::vec(
                proptest::sample::select(b"ab1_ \n\t\"'`$#{}()[]<>/*\\-+.:!r@R\xc3\xa9".to_vec()),
                0..300,
            ),
            lang in 0usize..PROBED.len(),
        ) {
            let tokens = Prober::default().tokens(PROBED[lang], &bytes).unwrap();
            let mut previous = (0u32, 1u32);
            for t in &tokens {
                proptest::prop_assert!(t.start < t.end && t.end as usize <= bytes.len());
                proptest::prop_assert!(t.start >= previous.0 && t.line >= previous.1);
                proptest::prop_assert!(t.line <= t.end_line);
                previous = (t.start, t.line);
            }
        }
    }

    #[test]
    fn hostile_nesting_does_not_exhaust_the_stack() {
        let deep = format!("x = `{}", "${`".repeat(200_000));
        let tokens = Prober::default()
            .tokens(Language::JavaScript, deep.as_bytes())
            .unwrap();
        assert_eq!(tokens.len(), 3);
    }

    #[test]
    fn text_is_exact_and_unknown_grammars_have_no_probe() {
        let text = b"some words 12 \"q\" + more";
        let probed = Prober::default().tokens(Language::Text, text).unwrap();
        assert_eq!(probed, lex_text(text, TokenKind::Fixed).tokens);
        assert!(Prober::default().tokens(Language::Ruby, b"x = 1").is_none());
        assert!(Prober::default()
            .tokens(Language::Php, b"<?php $x = 1;")
            .is_none());
    }

    #[test]
    fn keywords_and_operators_come_from_the_grammar() {
        let lexicon = Lexicon::new(Language::C).unwrap();
        for word in ["while", "return", "#define", "int", "NULL"] {
            assert!(
                lexicon.keywords.contains(&text_code(word.as_bytes())),
                "{word}"
            );
        }
        assert!(!lexicon.keywords.contains(&text_code(b"printf")));
        assert!(lexicon.operators.contains(&pack(b"<<=")));
        assert!(
            !lexicon.operators.contains(&pack(b"]]")),
            "brackets are never joined"
        );
        assert_eq!(lexicon.longest_operator, 3);
        // The first-byte table leads the longest match to every operator.
        assert_eq!(lexicon.lengths[b'<' as usize], 0b1110);
        assert_eq!(lexicon.lengths[b';' as usize], 0b10);
        for lang in [
            Language::C,
            Language::Rust,
            Language::JavaScript,
            Language::Python,
        ] {
            let lexicon = Lexicon::new(lang).unwrap();
            for &op in &lexicon.operators {
                let (first, len) = first_and_len(op);
                assert_eq!(pack(&op.to_be_bytes()[4 - len..]), op);
                assert_ne!(
                    lexicon.lengths[first as usize] & (1 << len),
                    0,
                    "{lang:?} {op:#x}"
                );
            }
        }
    }
}
