//! Names the function, method or class around a line range.
//!
//! A reviewer reads "`rl_insert_text` in text.c" faster than "lines
//! 1204–1290", and two findings in the same function are one decision. The
//! matcher works on lexer tokens and never needs a tree; this module parses
//! a file with tree-sitter only when the file has findings, once per file,
//! and answers for every finding of it.

use tree_sitter::{Node, Parser};

use crate::lang::Language;
use crate::stream::SymbolStream;
use crate::token::grammar_of;

/// One named definition of a file: a function, method, class, struct,
/// module or namespace, with the names of the definitions around it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Definition {
    /// Qualified by the enclosing definitions, in the language's own way
    /// (`Outer::inner` in C++, Rust and PHP, `Outer.inner` elsewhere).
    pub name: String,
    /// 1-based, inclusive.
    pub lines: [u32; 2],
    /// Nesting depth: 0 for top-level definitions.
    pub depth: u32,
}

/// The definitions of a file, in source order; files too large or too deep
/// for a parse within `budget` give what was parsed before it ran out.
pub struct Symbols {
    definitions: Vec<Definition>,
}

/// Past this many bytes a file is not parsed for names: a finding in it keeps
/// its line ranges, which are what the reviewer needs first.
const MAX_PARSED_BYTES: usize = 8 << 20;

impl Symbols {
    /// Parses `bytes` as `language`; languages without a grammar (text,
    /// prose) and files past [`MAX_PARSED_BYTES`] have no definitions.
    pub fn parse(language: Language, bytes: &[u8]) -> Symbols {
        Symbols::parse_parts(language, bytes, &[])
    }

    /// Parses only `parts` of the file (all of it when empty): byte ranges,
    /// ascending and apart. Positions stay the file's.
    fn parse_parts(language: Language, bytes: &[u8], parts: &[tree_sitter::Range]) -> Symbols {
        let mut definitions = Vec::new();
        let size: usize = match parts {
            [] => bytes.len(),
            _ => parts.iter().map(|r| r.end_byte - r.start_byte).sum(),
        };
        if size <= MAX_PARSED_BYTES {
            if let Some(grammar) = grammar_of(language) {
                let mut parser = Parser::new();
                let ready = parser.set_language(&grammar).is_ok()
                    && (parts.is_empty() || parser.set_included_ranges(parts).is_ok());
                if ready {
                    if let Some(tree) = parser.parse(bytes, None) {
                        let separator = separator(language);
                        collect(tree.root_node(), bytes, separator, "", 0, &mut definitions);
                    }
                }
            }
        }
        Symbols { definitions }
    }

    /// The definitions that can hold `ranges` (line ranges of findings),
    /// parsing no more of the file than it takes. In a vendored tree nearly
    /// every file has findings, and a parse of each for names cost more
    /// than all the matching (30 % of a scan of vendored C). In a brace
    /// language whose braces balance, a range that goes on past the end of
    /// a top-level item has no enclosing definition, and one that does not
    /// lies in one top-level item: only those items are parsed. `stream` is
    /// the file's token stream as the scan lexed it.
    pub fn for_ranges(
        language: Language,
        bytes: &[u8],
        stream: &SymbolStream,
        ranges: &[[u32; 2]],
    ) -> Symbols {
        let Some(top) = TopLevel::of(language, stream, bytes) else {
            return Symbols::parse(language, bytes);
        };
        let lines = LineStarts::of(bytes);
        let mut parts: Vec<tree_sitter::Range> = Vec::new();
        let mut items: Vec<[usize; 2]> = ranges
            .iter()
            .filter_map(|&r| top.item_bytes(r, &lines))
            .collect();
        items.sort_unstable();
        for [start, end] in items {
            match parts.last_mut() {
                Some(p) if start <= p.end_byte => {
                    p.end_byte = p.end_byte.max(end);
                    p.end_point = lines.point(p.end_byte);
                }
                _ => parts.push(tree_sitter::Range {
                    start_byte: start,
                    end_byte: end,
                    start_point: lines.point(start),
                    end_point: lines.point(end),
                }),
            }
        }
        let size: usize = parts.iter().map(|r| r.end_byte - r.start_byte).sum();
        match parts.len() {
            0 => Symbols {
                definitions: Vec::new(),
            },
            // Most of the file anyway: one plain parse.
            _ if size * 4 >= bytes.len() * 3 => Symbols::parse(language, bytes),
            _ => Symbols::parse_parts(language, bytes, &parts),
        }
    }

