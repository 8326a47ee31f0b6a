#!/bin/sh
# Makes sure the browser tests have a browser (issue 15); `make test` runs this first.
# Chromium from the system package manager, never Playwright's download. As root with apt-get: installs it.
# Otherwise: says what to install and fails, so `make test` stops with the reason instead of failing later.
set -eu
CHROMIUM="${WAITPOINTS_CHROMIUM:-/usr/bin/chromium}"
if [ -x "$CHROMIUM" ] || command -v "$CHROMIUM" >/dev/null 2>&1; then
  exit 0
fi
if [ "$CHROMIUM" = /usr/bin/chromium ] && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "Installing Chromium for the browser tests (apt-get install chromium)..."
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium
  [ -x "$CHROMIUM" ] && exit 0
fi
cat >&2 <<MSG
error: the browser tests need Chromium at $CHROMIUM, and it is not there.
  Debian/Ubuntu:  sudo apt-get install chromium
  Fedora:         sudo dnf install chromium
  Or point WAITPOINTS_CHROMIUM at a Chromium or Chrome executable (e.g. on macOS,
  WAITPOINTS_CHROMIUM="/Applications/Google Chrome.app/Contents/MacOS/Google Chrome").
MSG
exit 1
