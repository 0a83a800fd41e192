#!/usr/bin/env bash
# Installs what a fresh machine lacks to build and test provscan:
# clang/libclang for the RocksDB bindings, and Debian source entries so that
# `deb:` corpus specs and the tests that fetch Debian sources work.
set -euo pipefail

SUDO=""
if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi

missing=()
for pkg in clang libclang-dev pkg-config; do
    dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
done
if [ "${#missing[@]}" -gt 0 ]; then
    echo "setup: installing ${missing[*]}"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi

if [ -x corpus-tools/scripts/enable-deb-src.sh ]; then
    $SUDO corpus-tools/scripts/enable-deb-src.sh
fi

# Reference validators for the SPDX and CycloneDX output (used by the tests in
# src/formats/schema_tests.rs).
if command -v python3 >/dev/null 2>&1; then
    if ! python3 -c 'import spdx_tools, cyclonedx, jsonschema' >/dev/null 2>&1; then
        echo "setup: installing spdx-tools and cyclonedx-python-lib"
        python3 -m pip install -q --disable-pip-version-check \
            spdx-tools 'cyclonedx-python-lib[json-validation]' >/dev/null 2>&1 \
            || python3 -m pip install -q --disable-pip-version-check --break-system-packages \
                spdx-tools 'cyclonedx-python-lib[json-validation]'
    fi
fi
