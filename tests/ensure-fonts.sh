#!/bin/sh
# Screenshots of the Korean console need a Korean font: Debian's fonts-noto-cjk (or
# fonts-nanum). This installs Noto CJK where no Korean font is found.
if command -v fc-list >/dev/null 2>&1 && [ -n "$(fc-list :lang=ko)" ]; then exit 0; fi
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "No Korean font: installing Debian's fonts-noto-cjk" >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q fonts-noto-cjk && exit 0
  apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q fonts-noto-cjk && exit 0
fi
echo "No Korean font, and none could be installed here. Run:" >&2
echo "    sudo apt-get update && sudo apt-get install -y fonts-noto-cjk" >&2
exit 1
