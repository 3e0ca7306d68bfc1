#!/usr/bin/env bash
# Runs each fuzz target for a bounded time (default 60 s each). Not part of
# CI. Needs cargo-fuzz (cargo install cargo-fuzz); the stable toolchain is
# made to accept the sanitizer flags with RUSTC_BOOTSTRAP=1. Crashing inputs
# land in fuzz/artifacts/<target>/: turn each into a regression test.
set -euo pipefail
cd "$(dirname "$0")"
SECONDS_EACH=${1:-60}
command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz --locked
for target in registry request_body digest_header pki_file pki_fields; do
  mkdir -p "corpus/$target"
  cp -n seeds/"$target"/* "corpus/$target/" 2>/dev/null || true
  RUSTC_BOOTSTRAP=1 cargo fuzz run "$target" "corpus/$target" -- \
    -max_total_time="$SECONDS_EACH" -max_len=4096
done
