#!/usr/bin/env bash
# Prints scripts/test.sh's closing banner: one line per part of the suite this run could
# not cover (the arguments), or nothing at all when there is none.
set -euo pipefail
[ $# -eq 0 ] && exit 0
echo "!!!!!!!!!! NOT A FULL RUN: $# part(s) of the suite could not run here:"
for line in "$@"; do echo "!!!!!!!!!!   $line"; done
