#!/usr/bin/env bash
# Opt-in: both Spark jobs end to end on a real local cluster (local[N]), on
# real packages from the registries. Exits 0 only when
#   1. the index built by spark/build_index.py holds the very records of
#      the one `provscan index build` gives (same digest from `index verify`),
#   2. scans against both indexes give the same findings, and
#   3. spark/scan_repos.py's findings table equals scanning each package
#      one by one.
# It also prints the build's throughput on 1 and 2 executor cores against
# `index build` in the same run (docs/scale.md quotes these figures).
#
# Needs Java 17 (on the machines) and installs pyspark from PyPI into a venv
# ($PROVSCAN_SPARK_VENV, default ~/.cache/provscan-spark-venv) if missing.
# Downloads and results go to $PROVSCAN_SPARK_DIR (~/.cache/provscan-spark-e2e).
set -euo pipefail
cd "$(dirname "$0")/.."
repo="$PWD"

work="${PROVSCAN_SPARK_DIR:-$HOME/.cache/provscan-spark-e2e}"
venv="${PROVSCAN_SPARK_VENV:-$HOME/.cache/provscan-spark-venv}"
downloads="$work/downloads"
run="$work/run"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/provscan-target}"

java -version 2>&1 | grep -q 'version "17' || { echo "spark-e2e: Java 17 is required" >&2; exit 2; }
if [ ! -x "$venv/bin/spark-submit" ]; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet "pyspark==3.5.3"
fi
cargo build --release --quiet
export PROVSCAN_BIN="$CARGO_TARGET_DIR/release/provscan"
export PYSPARK_PYTHON="$venv/bin/python"
provscan="$PROVSCAN_BIN"
submit() { "$venv/bin/spark-submit" --conf spark.log.level=WARN --conf spark.ui.enabled=false "$@"; }

rm -rf "$run"
mkdir -p "$run" "$downloads"
# What a company would index: GPL readline from Debian's sources, C
# libraries vendored by Rust crates, a Python package with data tables, a
# JavaScript library.
# PROVSCAN_SPARK_MANIFEST replaces it (the figures of docs/scale.md used the
# scan benchmark's Debian packages and readline: PROVSCAN_SPARK_MANIFEST=bench).
if [ "${PROVSCAN_SPARK_MANIFEST:-}" = bench ]; then
    printf '[[source]]\nspec = "%s"\n' deb:readline=8.2-1.3 deb:openssl=3.0.17-1~deb12u2 \
        deb:curl deb:git deb:sqlite3 "deb:redis=5:7.0.15-1~deb12u7" \
        deb:nginx=1.22.1-9+deb12u9 "deb:zlib=1:1.2.13.dfsg-1" deb:lua5.4 > "$run/corpus.toml"
elif [ -n "${PROVSCAN_SPARK_MANIFEST:-}" ]; then
    cp "$PROVSCAN_SPARK_MANIFEST" "$run/corpus.toml"
else cat > "$run/corpus.toml" <<'EOF'
[[source]]
spec = "deb:readline=8.2-1.3"
[[source]]
spec = "crate:libz-sys@1.1.31"
[[source]]
spec = "crate:lz4-sys@1.11.1+lz4-1.10.0"
[[source]]
spec = "pypi:idna==3.10"
[[source]]
spec = "npm:underscore@1.13.7"
[[source]]
spec = "crate:provscan-no-such-crate@0.0.1"
EOF
fi
# Sources that cannot be loaded: listed by both builds, never fatal.
grep -o '"[^"]*no-such[^"]*"' "$run/corpus.toml" | tr -d '"' > "$run/expected-failures" || true
# `index build` and the Spark build exit 1 when a source failed.
allow1() { "$@" || [ $? -eq 1 ]; }

# Warm the download cache so that the timed builds compare analysis and
# writing, not the network.
allow1 "$provscan" index --index "$run/warm" build "$run/corpus.toml" --cache-dir "$downloads" >/dev/null
rm -rf "$run/warm"

now() { date +%s.%N; }
t0=$(now)
allow1 "$provscan" index --index "$run/single" build "$run/corpus.toml" --cache-dir "$downloads" >/dev/null
t1=$(now)
echo "single $t0 $t1" > "$run/timings"
for cores in 1 2; do
    s=$(now)
    allow1 submit --master "local[$cores]" spark/build_index.py --manifest "$run/corpus.toml" \
        --index "$run/spark-$cores" --work "$run/work-$cores" --cache-dir "$downloads" --ranges 8
    e=$(now)
    echo "$cores $s $e" >> "$run/timings"
done

# The packages to scan: readline bundled in a PyPI sdist, a newer zlib in
# a crate, a newer lz4, and a crate with nothing copied.
[ -f "$downloads/gnureadline-8.3.3.tar.gz" ] ||
    pip download --quiet --no-deps --no-binary :all: -d "$downloads" gnureadline==8.3.3
for c in libz-sys/1.1.33 lz4-sys/1.11.1+lz4-1.10.0 itoa/1.0.15; do
    name="${c%/*}" version="${c#*/}"
    f="$downloads/$name-$version.crate"
    [ -f "$f" ] || curl -fsSL -o "$f" "https://static.crates.io/crates/$name/$name-$version.crate"
done
cat > "$run/repos.txt" <<EOF
$downloads/gnureadline-8.3.3.tar.gz
$downloads/libz-sys-1.1.33.crate
$downloads/lz4-sys-1.11.1+lz4-1.10.0.crate
$downloads/itoa-1.0.15.crate
EOF
mkdir -p "$run/one-by-one"
n=0
while read -r target; do
    for idx in single spark-2; do
        set +e
        "$provscan" scan --index "$run/$idx" --format json -o "$run/one-by-one/$n-$idx.json" "$target"
        status=$?
        set -e
        [ "$status" -le 1 ] || { echo "spark-e2e: scan of $target against $idx exited $status" >&2; exit 1; }
    done
    n=$((n + 1))
done < "$run/repos.txt"

# The org scan gets one repository more that cannot be read: listed as
# failed, the job goes on, and it exits 2 (not everything was looked at).
{ cat "$run/repos.txt"; echo "$run/no-such-repository.tar.gz"; } > "$run/org-repos.txt"
s=$(now)
set +e
submit --master local[2] spark/scan_repos.py --index "$run/spark-2" --repos "$run/org-repos.txt" \
    --out "$run/org"
status=$?
set -e
e=$(now)
[ "$status" = 2 ] || { echo "spark-e2e: the org scan exited $status, expected 2" >&2; exit 1; }
echo "scan $s $e" >> "$run/timings"

"$venv/bin/python" "$repo/scripts/spark_e2e_check.py" "$run" "$provscan"
