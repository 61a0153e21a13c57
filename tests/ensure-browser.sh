#!/bin/sh
# The browser tests drive Debian's Chromium with Playwright (never `playwright install`);
# this makes sure a system Chromium is here. Under CI=true a browser that cannot be
# installed stops the run here; elsewhere the browser tests fail and name the command.
for b in chromium chromium-headless-shell; do
  command -v "$b" >/dev/null 2>&1 && exit 0
done
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "Chromium is missing: installing Debian's chromium package" >&2
  apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium && exit 0
fi
echo "Chromium is missing and could not be installed here. Run:" >&2
echo "    sudo apt-get update && sudo apt-get install -y chromium" >&2
if [ "$CI" = "true" ]; then exit 1; fi
exit 0