    pub fn definitions(&self) -> &[Definition] {
        &self.definitions
    }

    /// The innermost definition that holds the whole of `lines`, or none when
    /// the range spans several definitions or lies outside any.
    pub fn enclosing(&self, lines: [u32; 2]) -> Option<&Definition> {
        self.definitions
            .iter()
            .filter(|d| d.lines[0] <= lines[0] && lines[1] <= d.lines[1])
            .max_by_key(|d| (d.depth, d.lines[0]))
    }
}

/// Where the top-level items of a brace language end, read from the
/// lexer's tokens: the lines of the `}` tokens that close a top-level item.
///
/// Every definition is a top-level item or lies inside one, so a line range
/// that goes on past the end of a top-level item (one closing strictly
/// inside it) has no enclosing definition. Only languages whose every
/// definition with a body is braced qualify: not C# and PHP, whose
/// namespaces may be a `namespace X;` line holding the rest of the file,
/// nor Python and Ruby.
struct TopLevel {
    /// Ascending.
    closes: Vec<Close>,
}

/// The `}` that ends a top-level item.
#[derive(Clone, Copy)]
struct Close {
    line: u32,
    /// The byte after it.
    after: usize,
    /// Whether another token follows on its line (`} int g(void) {`).
    followed: bool,
}

impl TopLevel {
    /// `None` when the language does not qualify or the braces do not
    /// balance (unbalanced `#if` branches, a macro body with a lone brace):
    /// then only a parse can tell.
    fn of(language: Language, stream: &SymbolStream, bytes: &[u8]) -> Option<TopLevel> {
        use Language::*;
        if !matches!(
            language,
            C | Cpp | Java | JavaScript | TypeScript | Tsx | Go | Rust
        ) {
            return None;
        }
        let mut depth = 0u32;
        let mut closes = Vec::new();
        for i in 0..stream.len() {
            let (a, b) = (stream.starts[i] as usize, stream.ends[i] as usize);
            match bytes.get(a..b)? {
                b"{" => depth += 1,
                b"}" => {
                    depth = depth.checked_sub(1)?;
                    if depth == 0 {
                        closes.push(Close {
                            line: stream.lines[i],
                            after: b,
                            followed: stream.lines.get(i + 1) == Some(&stream.lines[i]),
                        });
                    }
                }
                _ => {}
            }
        }
        (depth == 0).then_some(TopLevel { closes })
    }

    /// The bytes of the top-level item that holds all of `lines`, if one
    /// can: none when a top-level item ends strictly inside them. The item
    /// runs from the end of the previous one (the next line, unless another
    /// token follows on its line) to its own end (likewise).
    fn item_bytes(&self, lines: [u32; 2], at: &LineStarts) -> Option<[usize; 2]> {
        let next = self.closes.partition_point(|c| c.line < lines[0]);
        let mut end = at.len;
        for c in &self.closes[next..] {
            if c.line > lines[0] && c.line < lines[1] {
                return None;
            }
            // An item may end and the next begin on the range's last line:
            // either can hold it.
            if c.line > lines[1] || (c.line == lines[1] && !c.followed) {
                end = if c.followed {
                    c.after
                } else {
                    at.start(c.line + 1)
                };
                break;
            }
        }
        let start = match next.checked_sub(1).map(|i| self.closes[i]) {
            None => 0,
            Some(c) if c.followed => c.after,
            Some(c) => at.start(c.line + 1),
        };
        (start < end).then_some([start, end])
    }
}

/// Byte offsets of a file's line starts, for tree-sitter's ranges.
struct LineStarts {
    starts: Vec<usize>,
    len: usize,
}

impl LineStarts {
    fn of(bytes: &[u8]) -> LineStarts {
        let mut starts = vec![0];
        starts.extend(
            (0..bytes.len())
                .filter(|&i| bytes[i] == b'\n')
                .map(|i| i + 1),
        );
        LineStarts {
            starts,
            len: bytes.len(),
        }
    }

    /// Start of 1-based `line`; the file's end past its last line.
    fn start(&self, line: u32) -> usize {
        let i = (line.max(1) - 1) as usize;
        self.starts
            .get(i)
            .copied()
            .unwrap_or(self.len)
            .min(self.len)
    }

