#!/usr/bin/env bash
# Install everything the tests need (Python packages, Redis, Chromium), then run the whole suite.
# The S3-compatible server for the attachments' tests (moto's standalone server) comes with the
# test extra and is started by the tests themselves (tests/_s3.py), on a free port.
set -euo pipefail
cd "$(dirname "$0")/.."

python3 -m pip install --quiet --disable-pip-version-check -e '.[test]'

apt_install() {
  if [ "$(id -u)" = 0 ]; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
  else
    sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
  fi
}

# A real Redis on 127.0.0.1:6379 for the Redis backend's tests.
if ! command -v redis-server >/dev/null; then apt_install redis-server; fi
if ! redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1; then
  mkdir -p /tmp/chatserver-redis
  redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no \
    --dir /tmp/chatserver-redis --logfile /tmp/chatserver-redis/redis.log
  for _ in $(seq 50); do redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1 && break; sleep 0.1; done
fi

# Debian's Chromium for the browser tests (Playwright drives it through executable_path).
if ! command -v chromium >/dev/null; then apt_install chromium; fi
# A font with Chinese, Japanese and Korean, so screenshots of those languages are legible.
if ! fc-list :lang=ja | grep -q .; then apt_install fonts-wqy-microhei; fi

# pytest exits 5 when it collected no test: that must fail, not pass silently.
status=0
python3 -m pytest "$@" || status=$?
if [ "$status" = 5 ]; then echo "no tests ran" >&2; exit 1; fi
exit "$status"
