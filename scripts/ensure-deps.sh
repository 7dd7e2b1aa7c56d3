#!/usr/bin/env bash
# Installs what the console and its tests need on a fresh Debian machine: Node packages always;
# Chromium (browser tests) and redis-server (multi-hub tests) when missing and we may use apt.
set -euo pipefail
cd "$(dirname "$0")/.."

need_apt=()
[ -x /usr/bin/chromium ] || need_apt+=(chromium)
command -v redis-server >/dev/null 2>&1 || need_apt+=(redis-server)
if [ "${#need_apt[@]}" -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "installing ${need_apt[*]} with apt-get"
    if [ ! -f /tmp/.relaydesk-apt-updated ]; then apt-get update -qq && touch /tmp/.relaydesk-apt-updated; fi
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_apt[@]}" >/dev/null
  else
    echo "warning: missing ${need_apt[*]}; install them (e.g. sudo apt-get install ${need_apt[*]})" >&2
  fi
fi

# npm ci only when the lock file changed since the last install (or nothing is installed yet).
stamp=node_modules/.relaydesk-lock
if [ ! -f "$stamp" ] || ! cmp -s package-lock.json "$stamp"; then
  npm ci --no-audit --no-fund
  cp package-lock.json "$stamp"
fi
