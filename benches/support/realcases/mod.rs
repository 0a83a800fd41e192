//! The real-case benchmark (`benches/realcases.rs`): cases, their packages,
//! the derived truth, the naive matcher and the scoring.

pub mod cases;
pub mod naive;
pub mod score;
pub mod tree;
pub mod truth;
