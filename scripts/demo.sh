#!/usr/bin/env bash
# The main job end to end, on real packages from the registries:
#   1. index GNU readline 8.2 from Debian's sources (GPL-3.0-or-later),
#   2. scan the PyPI sdist of gnureadline 8.3.3, which bundles a readline
#      tarball inside the sdist (an archive nested in an archive),
#   3. print the grouped report (one block per origin project, the license
#      and the share of each file copied) and fail the policy "no strong
#      copyleft".
# It runs the release build, the binary users install (`cargo install --path .`).
# Downloads are cached under ~/.cache/provscan-demo; the index lives there too.
set -euo pipefail
cd "$(dirname "$0")/.."

work="${PROVSCAN_DEMO_DIR:-$HOME/.cache/provscan-demo}"
mkdir -p "$work"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/provscan-target}"
# The optimized build: a scanner's first impression is its speed. (The
# first release build compiles RocksDB's C++ once more: 10-25 minutes.)
cargo build --release --workspace --quiet
provscan="$CARGO_TARGET_DIR/release/provscan"
index="$work/index"

# An index left by an older provscan (other engine parameters) is rebuilt.
if [ -d "$index" ] && ! "$provscan" index --index "$index" list >/dev/null 2>&1; then
    rm -rf "$index"
fi
if ! "$provscan" index --index "$index" list 2>/dev/null | grep -q readline; then
    "$provscan" index --index "$index" add deb:readline=8.2-1.3 --cache-dir "$work/downloads"
fi
"$provscan" index --index "$index" stats

if [ ! -f "$work/gnureadline-8.3.3.tar.gz" ]; then
    pip download --quiet --no-deps --no-binary :all: -d "$work" gnureadline==8.3.3
fi

set +e
"$provscan" scan --index "$index" --format table --fail-on strong-copyleft \
    "$work/gnureadline-8.3.3.tar.gz"
status=$?
set -e
echo "provscan scan exited with $status (1 = policy violation: GPL code found)"
[ "$status" = 1 ]
