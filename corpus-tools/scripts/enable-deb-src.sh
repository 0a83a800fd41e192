#!/bin/sh
# Adds `deb-src` entries for the Debian archives apt already uses, so that
# `apt-get source` (and provscan's `deb:` sources) can download source
# packages. Run as root. Idempotent: it rewrites only its own file.
#
#   corpus-tools/scripts/enable-deb-src.sh            # add entries, run apt-get update
#   corpus-tools/scripts/enable-deb-src.sh --no-update
#
# Only entries whose suite is this release's codename (e.g. "bookworm",
# "bookworm-updates", "bookworm-security") are mirrored, so third-party
# repositories without source indices are left alone. The mirrors, proxies
# and keyrings are the ones already configured: nothing is hard-wired here.
set -eu

update=1
for arg in "$@"; do
    case "$arg" in
        --no-update) update=0 ;;
        -h|--help) sed -n '2,14p' "$0"; exit 0 ;;
        *) echo "enable-deb-src.sh: unknown argument $arg" >&2; exit 2 ;;
    esac
done

if [ "$(id -u)" -ne 0 ]; then
    echo "enable-deb-src.sh: must run as root (it writes /etc/apt/sources.list.d)" >&2
    exit 1
fi

codename=""
if [ -r /etc/os-release ]; then
    codename=$(. /etc/os-release && echo "${VERSION_CODENAME:-}")
fi
if [ -z "$codename" ]; then
    echo "enable-deb-src.sh: cannot tell the release codename from /etc/os-release" >&2
    exit 1
fi

dir=/etc/apt/sources.list.d
out_sources="$dir/provscan-deb-src.sources"
out_list="$dir/provscan-deb-src.list"
tmp_sources=$(mktemp)
tmp_list=$(mktemp)
trap 'rm -f "$tmp_sources" "$tmp_list"' EXIT

# deb822 files: copy each enabled "Types: deb" stanza for our codename with
# Types set to deb-src, unless the stanza already lists deb-src.
for f in "$dir"/*.sources; do
    [ -e "$f" ] || continue
    [ "$f" = "$out_sources" ] && continue
    awk -v codename="$codename" '
        BEGIN { RS = ""; FS = "\n" }
        {
            types = ""; suites = ""; enabled = "yes"
            for (i = 1; i <= NF; i++) {
                line = $i
                if (line ~ /^[Tt]ypes:/)   { sub(/^[Tt]ypes:[ \t]*/, "", line); types = line }
                if (line ~ /^[Ss]uites:/)  { sub(/^[Ss]uites:[ \t]*/, "", line); suites = line }
                if (line ~ /^[Ee]nabled:/) { sub(/^[Ee]nabled:[ \t]*/, "", line); enabled = tolower(line) }
            }
            if (enabled == "no") next
            if (types !~ /(^|[ \t])deb([ \t]|$)/ || types ~ /deb-src/) next
            n = split(suites, s, /[ \t]+/); ok = 0
            for (j = 1; j <= n; j++) if (s[j] == codename || index(s[j], codename "-") == 1) ok = 1
            if (!ok) next
            for (i = 1; i <= NF; i++) {
                line = $i
                if (line ~ /^[Tt]ypes:/) line = "Types: deb-src"
                if (line ~ /^#/) continue
                print line
            }
            print ""
        }' "$f" >> "$tmp_sources"
done

# One-line format: "deb [options] URI suite components..." -> deb-src twin.
for f in /etc/apt/sources.list "$dir"/*.list; do
    [ -e "$f" ] || continue
    [ "$f" = "$out_list" ] && continue
    awk -v codename="$codename" '
        /^[ \t]*deb-src[ \t]/ { have[$0] = 1; next }
        /^[ \t]*deb[ \t]/ {
            line = $0; sub(/^[ \t]*deb/, "deb-src", line)
            rest = line; sub(/^deb-src[ \t]+(\[[^]]*\][ \t]+)?/, "", rest)
            split(rest, w, /[ \t]+/)
            if (w[2] == codename || index(w[2], codename "-") == 1) want[line] = 1
        }
        END { for (l in want) if (!(l in have)) print l }' "$f" >> "$tmp_list"
done

if [ -s "$tmp_sources" ]; then cp "$tmp_sources" "$out_sources"; chmod 644 "$out_sources"; else rm -f "$out_sources"; fi
if [ -s "$tmp_list" ]; then cp "$tmp_list" "$out_list"; chmod 644 "$out_list"; else rm -f "$out_list"; fi

if [ ! -s "$tmp_sources" ] && [ ! -s "$tmp_list" ]; then
    echo "enable-deb-src.sh: nothing to add (deb-src already configured, or no $codename entries found)"
else
    echo "enable-deb-src.sh: wrote deb-src entries to $dir/provscan-deb-src.*"
fi

if [ "$update" -eq 1 ]; then
    apt-get update -qq
fi
