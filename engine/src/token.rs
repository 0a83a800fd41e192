//! One normalized token stream per file.
//!
//! Comments and whitespace vanish, so re-indenting or re-commenting a copy
//! changes nothing. Literals collapse to their class (string, number, char),
//! so changed constants change nothing. Identifiers keep a hash of their name,
//! but only so that [`crate::winnow`] can encode *where the same name was used
//! before*: a consistently renamed copy then hashes exactly like the original,
//! while code of the same shape with a different pattern of names does not.
//! Keywords, operators and punctuation keep their text, and their codes do not
//! depend on the grammar, so C pasted into C++ still matches.

use std::ops::ControlFlow;
use std::time::{Duration, Instant};

use tree_sitter::{Parser, TreeCursor};
use xxhash_rust::xxh3::xxh3_64;

use crate::lang::Language;

/// What a token stands for once normalized.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TokenKind {
    /// A name; `code` is a hash of the name, only ever compared within a file.
    Ident,
    /// Anything else; `code` is the normalized value.
    Fixed,
}

/// A normalized token with where it came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Token {
    pub kind: TokenKind,
    pub code: u32,
    /// Byte span in the file, end exclusive.
    pub start: u32,
    pub end: u32,
    /// 1-based lines of the first and last byte.
    pub line: u32,
    pub end_line: u32,
}

/// Codes of literal classes: every string is the same string.
pub mod class {
    pub const STRING: u32 = 0x5354_5221;
    pub const NUMBER: u32 = 0x4e55_4d21;
    pub const CHAR: u32 = 0x4348_5221;
}

/// The tokens of one file.
#[derive(Clone, Debug, Default)]
pub struct TokenStream {
    pub tokens: Vec<Token>,
    /// True when the grammar could not be used (unknown language, or the
    /// parse ran out of time) and the plain-text lexer produced the tokens.
    pub fallback: bool,
}

impl TokenStream {
    pub fn len(&self) -> usize {
        self.tokens.len()
    }

    pub fn is_empty(&self) -> bool {
        self.tokens.is_empty()
    }
}

/// How a grammar's node kind is turned into tokens, computed once per grammar.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum NodeClass {
    /// Dropped with everything below it.
    Comment,
    /// One literal token for the whole subtree.
    Literal(u32),
    /// Text re-lexed by the plain lexer (macro bodies).
    Relex,
    /// A leaf that names something.
    Ident,
    /// A leaf kept by its text; anonymous kinds carry the code of their name.
    Verbatim(Option<u32>),
}

pub(crate) fn text_code(text: &[u8]) -> u32 {
    let h = xxh3_64(text);
    (h ^ (h >> 32)) as u32
}

/// What a literal says, without how it is written: a string or character
/// literal loses its kind or encoding prefix (`L'x'`, `u8"x"`, `b"x"`,
/// `r"x"`, `f"x"`) and its quotes, single, double, backtick or tripled.
/// readline 8.3 wrote `case L' ':` where 8.2 had `case ' ':`, and
/// formatters turn `'x'` into `"x"`: the values are the same, and a copy's
/// values are what tells it from another table of the same shape.
/// Numbers and anything else are their text.
pub fn literal_text(text: &[u8]) -> &[u8] {
    let Some(p) = text
        .iter()
        .position(|c| matches!(c, b'"' | b'\'' | b'`'))
        .filter(|&p| p <= 3 && text[..p].iter().all(u8::is_ascii_alphanumeric))
    else {
        return text;
    };
    let body = &text[p..];
    let q = body[0];
    let lead = body.iter().take_while(|&&c| c == q).count();
    let trail = body.iter().rev().take_while(|&&c| c == q).count();
    let n = lead.min(trail).min(3);
    if 2 * n >= body.len() {
        return &[];
    }
    &body[n..body.len() - n]
}

