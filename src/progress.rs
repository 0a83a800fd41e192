//! The progress bar of `scan`: files and bytes done, throughput, findings
//! so far and the time left, on a terminal only (as `index add` does), so
//! that logs and pipes get nothing but the report.

use std::io::IsTerminal;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

pub struct ScanProgress {
    bar: ProgressBar,
    files: AtomicU64,
    findings: AtomicU64,
}

impl ScanProgress {
    /// A bar over `bytes` (the targets' sizes on disk), or `None` when
    /// standard error is not a terminal.
    pub fn start(bytes: u64) -> Option<ScanProgress> {
        if !std::io::stderr().is_terminal() {
            return None;
        }
        let bar = ProgressBar::with_draw_target(Some(bytes), ProgressDrawTarget::stderr());
        bar.set_style(
            ProgressStyle::with_template(
                "{spinner} scan [{bar:30}] {bytes}/{total_bytes} {binary_bytes_per_sec} ETA {eta} {msg}",
            )
            .expect("valid template")
            .progress_chars("=> "),
        );
        bar.enable_steady_tick(Duration::from_millis(200));
        Some(ScanProgress {
            bar,
            files: AtomicU64::new(0),
            findings: AtomicU64::new(0),
        })
    }

    /// One file checked. Archive entries count their unpacked bytes, which
    /// can pass the planned total: the total then grows with them.
    pub fn file_done(&self, bytes: u64, findings: usize) {
        let files = self.files.fetch_add(1, Ordering::Relaxed) + 1;
        let found = self.findings.fetch_add(findings as u64, Ordering::Relaxed) + findings as u64;
        self.bar.inc(bytes);
        let pos = self.bar.position();
        if self.bar.length().is_some_and(|l| pos > l) {
            self.bar.set_length(pos);
        }
        self.bar
            .set_message(format!("{files} files, {found} findings"));
    }

    pub fn finish(&self) {
        self.bar.finish_and_clear();
    }
}
