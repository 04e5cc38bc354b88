#!/usr/bin/env bash
# Makes a Python virtual environment with redis-py (the `redis` package) for the client tests, and prints
# its python's path on the last line. Idempotent: an existing environment with redis-py is reused.
# Usage: test/support/redis-py-venv.sh [DIR]   (default: .tmp/redis-py-venv in the repository, gitignored)
set -euo pipefail
cd "$(dirname "$0")/../.."
dir="${1:-.tmp/redis-py-venv}"
if ! command -v python3 >/dev/null 2>&1; then
  echo "redis-py-venv: python3 not found on PATH" >&2
  exit 3
fi
if [ -x "$dir/bin/python" ] && "$dir/bin/python" -c 'import redis.sentinel' >/dev/null 2>&1; then
  echo "$dir/bin/python"
  exit 0
fi
rm -rf "$dir"
python3 -m venv "$dir"
# pip uses the machine's configured package index; the version range is the one the tests were written for.
"$dir/bin/python" -m pip install --quiet --disable-pip-version-check --retries 0 --timeout 10 'redis>=5,<9' >&2
"$dir/bin/python" -c 'import redis; print("redis-py", redis.__version__)' >&2
echo "$dir/bin/python"