fn node_class(name: &str, named: bool) -> NodeClass {
    if name.contains("comment") {
        return NodeClass::Comment;
    }
    if !named {
        return NodeClass::Verbatim(Some(text_code(name.as_bytes())));
    }
    let literal = |needles: &[&str]| needles.iter().any(|n| name.contains(n));
    if literal(&["char_literal", "character_literal", "rune_literal"]) {
        NodeClass::Literal(class::CHAR)
    } else if literal(&["string", "heredoc", "regex"]) && !name.contains("content") {
        NodeClass::Literal(class::STRING)
    } else if literal(&[
        "number",
        "integer",
        "float",
        "int_literal",
        "real_literal",
        "imaginary",
    ]) {
        NodeClass::Literal(class::NUMBER)
    } else if name == "preproc_arg" {
        NodeClass::Relex
    } else if name.ends_with("identifier")
        || matches!(
            name,
            "name" | "constant" | "instance_variable" | "class_variable" | "global_variable"
        )
    {
        NodeClass::Ident
    } else {
        NodeClass::Verbatim(None)
    }
}

pub(crate) fn grammar_of(lang: Language) -> Option<tree_sitter::Language> {
    Some(match lang {
        Language::C => tree_sitter_c::LANGUAGE.into(),
        Language::Cpp => tree_sitter_cpp::LANGUAGE.into(),
        Language::Java => tree_sitter_java::LANGUAGE.into(),
        Language::Python => tree_sitter_python::LANGUAGE.into(),
        Language::JavaScript => tree_sitter_javascript::LANGUAGE.into(),
        Language::TypeScript => tree_sitter_typescript::LANGUAGE_TYPESCRIPT.into(),
        Language::Tsx => tree_sitter_typescript::LANGUAGE_TSX.into(),
        Language::Go => tree_sitter_go::LANGUAGE.into(),
        Language::Rust => tree_sitter_rust::LANGUAGE.into(),
        Language::CSharp => tree_sitter_c_sharp::LANGUAGE.into(),
        Language::Php => tree_sitter_php::LANGUAGE_PHP.into(),
        Language::Ruby => tree_sitter_ruby::LANGUAGE.into(),
        Language::Text | Language::Prose => return None,
    })
}

/// Grammar crate versions, recorded in the index: a grammar upgrade changes
/// token streams, so an index built with other grammars must be rebuilt.
pub const GRAMMAR_VERSIONS: &str = "tree-sitter=0.27.1 c=0.24.2 cpp=0.23.4 java=0.23.5 \
python=0.25.0 javascript=0.25.0 typescript=0.23.2 go=0.25.0 rust=0.24.2 c-sharp=0.23.5 \
php=0.25.1 ruby=0.23.1";

struct Grammar {
    parser: Parser,
    classes: Vec<NodeClass>,
}

impl Grammar {
    fn new(language: tree_sitter::Language) -> Grammar {
        let classes = (0..language.node_kind_count())
            .map(|id| {
                let id = id as u16;
                let name = language.node_kind_for_id(id).unwrap_or("");
                node_class(name, language.node_kind_is_named(id))
            })
            .collect();
        let mut parser = Parser::new();
        parser
            .set_language(&language)
            .expect("bundled grammar matches the tree-sitter ABI");
        Grammar { parser, classes }
    }
}

/// Reusable tokenizer; keeps one parser per language. Not `Sync`: make one per thread.
pub struct Tokenizer {
    grammars: Vec<(Language, Grammar)>,
    parse_timeout: Duration,
}

impl Default for Tokenizer {
    fn default() -> Self {
        Tokenizer::new(Duration::from_secs(10))
    }
}

impl Tokenizer {
    /// `parse_timeout` bounds pathological inputs; past it the plain lexer is used.
    pub fn new(parse_timeout: Duration) -> Tokenizer {
        Tokenizer {
            grammars: Vec::new(),
            parse_timeout,
        }
    }

