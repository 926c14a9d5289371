#!/usr/bin/env bash
# Check that vendor/candle-core is the crates.io package candle-core 0.11.1 plus
# backprop-first-gradient.patch, and nothing else (see vendor/candle-core/PATCHES.md).
#
# usage: tools/check_vendor.sh [VENDOR_DIR]     (default: vendor/candle-core; `make check-vendor`)
#
# The .crate is taken from, in order: $CANDLE_CORE_CRATE, the cargo registry cache
# ($CARGO_HOME/registry/cache/*/), target/check-vendor/ (where a download is kept), else it is
# downloaded from static.crates.io. Offline works once one of the first three holds it.
# Its SHA-256 must equal the crates.io index checksum pinned below (Cargo.lock has none for
# candle-core: [patch.crates-io] turns it into a path dependency).
#
# Compared after applying the patch with `patch -p1 --fuzz=0`:
#   - every file byte for byte (src/, LICENSE, README.md, and any file either side adds);
#   - Cargo.toml with comment and blank lines dropped and, on both sides, the tables the vendored
#     copy removes: [[example]], [[test]], [[bench]] and [dev-dependencies.*].
# Documented differences, excluded from the comparison:
#   only upstream: benches/ examples/ tests/ Cargo.toml.orig Cargo.lock .cargo_vcs_info.json
#   only vendored: PATCHES.md backprop-first-gradient.patch
# Exit status: 0 when equal, 1 on a difference, 2 on a setup error (download, checksum, patch).
set -euo pipefail

NAME=candle-core
VERSION=0.11.1
# "cksum" of candle-core 0.11.1 in the crates.io index (https://index.crates.io/ca/nd/candle-core).
SHA256=d11c8be87cfbaef9ebb62fb3f850d1fc8e00cc1d11d393fdbe55a4d5c2cdb325
URL="https://static.crates.io/crates/$NAME/$NAME-$VERSION.crate"
PATCH_NAME=backprop-first-gradient.patch
ONLY_UPSTREAM=(benches examples tests Cargo.toml.orig Cargo.lock .cargo_vcs_info.json)
ONLY_VENDORED=(PATCHES.md "$PATCH_NAME")

die() { echo "check-vendor: error: $*" >&2; exit 2; }

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
vendor="${1:-$root/vendor/$NAME}"
[[ -d "$vendor" ]] || die "no vendored copy at $vendor"
vendor="$(cd "$vendor" && pwd)"
[[ -f "$vendor/$PATCH_NAME" ]] || die "missing $vendor/$PATCH_NAME"
for tool in tar patch diff awk sha256sum; do
    command -v "$tool" >/dev/null || die "'$tool' not found on PATH"
done

# Find or download the .crate.
crate=""
keep_dir="$root/target/check-vendor"
if [[ -n "${CANDLE_CORE_CRATE:-}" && ! -f "$CANDLE_CORE_CRATE" ]]; then
    die "CANDLE_CORE_CRATE=$CANDLE_CORE_CRATE is not a file"
fi
candidates=("${CANDLE_CORE_CRATE:-}")
shopt -s nullglob
candidates+=("${CARGO_HOME:-$HOME/.cargo}"/registry/cache/*/"$NAME-$VERSION.crate")
shopt -u nullglob
candidates+=("$keep_dir/$NAME-$VERSION.crate")
for c in "${candidates[@]}"; do
    if [[ -n "$c" && -f "$c" ]]; then crate="$c"; break; fi
done
if [[ -z "$crate" ]]; then
    command -v curl >/dev/null || die "no local $NAME-$VERSION.crate and no curl to fetch $URL"
    mkdir -p "$keep_dir"
    echo "check-vendor: downloading $URL"
    if ! curl -sSfL --retry 2 -o "$keep_dir/$NAME-$VERSION.crate.part" "$URL"; then
        rm -f "$keep_dir/$NAME-$VERSION.crate.part"
        die "download of $URL failed (offline? set CANDLE_CORE_CRATE=/path/to/$NAME-$VERSION.crate)"
    fi
    mv "$keep_dir/$NAME-$VERSION.crate.part" "$keep_dir/$NAME-$VERSION.crate"
    crate="$keep_dir/$NAME-$VERSION.crate"
fi
got="$(sha256sum "$crate" | cut -d' ' -f1)"
[[ "$got" == "$SHA256" ]] || die "$crate: SHA-256 $got, expected $SHA256 (crates.io index)"

tmp="$(mktemp -d "${TMPDIR:-/tmp}/check-vendor.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT

# Upstream + patch.
tar -xzf "$crate" -C "$tmp" || die "cannot unpack $crate"
up="$tmp/$NAME-$VERSION"
[[ -d "$up" ]] || die "$crate does not contain $NAME-$VERSION/"
(cd "$up" && patch -p1 --fuzz=0 --no-backup-if-mismatch -s <"$vendor/$PATCH_NAME") \
    || die "$PATCH_NAME does not apply cleanly (fuzz 0) to crates.io $NAME $VERSION"
for f in "${ONLY_UPSTREAM[@]}"; do rm -rf "${up:?}/$f"; done

# Vendored copy, less its documentation of the patch.
ven="$tmp/vendored"
cp -a "$vendor" "$ven"
for f in "${ONLY_VENDORED[@]}"; do rm -rf "${ven:?}/$f"; done

# Cargo.toml modulo comments, blank lines and the removed tables.
normalize_manifest() {
    awk '
        /^[[:space:]]*(#|$)/ { next }
        /^\[/ {
            skip = ($0 ~ /^\[\[(example|test|bench)\]\]/ || $0 ~ /^\[dev-dependencies[].]/ \
                    || $0 ~ /^\[target\..*\.dev-dependencies[].]/)
        }
        !skip { print }
    ' "$1" >"$1.norm" && mv "$1.norm" "$1"
}
for side in "$up" "$ven"; do
    [[ -f "$side/Cargo.toml" ]] && normalize_manifest "$side/Cargo.toml"
done

if out="$(cd "$tmp" && diff -r "$NAME-$VERSION" vendored)"; then
    echo "check-vendor: OK: $vendor == crates.io $NAME $VERSION + $PATCH_NAME"
    echo "check-vendor: (crate $crate, sha256 ok; Cargo.toml compared modulo comments and the"
    echo "check-vendor:  removed [[example]]/[[test]]/[[bench]]/[dev-dependencies] tables)"
    exit 0
fi
echo "check-vendor: FAIL: $vendor differs from crates.io $NAME $VERSION + $PATCH_NAME" >&2
echo "check-vendor: differing files (left: upstream + patch, right: vendored):" >&2
(cd "$tmp" && diff -rq "$NAME-$VERSION" vendored) >&2 || true
printf '%s\n' "$out" | head -n 60 >&2
exit 1
