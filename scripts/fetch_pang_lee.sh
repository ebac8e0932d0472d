#!/usr/bin/env bash
# Fetch the Pang & Lee sentence-polarity file (4,000 sentences) that configs/sentiment_pang_lee*.yaml
# read, from Debian's python3-pattern package, into cache/python3-pattern/ under the repository root
# (ignored by git). Needs apt-get and dpkg-deb (Debian/Ubuntu) and the network, once. See docs/data.md.
set -euo pipefail
cd "$(dirname "$0")/.."
destination=cache/python3-pattern
file="$destination/usr/share/doc/python3-pattern/test/corpora/polarity-en-pang&lee2.csv"
expected=1b9975e7c33f487bc2187fffdc55213fdbb84bac4f6c1852b5dd40912411f53f
if [ ! -f "$file" ]; then
    work=$(mktemp -d)
    trap 'rm -rf "$work"' EXIT
    (cd "$work" && apt-get download python3-pattern)
    mkdir -p "$destination"
    dpkg-deb -x "$work"/python3-pattern_*.deb "$destination"
fi
actual=$(sha256sum "$file" | cut -d' ' -f1)
if [ "$actual" != "$expected" ]; then
    echo "fetch_pang_lee.sh: $file: sha256 $actual, expected $expected" >&2
    exit 1
fi
echo "$file"