    /// Tokenize a file. Never fails: syntax errors still give tokens from the
    /// parts tree-sitter recovered, and unusable grammars fall back to the plain lexer.
    pub fn tokenize(&mut self, lang: Language, bytes: &[u8]) -> TokenStream {
        let Some(language) = grammar_of(lang) else {
            return lex_text(bytes, TokenKind::Fixed);
        };
        let deadline = Instant::now() + self.parse_timeout;
        let grammar = self.grammar(lang, language);
        // The callback runs at every parse step; reading the clock on every
        // 64th call bounds the parse just as well for less.
        let mut calls = 0u32;
        let mut progress = |_: &tree_sitter::ParseState| {
            calls = calls.wrapping_add(1);
            if calls.is_multiple_of(64) && Instant::now() > deadline {
                ControlFlow::Break(())
            } else {
                ControlFlow::Continue(())
            }
        };
        let options = tree_sitter::ParseOptions::new().progress_callback(&mut progress);
        let mut read = |offset: usize, _| &bytes[offset.min(bytes.len())..];
        let tree = grammar
            .parser
            .parse_with_options(&mut read, None, Some(options));
        grammar.parser.reset();
        match tree {
            Some(tree) => {
                let mut out = TokenStream::default();
                walk(&mut tree.walk(), bytes, &grammar.classes, &mut out.tokens);
                out
            }
            None => lex_text(bytes, TokenKind::Fixed),
        }
    }

    /// Parse only, for measuring what tokenizing adds on top of the parse.
    pub fn parse_only(&mut self, lang: Language, bytes: &[u8]) -> bool {
        match grammar_of(lang) {
            Some(language) => self
                .grammar(lang, language)
                .parser
                .parse(bytes, None)
                .is_some(),
            None => false,
        }
    }

    fn grammar(&mut self, lang: Language, language: tree_sitter::Language) -> &mut Grammar {
        let index = match self.grammars.iter().position(|(l, _)| *l == lang) {
            Some(i) => i,
            None => {
                self.grammars.push((lang, Grammar::new(language)));
                self.grammars.len() - 1
            }
        };
        &mut self.grammars[index].1
    }
}

fn walk(cursor: &mut TreeCursor, bytes: &[u8], classes: &[NodeClass], out: &mut Vec<Token>) {
    loop {
        let node = cursor.node();
        let class = classes
            .get(node.kind_id() as usize)
            .copied()
            .unwrap_or(NodeClass::Verbatim(None));
        let descend = !matches!(
            class,
            NodeClass::Comment | NodeClass::Literal(_) | NodeClass::Relex
        );
        if !(descend && cursor.goto_first_child()) {
            emit(node, class, bytes, out);
            loop {
                if cursor.goto_next_sibling() {
                    break;
                }
                if !cursor.goto_parent() {
                    return;
                }
            }
        }
    }
}

fn emit(node: tree_sitter::Node, class: NodeClass, bytes: &[u8], out: &mut Vec<Token>) {
    let (start, end) = (node.start_byte(), node.end_byte().min(bytes.len()));
    if start >= end {
        return;
    }
    let text = &bytes[start..end];
    let (kind, code) = match class {
        NodeClass::Comment => return,
        NodeClass::Relex => {
            let line = node.start_position().row as u32 + 1;
            out.extend(relex_at(text, start as u32, line));
            return;
        }
        NodeClass::Literal(code) => (TokenKind::Fixed, code),
        NodeClass::Ident => (TokenKind::Ident, text_code(text)),
        NodeClass::Verbatim(Some(code)) => (TokenKind::Fixed, code),
        NodeClass::Verbatim(None) => {
            if text.iter().all(u8::is_ascii_whitespace) {
                return;
            }
            (TokenKind::Fixed, text_code(text))
        }
    };
    out.push(Token {
        kind,
        code,
        start: start as u32,
        end: end as u32,
        line: node.start_position().row as u32 + 1,
        end_line: node.end_position().row as u32 + 1,
    });
}

