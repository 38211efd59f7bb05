# s3.sh is sourced by test.sh and chaos.sh (from the repository root): it
# starts an S3-compatible server (versitygw, Apache-2.0, installed with
# `go install` when missing) on a free loopback port, stops it when the
# sourcing script exits, and exports the AWS credentials and
# VITRINE_TEST_S3_URL (a bucket on it) that the tests read. It sets $port.

versitygw_version=v1.8.0
gobin=$(go env GOPATH)/bin
if [[ ! -x $gobin/versitygw ]]; then
  echo "test: installing versitygw $versitygw_version (the S3 server of the tests)" >&2
  GOFLAGS= go install "github.com/versity/versitygw/cmd/versitygw@$versitygw_version"
fi

# A free port: try random ones until nothing answers there.
port=
for _ in $(seq 50); do
  p=$((20000 + RANDOM % 20000))
  if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then port=$p; break; fi
done
[[ -n $port ]] || { echo "test: no free port for the S3 server" >&2; exit 1; }

s3root=$(mktemp -d)
mkdir -p "$s3root/vitrine-test"
export AWS_ACCESS_KEY_ID=vitrinetest AWS_SECRET_ACCESS_KEY=vitrinetestsecret
"$gobin/versitygw" --access "$AWS_ACCESS_KEY_ID" --secret "$AWS_SECRET_ACCESS_KEY" \
  --port "127.0.0.1:$port" posix "$s3root" >"$s3root.log" 2>&1 &
s3pid=$!
trap 'kill $s3pid 2>/dev/null; rm -rf "$s3root" "$s3root.log"' EXIT
for _ in $(seq 100); do
  (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break
  sleep 0.1
done
export VITRINE_TEST_S3_URL="s3://vitrine-test?endpoint=http://127.0.0.1:$port&path_style=1&region=us-east-1"
