#!/usr/bin/env bash
# The whole test suite: every crate, every test (unit, integration, property, known-answer).
set -euo pipefail
cd "$(dirname "$0")/.."
cargo test --workspace --locked "$@"