/// The plain-text lexer: words, numbers, double-quoted strings, and single
/// punctuation characters. `words` says whether words count as names.
pub fn lex_text(bytes: &[u8], words: TokenKind) -> TokenStream {
    let mut tokens = Vec::new();
    let mut line = 1u32;
    let mut i = 0usize;
    while i < bytes.len() {
        let b = bytes[i];
        if b == b'\n' {
            line += 1;
            i += 1;
            continue;
        }
        if b.is_ascii_whitespace() {
            i += 1;
            continue;
        }
        let start = i;
        let (kind, code) = if is_word_start(b) {
            i = scan(bytes, i, |c| {
                c.is_ascii_alphanumeric() || c == b'_' || c == b'$'
            });
            (words, text_code(&bytes[start..i]))
        } else if b.is_ascii_digit() {
            i = scan(bytes, i, |c| {
                c.is_ascii_alphanumeric() || c == b'.' || c == b'_'
            });
            (TokenKind::Fixed, class::NUMBER)
        } else if b == b'"' {
            i = string_end(bytes, i);
            (TokenKind::Fixed, class::STRING)
        } else {
            i += utf8_len(b).min(bytes.len() - i);
            (TokenKind::Fixed, text_code(&bytes[start..i]))
        };
        tokens.push(Token {
            kind,
            code,
            start: start as u32,
            end: i as u32,
            line,
            end_line: line,
        });
    }
    TokenStream {
        tokens,
        fallback: true,
    }
}

fn is_word_start(b: u8) -> bool {
    b.is_ascii_alphabetic() || b == b'_' || b == b'$'
}

fn scan(bytes: &[u8], from: usize, keep: impl Fn(u8) -> bool) -> usize {
    from + bytes[from..].iter().take_while(|&&c| keep(c)).count()
}

/// End of a double-quoted string on one line; an unterminated quote is one token.
fn string_end(bytes: &[u8], from: usize) -> usize {
    let mut i = from + 1;
    while i < bytes.len() && bytes[i] != b'\n' {
        match bytes[i] {
            b'\\' => i += 2,
            b'"' => return i + 1,
            _ => i += 1,
        }
    }
    from + 1
}

/// A macro body as the grammar re-lexes it (every word a name), placed at
/// byte `start` and line `line` of the file.
pub(crate) fn relex_at(text: &[u8], start: u32, line: u32) -> impl Iterator<Item = Token> {
    lex_text(text, TokenKind::Ident)
        .tokens
        .into_iter()
        .map(move |t| Token {
            start: t.start + start,
            end: t.end + start,
            line: t.line + line - 1,
            end_line: t.end_line + line - 1,
            ..t
        })
}

/// Length of the UTF-8 sequence a byte starts.
pub(crate) fn utf8_len(first: u8) -> usize {
    match first {
        0xf0..=0xff => 4,
        0xe0..=0xef => 3,
        0xc0..=0xdf => 2,
        _ => 1,
    }
}

#[cfg(test)]
mod tests {

    #[test]
    fn literal_text_drops_prefixes_and_quotes() {
        let t = |s: &str| String::from_utf8(literal_text(s.as_bytes()).to_vec()).unwrap();
        assert_eq!(t("L' '"), " ");
        assert_eq!(t("' '"), " ");
        assert_eq!(t("u8\"abc\""), "abc");
        assert_eq!(t("'abc'"), t("\"abc\""));
        assert_eq!(t("\"\"\"doc\"\"\""), "doc");
        assert_eq!(t("`tpl`"), "tpl");
        assert_eq!(t("''"), "");
        // An escaped quote at the end stays part of the value.
        assert_eq!(t("'\\''"), "\\'");
        // Numbers, and words that are not a prefix, are their text.
        assert_eq!(t("0x1F"), "0x1F");
        assert_eq!(t("prefix'x'"), "prefix'x'");
    }
    use super::*;

    fn codes(lang: Language, src: &str) -> Vec<(TokenKind, u32)> {
        Tokenizer::default()
            .tokenize(lang, src.as_bytes())
            .tokens
            .iter()
            .map(|t| (t.kind, t.code))
            .collect()
    }