    fn point(&self, byte: usize) -> tree_sitter::Point {
        let row = self.starts.partition_point(|&s| s <= byte) - 1;
        tree_sitter::Point {
            row,
            column: byte - self.starts[row],
        }
    }
}

fn separator(language: Language) -> &'static str {
    match language {
        Language::Cpp | Language::Rust | Language::Php => "::",
        _ => ".",
    }
}

/// What a node kind defines, judged by the kind names the grammars share.
fn is_definition(kind: &str) -> bool {
    matches!(
        kind,
        "function_definition"
            | "function_declaration"
            | "generator_function_declaration"
            | "method_declaration"
            | "method_definition"
            | "constructor_declaration"
            | "destructor_declaration"
            | "operator_declaration"
            | "function_item"
            | "impl_item"
            | "trait_item"
            | "mod_item"
            | "struct_item"
            | "enum_item"
            | "class_declaration"
            | "class_definition"
            | "class_specifier"
            | "struct_specifier"
            | "union_specifier"
            | "interface_declaration"
            | "enum_declaration"
            | "record_declaration"
            | "struct_declaration"
            | "trait_declaration"
            | "namespace_definition"
            | "namespace_declaration"
            | "method"
            | "singleton_method"
            | "class"
            | "module"
    )
}

fn collect(
    node: Node,
    bytes: &[u8],
    separator: &str,
    prefix: &str,
    depth: u32,
    out: &mut Vec<Definition>,
) {
    let mut cursor = node.walk();
    for child in node.named_children(&mut cursor) {
        let named = is_definition(child.kind())
            .then(|| definition_name(child, bytes))
            .flatten();
        match named {
            Some(name) => {
                let qualified = if prefix.is_empty() {
                    name
                } else {
                    format!("{prefix}{separator}{name}")
                };
                let start = child.start_position().row as u32 + 1;
                let end = child.end_position();
                // A node that ends at column 0 ends on the line before.
                let end = if end.column == 0 && end.row as u32 + 1 > start {
                    end.row as u32
                } else {
                    end.row as u32 + 1
                };
                out.push(Definition {
                    name: qualified.clone(),
                    lines: [start, end],
                    depth,
                });
                collect(child, bytes, separator, &qualified, depth + 1, out);
            }
            None => collect(child, bytes, separator, prefix, depth, out),
        }
    }
}

/// The name a definition node declares; `None` for anonymous ones (a
/// struct used only as a type, an anonymous class), which then do not count
/// as definitions.
fn definition_name(node: Node, bytes: &[u8]) -> Option<String> {
    // C-family structs and unions only define something with a body.
    if matches!(
        node.kind(),
        "struct_specifier" | "union_specifier" | "class_specifier"
    ) && node.child_by_field_name("body").is_none()
    {
        return None;
    }
    let name = match node.kind() {
        // Rust's `impl Type` and `impl Trait for Type`: named by the type.
        "impl_item" => node.child_by_field_name("type"),
        // C and C++ functions: the name sits inside the declarator chain.
        "function_definition" if node.child_by_field_name("name").is_none() => {
            declarator_name(node)
        }
        _ => node.child_by_field_name("name"),
    }?;
    let text = name.utf8_text(bytes).ok()?;
    let text: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    (!text.is_empty() && text.len() <= 200).then_some(text)
}

