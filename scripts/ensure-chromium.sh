#!/usr/bin/env bash
# Make sure Debian's Chromium (and a font with Chinese characters, for readable screenshots) is
# installed for the web console's browser tests: apt-get install when /usr/bin/chromium is
# missing (needs root). In CI (CI=true) a failure fails the run; elsewhere the browser tests
# skip and say why.
set -uo pipefail
in_ci() { [ "${CI:-}" = "true" ]; }
give_up() {
  if in_ci; then echo "ensure-chromium: $1" >&2; exit 1; fi
  echo "ensure-chromium: $1 -- the web console's browser tests will be skipped on this machine." >&2
  exit 0
}
if [ ! -x /usr/bin/chromium ] || ! fc-list :lang=zh 2>/dev/null | grep -q .; then
  [ "$(id -u)" = "0" ] || give_up "Chromium is missing and installing it needs root (apt-get install chromium fonts-wqy-microhei)"
  command -v apt-get >/dev/null || give_up "no apt-get to install Chromium with"
  echo "ensure-chromium: installing chromium and fonts-wqy-microhei" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null || give_up "apt-get update failed"
  apt-get install -y -qq chromium fonts-wqy-microhei >/dev/null || give_up "apt-get install chromium failed"
fi
echo "ensure-chromium: $(/usr/bin/chromium --version 2>/dev/null | head -1)" >&2