    #[test]
    fn comments_and_layout_do_not_matter() {
        let a = "int f(int a) { return a + 1; }";
        let b = "/* header */\nint\nf(int a)   // why\n{\n    return a+1;\n}\n";
        assert_eq!(codes(Language::C, a), codes(Language::C, b));
    }

    #[test]
    fn literals_collapse_to_classes() {
        let a = r#"x = f("hello", 42, 'c');"#;
        let b = r#"x = f("other text", 0x10, 'd');"#;
        assert_eq!(codes(Language::C, a), codes(Language::C, b));
        let py_a = "x = f('a', 1.5)\n";
        let py_b = "x = f(\"\"\"doc\"\"\", 3)\n";
        assert_eq!(codes(Language::Python, py_a), codes(Language::Python, py_b));
    }

    #[test]
    fn identifiers_are_marked_and_keywords_kept() {
        let toks = Tokenizer::default().tokenize(Language::Rust, b"fn main() { let x = y; }");
        let kinds: Vec<TokenKind> = toks.tokens.iter().map(|t| t.kind).collect();
        use TokenKind::{Fixed as F, Ident as I};
        assert_eq!(kinds, vec![F, I, F, F, F, F, I, F, I, F, F]);
        assert!(!toks.fallback);
    }

    #[test]
    fn c_and_cpp_tokens_agree() {
        let src = "static int add(int a, int b) { if (a > b) return a - b; return a + b; }";
        assert_eq!(codes(Language::C, src), codes(Language::Cpp, src));
    }

    #[test]
    fn spans_and_lines_point_into_the_file() {
        let src = "def f(a):\n    return a * 2\n";
        let toks = Tokenizer::default().tokenize(Language::Python, src.as_bytes());
        let ret = toks
            .tokens
            .iter()
            .find(|t| &src[t.start as usize..t.end as usize] == "return");
        assert_eq!(ret.map(|t| t.line), Some(2));
        let multiline = "x = \"\"\"a\nb\nc\"\"\"\n";
        let toks = Tokenizer::default().tokenize(Language::Python, multiline.as_bytes());
        let s = toks
            .tokens
            .iter()
            .find(|t| t.code == class::STRING)
            .unwrap();
        assert_eq!((s.line, s.end_line), (1, 3));
    }

    #[test]
    fn syntax_errors_still_give_tokens() {
        let toks = Tokenizer::default().tokenize(Language::C, b"int f( { return 1 +; }}} x y z");
        assert!(toks.len() >= 8, "got {}", toks.len());
        assert!(!toks.fallback);
    }

    #[test]
    fn every_grammar_loads_and_tokenizes() {
        let mut t = Tokenizer::default();
        for lang in Language::ALL {
            let src: &[u8] = if lang == Language::Php {
                b"<?php a = b + 1;\n"
            } else {
                b"a = b + 1;\n"
            };
            let toks = t.tokenize(lang, src);
            assert!(toks.len() >= 4, "{lang:?} gave {}", toks.len());
        }
    }

    #[test]
    fn macro_bodies_are_relexed() {
        let a = codes(Language::C, "#define MAX(a, b) ((a) > (b) ? (a) : (b))\n");
        let b = codes(Language::C, "#define MAX(a, b) ((a)>(b)?(a):(b)) /* x */\n");
        assert_eq!(a, b);
        assert!(a.len() > 10);
    }

    #[test]
    fn text_lexer_handles_anything() {
        let toks = lex_text(
            "é x1 = \"q\\\"\" 12.5e3;\n\"open".as_bytes(),
            TokenKind::Fixed,
        );
        let texts: Vec<u32> = toks.tokens.iter().map(|t| t.code).collect();
        assert_eq!(texts.len(), 8);
        assert_eq!(texts[3], class::STRING);
        assert_eq!(texts[4], class::NUMBER);
        assert_eq!(toks.tokens.last().unwrap().line, 2);
    }
}
