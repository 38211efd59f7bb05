#!/usr/bin/env bash
# chaos.sh is `make test-chaos`: the chaos test (TestChaos in cmd/vitrine)
# kills vitrine serve with SIGKILL 25 times while clients upload, replace
# and delete, then checks that nothing a client was told about is lost and
# no file is leaked. It runs on SQLite and local files, and on PostgreSQL
# and S3 when VITRINE_TEST_POSTGRES_URL is set (CI sets it; the S3 server
# is started here, as for make test). VITRINE_CHAOS_SEED=N replays the
# requests and kill delays of a logged seed.
set -euo pipefail
cd "$(dirname "$0")/.."

. scripts/s3.sh

if [[ -z ${VITRINE_TEST_POSTGRES_URL:-} ]]; then
  echo "chaos: VITRINE_TEST_POSTGRES_URL is not set: PostgreSQL and S3 are skipped" >&2
fi
go test -count=1 -v -run '^TestChaos$' ./cmd/vitrine
