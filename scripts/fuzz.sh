#!/usr/bin/env bash
# fuzz.sh is `make test-fuzz`: it runs every fuzz target for FUZZTIME
# (default 20s) each, one after another, and fails if any finds a crash.
# go test -fuzz then writes the input to <package>/testdata/fuzz/<Fuzz...>/,
# where it stays as a regression case once the bug is fixed (plain go test
# runs every file there). Each package's test binary is built once, with
# the fuzzing instrumentation, and run once per target: linking the cgo
# binaries is the slow part. Interesting inputs found on the way go to Go's
# cache, as with go test -fuzz; the committed seeds are in testdata/fuzz.
# About five and a half minutes on two cores at 20s a target.
set -euo pipefail
cd "$(dirname "$0")/.."

fuzztime=${FUZZTIME:-20s}
# go test minimizes every new interesting input for up to a minute, then
# restarts the worker; on the HTTP targets, where nearly every input is new,
# that left a few dozen execs in 20s. 0 turns minimizing off: a crasher is
# written as found. To shrink one, run go test -fuzz on that target with
# -fuzzminimizetime=60s, or set FUZZMINIMIZETIME here.
minimize=${FUZZMINIMIZETIME:-0}

# package directory, then its targets
targets=(
  ".         FuzzParsePrice FuzzSniffFormat FuzzParseSpec FuzzValidKey FuzzParseSlug FuzzBaseName"
  "metadata  FuzzCleanJPEG FuzzCleanPNG FuzzCleanWebP"
  "vips      FuzzProbeVerify"
  "httpapi   FuzzMultipart FuzzReorder FuzzProductList FuzzPathSlug FuzzProductWrite"
)

bin=$(mktemp -d)
trap 'rm -rf "$bin"' EXIT
module=$(go list -m)
cache=$(go env GOCACHE)/fuzz
start=$SECONDS

# Build every package's instrumented test binary first, two at a time
# (linking is most of it and uses one core). -fuzz with -c adds the
# coverage instrumentation; its pattern only has to name one target.
echo "fuzz: building ${#targets[@]} test binaries" >&2
pids=()
for line in "${targets[@]}"; do
  read -r dir names <<<"$line"
  go test -c -o "$bin/$(echo "$dir" | tr ./ _x).test" -fuzz "^${names%% *}\$" "./$dir" &
  pids+=($!)
  if ((${#pids[@]} == 2)); then wait "${pids[0]}"; pids=("${pids[1]}"); fi
done
for pid in "${pids[@]}"; do wait "$pid"; done

failed=()
total=0
ntargets=0
for line in "${targets[@]}"; do
  read -r dir names <<<"$line"
  test=$bin/$(echo "$dir" | tr ./ _x).test
  pkg=$module
  [[ $dir != . ]] && pkg=$module/$dir
  for target in $names; do
    ntargets=$((ntargets + 1))
    log=$bin/$target.log
    corpus=$dir/testdata/fuzz/$target
    before=$(ls "$corpus" 2>/dev/null || true)
    # Run in the package directory, as go test does: the corpus is read
    # from and crashers are written to testdata/fuzz there.
    rc=0
    (cd "$dir" && "$test" -test.run='^$' -test.fuzz="^$target\$" -test.fuzztime="$fuzztime" \
      -test.fuzzminimizetime="$minimize" -test.fuzzcachedir="$cache/$pkg" -test.paniconexit0 \
      -test.timeout=10m) >"$log" 2>&1 || rc=$?
    execs=$(grep -o 'execs: [0-9]*' "$log" | tail -1 | grep -o '[0-9]*' || echo 0)
    total=$((total + execs))
    added=$(comm -13 <(echo "$before") <(ls "$corpus" 2>/dev/null || true) | grep . || true)
    if ((rc == 0)); then
      echo "fuzz: $dir $target: ok, $execs execs in $fuzztime" >&2
    elif [[ -z $added ]] && grep -qx '    context deadline exceeded' "$log" && ! grep -q -- '--- FAIL: .*/\|Failing input' "$log"; then
      # go.dev/issue/75804, fixed in Go 1.27: when -fuzztime runs out, a
      # worker's cancelled call may be reported as this failure. It wrote
      # no input and no seed failed: it is not a crash.
      echo "fuzz: $dir $target: ok, $execs execs in $fuzztime (go.dev/issue/75804: a spurious deadline failure at the end, no crasher)" >&2
    else
      grep -v 'level=' "$log" | tail -30 >&2
      echo "fuzz: $dir $target: FAILED; new inputs under $corpus: ${added:-none}" >&2
      failed+=("$dir $target")
    fi
  done
done
echo "fuzz: $ntargets targets in ${#targets[@]} packages, $total execs in $((SECONDS - start))s" >&2
if ((${#failed[@]} > 0)); then
  printf 'fuzz: FAILED: %s\n' "${failed[@]}" >&2
  exit 1
fi
