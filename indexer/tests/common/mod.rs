//! Synthetic but realistic-looking C sources for index tests: deterministic,
//! and different enough between seeds that their fingerprints do not collide.

#![allow(dead_code)]

use indexer::{FileInput, License, VersionInput};

pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) ^ 0x2545_f491_4f6c_dd1d)
    }
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    pub fn word(&mut self) -> String {
        const PARTS: [&str; 16] = [
            "buf", "len", "node", "count", "next", "size", "data", "item", "key", "val", "tmp",
            "ptr", "head", "tail", "idx", "res",
        ];
        format!("{}_{}", PARTS[self.below(16) as usize], self.below(1000))
    }
}

/// A random expression: operators and shapes vary, since the engine
/// normalizes names and literals away and only structure is fingerprinted.
pub fn expr(rng: &mut Rng, depth: u32) -> String {
    const OPS: [&str; 12] = [
        "+", "-", "*", "/", "%", "&", "|", "^", "<<", ">>", "&&", "||",
    ];
    if depth == 0 || rng.below(3) == 0 {
        return match rng.below(7) {
            0 => rng.word(),
            1 => format!("{}", rng.below(1000)),
            2 => format!("{}[{}]", rng.word(), rng.word()),
            3 => format!("{}->{}", rng.word(), rng.word()),
            4 => format!(
                "{}({})",
                rng.word(),
                (0..rng.below(3))
                    .map(|_| rng.word())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            5 => format!("!{}", rng.word()),
            _ => format!("sizeof({})", rng.word()),
        };
    }
    let op = OPS[rng.below(12) as usize];
    let l = expr(rng, depth - 1);
    let r = expr(rng, depth - 1);
    if rng.below(2) == 0 {
        format!("({l} {op} {r})")
    } else {
        format!("{l} {op} {r}")
    }
}

fn statement(rng: &mut Rng, indent: usize, depth: u32) -> String {
    let pad = " ".repeat(indent);
    match if depth == 0 {
        4 + rng.below(4)
    } else {
        rng.below(8)
    } {
        0 => format!(
            "{pad}if ({}) {{\n{}{pad}}}\n",
            expr(rng, 2),
            block(rng, indent + 4, depth - 1)
        ),
        1 => {
            let v = rng.word();
            format!(
                "{pad}for ({v} = 0; {v} < {}; {v}++) {{\n{}{pad}}}\n",
                expr(rng, 1),
                block(rng, indent + 4, depth - 1)
            )
        }
        2 => format!(
            "{pad}while ({}) {{\n{}{pad}}}\n",
            expr(rng, 2),
            block(rng, indent + 4, depth - 1)
        ),
        3 => format!(
            "{pad}switch ({}) {{\n{pad}case {}:\n{}{pad}    break;\n{pad}default:\n{}{pad}}}\n",
            rng.word(),
            rng.below(10),
            block(rng, indent + 4, depth - 1),
            block(rng, indent + 4, 0)
        ),
        4 => format!("{pad}{} = {};\n", rng.word(), expr(rng, 3)),
        5 => format!(
            "{pad}{} {} {};\n",
            rng.word(),
            ["+=", "-=", "*=", "|=", "^=", "<<="][rng.below(6) as usize],
            expr(rng, 2)
        ),
        6 => format!(
            "{pad}{}({});\n",
            rng.word(),
            (0..1 + rng.below(3))
                .map(|_| expr(rng, 1))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        _ => format!("{pad}return {};\n", expr(rng, 2)),
    }
}

fn block(rng: &mut Rng, indent: usize, depth: u32) -> String {
    (0..1 + rng.below(3))
        .map(|_| statement(rng, indent, depth))
        .collect()
}

/// One C function with varied control flow.
pub fn function(rng: &mut Rng) -> String {
    let name = rng.word();
    let a = rng.word();
    let b = rng.word();
    let mut s = format!("static int {name}(int {a}, const char *{b})\n{{\n");
    for _ in 0..(2 + rng.below(4)) {
        s += &statement(rng, 4, 2);
    }
    s += "    return 0;\n}\n\n";
    s
}

/// A C file of about `funcs` functions.
pub fn c_file(seed: u64, funcs: usize) -> String {
    let mut rng = Rng::new(seed);
    let mut s = String::from("#include <stdio.h>\n#include <stdlib.h>\n\n");
    for _ in 0..funcs {
        s += &function(&mut rng);
    }
    s
}

pub fn file(path: &str, text: &str) -> FileInput {
    FileInput {
        path: path.to_string(),
        bytes: text.as_bytes().to_vec(),
        license: Some(License {
            expression: "MIT".into(),
            evidence: "declared".into(),
            source_path: None,
            competing: Vec::new(),
        }),
        copyrights: vec!["Copyright 2024 Example".into()],
    }
}

pub fn version(project: &str, version: &str, files: Vec<FileInput>) -> VersionInput {
    VersionInput {
        project: project.into(),
        version: version.into(),
        source_spec: format!("test:{project}@{version}"),
        declared_license: Some("MIT".into()),
        release_date: None,
        files,
        skipped: Vec::new(),
    }
}

/// A version of `n` files with seeds `first..first + n`.
pub fn synthetic(project: &str, ver: &str, first: u64, n: u64, funcs: usize) -> VersionInput {
    let files = (first..first + n)
        .map(|seed| file(&format!("src/f{seed}.c"), &c_file(seed, funcs)))
        .collect();
    version(project, ver, files)
}
