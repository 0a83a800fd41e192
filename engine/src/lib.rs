//! The provscan engine: from a file's bytes to fingerprints, and from
//! fingerprint hits to aligned snippet ranges. Pure computation, no I/O
//! policy: callers decide what to read, where postings live and what to report.
//!
//! Data flows one way: [`lang`] picks a tokenizer, [`token`] normalizes,
//! [`winnow`] selects fingerprints, [`align`] chains hits into spans, and
//! [`matcher`] ranks origins and settles overlapping findings. Beside that
//! line, [`probe`] approximates [`token`]'s stream by lexing alone, so that a
//! scan parses only the files that share something with the index.

pub mod align;
pub mod analyze;
pub mod extend;
pub mod identity;
pub mod intervals;
pub mod lang;
pub mod matcher;
pub mod memory;
pub mod pipeline;
pub mod probe;
pub mod repeats;
pub mod reseed;
pub mod stream;
pub mod symbols;
pub mod token;
pub mod winnow;

pub use analyze::{Analyzed, Analyzer};
pub use token::Token;
pub use winnow::{Fingerprint, Params};
