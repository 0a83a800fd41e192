//! The floor to beat: every run of 5 normalized lines (whitespace squashed,
//! lower case, blank lines dropped) of the origin files and of the target is
//! hashed; a target file is matched against the one origin file with which
//! it shares the most hashes, and its matched lines are those of shared
//! runs. The license is guessed from an SPDX tag, a few header phrases, or
//! else the origin project's top-level license file. A file of fewer than 5
//! normalized lines is one run.

use std::collections::HashMap;
use std::hash::{DefaultHasher, Hash, Hasher};

use super::score::Found;
use super::tree::{lines, Tree};

const RUN: usize = 5;

/// A file's normalized lines and the 1-based line each came from.
fn normalized(text: &str) -> (Vec<String>, Vec<usize>) {
    let mut out = Vec::new();
    let mut at = Vec::new();
    for (i, l) in lines(text).iter().enumerate() {
        let n = l.split_whitespace().collect::<Vec<_>>().join(" ");
        if !n.is_empty() {
            out.push(n.to_lowercase());
            at.push(i + 1);
        }
    }
    (out, at)
}

/// Hash of each run: (hash, first normalized line of the run).
fn runs(norm: &[String]) -> Vec<(u64, usize)> {
    if norm.is_empty() {
        return Vec::new();
    }
    let n = RUN.min(norm.len());
    (0..=norm.len() - n)
        .map(|i| {
            let mut h = DefaultHasher::new();
            norm[i..i + n].hash(&mut h);
            (h.finish(), i)
        })
        .collect()
}

struct OriginFile {
    origin: usize,
    path: String,
    /// Line of each normalized line.
    at: Vec<usize>,
    run_len: usize,
}

pub struct Naive<'a> {
    origins: &'a [Tree],
    files: Vec<OriginFile>,
    /// Run hash → (origin file, first normalized line), first occurrence per file.
    postings: HashMap<u64, Vec<(u32, u32)>>,
    /// Guessed license per origin file.
    licenses: Vec<Option<String>>,
}

impl<'a> Naive<'a> {
    pub fn build(origins: &'a [Tree]) -> Naive<'a> {
        let mut files = Vec::new();
        let mut postings: HashMap<u64, Vec<(u32, u32)>> = HashMap::new();
        let mut licenses = Vec::new();
        for (ix, tree) in origins.iter().enumerate() {
            let project_license = project_license(tree);
            for f in &tree.files {
                let (norm, at) = normalized(&f.text);
                let id = files.len() as u32;
                for (h, i) in runs(&norm) {
                    let list = postings.entry(h).or_default();
                    if list.last().is_none_or(|(fid, _)| *fid != id) {
                        list.push((id, i as u32));
                    }
                }
                licenses.push(guess(&f.text).or_else(|| project_license.clone()));
                files.push(OriginFile {
                    origin: ix,
                    path: f.path.clone(),
                    run_len: RUN.min(at.len()),
                    at,
                });
            }
        }
        Naive {
            origins,
            files,
            postings,
            licenses,
        }
    }

    /// Findings in one target file: one per stretch of consecutive shared runs.
    pub fn scan(&self, path: &str, text: &str) -> Vec<Found> {
        let (norm, at) = normalized(text);
        let runs = runs(&norm);
        let mut shared: HashMap<u32, usize> = HashMap::new();
        for (h, _) in &runs {
            for (fid, _) in self.postings.get(h).into_iter().flatten() {
                *shared.entry(*fid).or_default() += 1;
            }
        }
        let Some((&best, _)) = shared.iter().max_by(|a, b| a.1.cmp(b.1).then(b.0.cmp(a.0))) else {
            return Vec::new();
        };
        let of = &self.files[best as usize];
        let span = RUN.min(norm.len());
        // (target run start, origin run start) of each shared run.
        let hits: Vec<(usize, usize)> = runs
            .iter()
            .filter_map(|(h, i)| {
                self.postings.get(h).and_then(|l| {
                    l.iter()
                        .find(|(fid, _)| *fid == best)
                        .map(|(_, o)| (*i, *o as usize))
                })
            })
            .collect();
        let mut out = Vec::new();
        let mut k = 0;
        while k < hits.len() {
            let mut end = k;
            while end + 1 < hits.len() && hits[end + 1].0 <= hits[end].0 + span {
                end += 1;
            }
            let t_first = at[hits[k].0];
            let t_last = at[hits[end].0 + span - 1];
            let o_first = hits[k..=end].iter().map(|h| h.1).min().unwrap_or(0);
            let o_last = hits[k..=end].iter().map(|h| h.1).max().unwrap_or(0) + of.run_len - 1;
            out.push(Found {
                target: path.to_string(),
                target_lines: (t_first, t_last),
                origin: (self.origins[of.origin].project.clone(), of.path.clone()),
                origin_lines: (of.at[o_first], of.at[o_last.min(of.at.len() - 1)]),
                license: self.licenses[best as usize].clone(),
            });
            k = end + 1;
        }
        out
    }
}

/// The license of a project's top-level `LICENSE*`, `LICENCE*` or `COPYING*`.
fn project_license(tree: &Tree) -> Option<String> {
    tree.files
        .iter()
        .filter(|f| !f.path.contains('/'))
        .filter(|f| {
            let n = f.path.to_ascii_uppercase();
            n.starts_with("LICENSE") || n.starts_with("LICENCE") || n.starts_with("COPYING")
        })
        .find_map(|f| phrases(&f.text))
}

/// An SPDX tag, else the phrases of the first 60 lines.
fn guess(text: &str) -> Option<String> {
    for l in text.lines().take(60) {
        if let Some((_, tag)) = l.split_once("SPDX-License-Identifier:") {
            let t = tag
                .trim()
                .trim_end_matches("*/")
                .trim_end_matches("-->")
                .trim();
            if !t.is_empty() {
                return Some(t.to_string());
            }
        }
    }
    let head: Vec<&str> = text.lines().take(60).collect();
    phrases(&head.join("\n"))
}

/// A few well-known phrases of license texts and notices.
fn phrases(text: &str) -> Option<String> {
    let t = text.split_whitespace().collect::<Vec<_>>().join(" ");
    let has = |p: &str| t.contains(p);
    let later = has("any later version");
    let gnu = |name: &str| -> String {
        let v = if has("version 3") {
            "3.0"
        } else if has("version 2.1") {
            "2.1"
        } else {
            "2.0"
        };
        format!("{name}-{v}-{}", if later { "or-later" } else { "only" })
    };
    Some(if has("Apache License") && has("2.0") {
        "Apache-2.0".into()
    } else if has("Permission is hereby granted, free of charge") {
        "MIT".into()
    } else if has("Lesser General Public License") || has("LESSER GENERAL PUBLIC LICENSE") {
        gnu("LGPL")
    } else if has("General Public License") || has("GENERAL PUBLIC LICENSE") {
        gnu("GPL")
    } else if has("Redistribution and use in source and binary forms") {
        if has("Neither the name") || has("endorse or promote") {
            "BSD-3-Clause".into()
        } else {
            "BSD-2-Clause".into()
        }
    } else if has("Mozilla Public License") && has("2.0") {
        "MPL-2.0".into()
    } else if has("provided 'as-is', without any express or implied warranty") {
        "Zlib".into()
    } else if has("Permission to use, copy, modify, and/or distribute") {
        "ISC".into()
    } else if has("This is free and unencumbered software") {
        "Unlicense".into()
    } else {
        return None;
    })
}