fn declarator_name(node: Node) -> Option<Node> {
    let mut current = node.child_by_field_name("declarator")?;
    // Pointer, reference and function declarators wrap the name; a bounded
    // walk keeps a malformed tree from looping.
    for _ in 0..16 {
        match current.kind() {
            "identifier"
            | "field_identifier"
            | "qualified_identifier"
            | "destructor_name"
            | "operator_name"
            | "type_identifier" => return Some(current),
            _ => current = current.child_by_field_name("declarator")?,
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(language: Language, src: &str) -> Vec<(String, [u32; 2])> {
        Symbols::parse(language, src.as_bytes())
            .definitions()
            .iter()
            .map(|d| (d.name.clone(), d.lines))
            .collect()
    }

    #[test]
    fn c_functions_and_structs_with_bodies() {
        let src = "struct point { int x; int y; };\n\
                   struct point *origin(void);\n\
                   static int\n\
                   add (int a, int b)\n\
                   {\n  return a + b;\n}\n\
                   char **split(const char *s) {\n  return 0;\n}\n";
        assert_eq!(
            names(Language::C, src),
            vec![
                ("point".to_string(), [1, 1]),
                ("add".to_string(), [3, 7]),
                ("split".to_string(), [8, 10]),
            ]
        );
    }

    #[test]
    fn methods_are_qualified_by_their_class() {
        let java = "package p;\nclass Codec {\n  int encode(int x) {\n    return x;\n  }\n}\n";
        assert_eq!(
            names(Language::Java, java),
            vec![
                ("Codec".to_string(), [2, 6]),
                ("Codec.encode".to_string(), [3, 5])
            ]
        );
        let rust = "struct S;\nimpl S {\n    fn f(&self) {}\n}\n";
        assert_eq!(
            names(Language::Rust, rust),
            vec![
                ("S".to_string(), [1, 1]),
                ("S".to_string(), [2, 4]),
                ("S::f".to_string(), [3, 3])
            ]
        );
        let cpp = "namespace ns {\nclass A {\n  void g() {}\n};\n}\nvoid ns::A::h() {}\n";
        let got = names(Language::Cpp, cpp);
        assert!(got.contains(&("ns::A::g".to_string(), [3, 3])), "{got:?}");
        assert!(got.contains(&("ns::A::h".to_string(), [6, 6])), "{got:?}");
    }

    #[test]
    fn the_innermost_definition_holding_the_whole_range_encloses_it() {
        let py = "class Session:\n    def get(self, url):\n        a = 1\n        return a\n\n    def post(self):\n        pass\n";
        let symbols = Symbols::parse(Language::Python, py.as_bytes());
        assert_eq!(symbols.enclosing([3, 4]).unwrap().name, "Session.get");
        // Across two methods: the class.
        assert_eq!(symbols.enclosing([3, 7]).unwrap().name, "Session");
        // Beyond every definition: none.
        assert!(symbols.enclosing([1, 9]).is_none());
        assert!(Symbols::parse(Language::Text, b"def f(): pass")
            .definitions()
            .is_empty());
    }

    fn lexed(language: Language, src: &str) -> SymbolStream {
        let tokens =
            crate::analyze::Analyzer::default().target_tokens(language, src.as_bytes(), true);
        SymbolStream::of_file(&tokens, src.as_bytes())
    }

    /// Every range of lines of `src`: the names given after the top-level
    /// check are the names a parse gives.
    fn same_names_for_every_range(language: Language, src: &str) -> usize {
        let stream = lexed(language, src);
        let full = Symbols::parse(language, src.as_bytes());
        let n = src.lines().count() as u32;
        let mut skipped = 0;
        for a in 1..=n {
            for b in a..=n {
                let fast = Symbols::for_ranges(language, src.as_bytes(), &stream, &[[a, b]]);
                if fast.definitions().is_empty() {
                    skipped += 1;
                }
                assert_eq!(
                    fast.enclosing([a, b]),
                    full.enclosing([a, b]),
                    "{language:?} lines {a}-{b}"
                );
            }
        }
        skipped
    }

    #[test]
    fn ranges_across_top_level_items_are_not_parsed_and_lose_no_name() {
        let c = "#include <stdio.h>\n\
                 #define BEGIN {\n\
                 struct pair { int a; int b; };\n\
                 static int\n\
                 add(int a, int b)\n\
                 {\n  if (a) {\n    return a + b;\n  }\n  return b;\n}\n\
                 int two(void) { return 2; } int three(void) {\n  return 3;\n}\n\
                 const char *s = \"}\"; /* } */\n\
                 int main(void) {\n  return add(1, 2);\n}\n";
        // The macro's lone brace leaves the file unbalanced: always parsed.
        assert_eq!(same_names_for_every_range(Language::C, c), 0);
        let balanced = c.replace("#define BEGIN {\n", "");
        let skipped = same_names_for_every_range(Language::C, &balanced);
        assert!(skipped > 50, "{skipped}");
        let java = "package p;\nclass A {\n  int f() {\n    return 1;\n  }\n}\nclass B {\n  void g() {}\n}\n";
        assert!(same_names_for_every_range(Language::Java, java) > 5);
        let rust = "struct S;\nimpl S {\n    fn f(&self) {\n        let _ = '{';\n    }\n}\nfn g() {}\nmod m {\n    fn h() {}\n}\n";
        assert!(same_names_for_every_range(Language::Rust, rust) > 5);
        // Python is always parsed.
        let py = "def f():\n    return 1\n\ndef g():\n    return 2\n";
        assert_eq!(same_names_for_every_range(Language::Python, py), 0);
    }
}
