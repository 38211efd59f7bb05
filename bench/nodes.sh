#!/usr/bin/env bash
# nodes.sh is `make load-nodes`: uploads per second on two vitrine nodes
# against one, on the production shape (PostgreSQL and an S3 bucket). It
# runs the load program (bench/load) twice with the same flags, -nodes 1
# and then -nodes 2, each run on a fresh PostgreSQL database and a fresh
# prefix of a bucket on a loopback S3 server (scripts/s3.sh), with
# presigned media URLs (VITRINE_MEDIA_SIGNED=1: the bucket is private). The
# reports go to bench/out/nodes-1.md and bench/out/nodes-2.md, the
# servers' logs next to them, and one line on stdout compares the two
# rates: uploads accepted per second while driven, and end to end (until
# every accepted upload was rendered, the rate the nodes can sustain).
#
#   bench/nodes.sh                               # 30 s, 8 uploaders, no readers
#   bench/nodes.sh -duration 10s -uploaders 2    # flags for both runs (the last of a flag wins)
#
# PostgreSQL: VITRINE_TEST_POSTGRES_URL (any database of the server, which
# must let this user create databases), else
# postgres://postgres@127.0.0.1:5432/postgres. The run databases
# (vitrine_nodes_*) are dropped at exit; the bucket goes with the S3
# server. Other VITRINE_* variables pass through to both runs.
# Exit status: 1 when a run failed or missed a target (the summary is
# still printed when both wrote their report).
set -euo pipefail
cd "$(dirname "$0")/.."

# The defaults first: Go's flag package keeps the last value of a flag, so
# the arguments override them.
flags=(-duration 30s -uploaders 8 -readers 0 "$@")
shown="bench/nodes.sh${*:+ $*}" # the command the reports show

admin=${VITRINE_TEST_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable}
base=${admin%%\?*}     # postgres://USER@HOST:PORT/DB
query=${admin#"$base"} # ?sslmode=disable, or nothing
if [[ $base != *://*/* ]]; then
  echo "nodes: $admin: want postgres://USER@HOST:PORT/DATABASE[?...]" >&2
  exit 2
fi
suffix=$(printf '%04x%04x' $RANDOM $RANDOM)

mkdir -p bench/out
echo "nodes: building bin/vitrine" >&2
go build -o bin/vitrine ./cmd/vitrine

# One database per run, so that the second run starts as empty as the
# first. Created here, outside the subshell below, so that this shell's
# trap drops them whatever happens.
dbs=()
drop_databases() {
  for db in "${dbs[@]}"; do
    psql -q "$admin" -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" || true
  done
}
trap drop_databases EXIT
for n in 1 2; do
  db=vitrine_nodes_${suffix}_$n
  psql -q "$admin" -c "CREATE DATABASE $db"
  dbs+=("$db")
done

# run_load N runs the load program on N nodes, on database
# vitrine_nodes_SUFFIX_N and bucket prefix nodes-SUFFIX-N. A run that
# missed a target still wrote its report: that sets failed, for the end.
failed=0
run_load() {
  local n=$1 status=0
  local bucket=${VITRINE_TEST_S3_URL%%\?*} s3query=${VITRINE_TEST_S3_URL#*\?}
  rm -f "bench/out/nodes-$n.md"
  echo "nodes: -nodes $n ${flags[*]}" >&2
  # Without VITRINE_TEST_S3_URL, which vitrine does not read: the reports
  # list every VITRINE_* variable of the servers.
  env -u VITRINE_TEST_S3_URL \
    VITRINE_DATABASE_URL="${base%/*}/vitrine_nodes_${suffix}_$n$query" \
    VITRINE_STORAGE_URL="$bucket/nodes-$suffix-$n?$s3query" \
    VITRINE_MEDIA_SIGNED=1 \
    go run ./bench/load -build=false -vitrine bin/vitrine "${flags[@]}" -nodes "$n" \
    -out "bench/out/nodes-$n.md" -server-log "bench/out/nodes-$n-server.log" \
    -command "$shown (its -nodes $n run)" >/dev/null || status=$?
  if [[ ! -s bench/out/nodes-$n.md ]]; then
    echo "nodes: the -nodes $n run wrote no report (exit status $status)" >&2
    exit 1
  fi
  if ((status != 0)); then
    failed=1
  fi
}

# rate FILE LABEL prints the uploads/s in bold on the report's line that
# starts with "- LABEL:", or n/a.
rate() {
  local r
  r=$(sed -n "s/^- $2: .*\*\*\([0-9.]*\) uploads\/s\*\*.*/\1/p" "$1")
  echo "${r:-n/a}"
}

# ratio A B prints B/A as x1.23, or x? when either is unknown.
ratio() {
  awk -v a="$1" -v b="$2" 'BEGIN { if (a + 0 > 0 && b + 0 > 0) printf "x%.2f", b / a; else printf "x?" }'
}

# verdict FILE prints PASS or FAIL from the report's title.
verdict() {
  sed -n '1s/^## Load test: \([A-Z]*\).*/\1/p' "$1"
}

# The S3 server lives in this subshell: s3.sh sets an EXIT trap of its own
# to stop it, which in this shell would replace the one that drops the
# databases.
(
  . scripts/s3.sh
  run_load 1
  run_load 2
  one=bench/out/nodes-1.md two=bench/out/nodes-2.md
  a1=$(rate $one uploads) a2=$(rate $two uploads)
  e1=$(rate $one "end to end") e2=$(rate $two "end to end")
  echo "nodes: uploads/s accepted: 1 node $a1, 2 nodes $a2 ($(ratio "$a1" "$a2")); end to end: 1 node $e1, 2 nodes $e2 ($(ratio "$e1" "$e2")); $one $(verdict $one), $two $(verdict $two)"
  exit "$failed"
)
