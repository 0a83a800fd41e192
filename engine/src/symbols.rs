//! Names the function, method or class around a line range.
//!
//! A reviewer reads "`rl_insert_text` in text.c" faster than "lines
//! 1204–1290", and two findings in the same function are one decision. The
//! matcher works on lexer tokens and never needs a tree; this module parses
//! a file with tree-sitter only when the file has findings, once per file,
//! and answers for every finding of it.

use tree_sitter::{Node, Parser};

use crate::lang::Language;
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
        let mut definitions = Vec::new();
        if bytes.len() <= MAX_PARSED_BYTES {
            if let Some(grammar) = grammar_of(language) {
                let mut parser = Parser::new();
                if parser.set_language(&grammar).is_ok() {
                    if let Some(tree) = parser.parse(bytes, None) {
                        let separator = separator(language);
                        collect(tree.root_node(), bytes, separator, "", 0, &mut definitions);
                    }
                }
            }
        }
        Symbols { definitions }
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
}
