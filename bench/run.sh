#!/usr/bin/env bash
# run.sh is `make bench`: it installs what the benchmark needs, builds the
# corpus when it is missing or differs from corpus.sha256, builds the harness
# and runs it. The Markdown report goes to stdout and to bench/out/report.md;
# progress goes to stderr. Run it from anywhere; it expects bin/vitrine to be
# built (the Makefile's bench target depends on build).
#
# Settings (environment, or make variables: make bench BENCH_ROUNDS=1 BENCH_FILES=3):
#   BENCH_ROUNDS=5        interleaved timing rounds
#   BENCH_FILES=0         use only the first N corpus files, smallest JPEGs first (0: all 12)
#   BENCH_SOAK=1000       renders of the soak test
#   BENCH_E2E_ROUNDS=3    end-to-end rounds over the corpus
set -euo pipefail
cd "$(dirname "$0")/.."

rounds=${BENCH_ROUNDS:-5}
files=${BENCH_FILES:-0}
soak=${BENCH_SOAK:-1000}
e2e_rounds=${BENCH_E2E_ROUNDS:-3}
sudo=$([ "$(id -u)" = 0 ] || echo sudo)
log() { echo "bench: $*" >&2; }

# The note's code runs on Debian's Python with Debian's Pillow, which links the
# same libjpeg-turbo and libwebp as libvips. (The python3 first in PATH may be
# another Python without Pillow: always /usr/bin/python3.)
if ! /usr/bin/python3 -c 'import PIL' 2>/dev/null; then
  log "installing python3-pil with apt-get"
  $sudo apt-get update -q >&2
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends python3-pil >&2
fi

# The corpus lives outside git (see .gitignore); rebuild it from Debian's
# packages unless every file is there with the pinned checksum.
if ! (cd bench/corpus 2>/dev/null && sha256sum -c --quiet ../corpus.sha256 >/dev/null 2>&1); then
  log "building the corpus in bench/corpus"
  if ! ./bench/corpus.sh bench/corpus >&2; then
    log "apt-get download failed; updating the package lists and trying again"
    $sudo apt-get update -q >&2
    ./bench/corpus.sh bench/corpus >&2
  fi
fi

mkdir -p bench/out
log "building bench/out/vitrine-bench"
go build -o bench/out/vitrine-bench ./bench/render

how=./bench/run.sh
if [[ -n ${MAKELEVEL:-} ]]; then
  how="make bench"
fi
exec bench/out/vitrine-bench \
  -corpus bench/corpus -list bench/corpus.sha256 \
  -rounds "$rounds" -files "$files" -soak "$soak" -e2e-rounds "$e2e_rounds" \
  -python /usr/bin/python3 -pillow bench/note_pillow.py \
  -vitrine bin/vitrine -out bench/out \
  -command "$how (BENCH_ROUNDS=$rounds BENCH_FILES=$files BENCH_SOAK=$soak BENCH_E2E_ROUNDS=$e2e_rounds)"
