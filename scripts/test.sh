#!/usr/bin/env bash
# test.sh is `make test`: vet, the gofmt check and every test, against real
# servers on loopback.
#
# - Every package runs on SQLite and local files.
# - An S3-compatible server (versitygw, Apache-2.0, installed with
#   `go install` when missing) runs on a free loopback port, so the S3 store
#   tests and the many-nodes test have a real bucket.
# - When VITRINE_TEST_POSTGRES_URL is set (CI sets it), the store, HTTP and
#   command tests run a second time on PostgreSQL, each test in a schema of
#   its own; the many-nodes test needs it. The HTTP tests then run a third
#   time, on PostgreSQL and the S3 bucket (VITRINE_TEST_STORAGE=s3), the
#   production shape.
# - The chaos test (25 SIGKILLs per shape, see scripts/chaos.sh) runs once
#   at the end, on SQLite and local files and, with PostgreSQL, on
#   PostgreSQL and S3.
set -euo pipefail
cd "$(dirname "$0")/.."

. scripts/s3.sh

postgres=${VITRINE_TEST_POSTGRES_URL:-}
echo "test: SQLite, local files and S3 at 127.0.0.1:$port" >&2
VITRINE_TEST_POSTGRES_URL= go test -count=1 -skip '^TestChaos$' ./...
if [[ -n $postgres ]]; then
  echo "test: again on PostgreSQL" >&2
  VITRINE_TEST_POSTGRES_URL=$postgres go test -count=1 -skip '^TestChaos$' ./sqldb/... ./httpapi/... ./cmd/...
  echo "test: the HTTP tests on PostgreSQL and S3" >&2
  VITRINE_TEST_POSTGRES_URL=$postgres VITRINE_TEST_STORAGE=s3 go test -count=1 ./httpapi/...
else
  echo "test: VITRINE_TEST_POSTGRES_URL is not set: the PostgreSQL runs and the many-nodes test were skipped" >&2
fi

# The chaos test once, on every shape there is (see scripts/chaos.sh).
echo "test: chaos (25 kills per shape)" >&2
go test -count=1 -run '^TestChaos$' ./cmd/vitrine
