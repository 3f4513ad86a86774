#!/usr/bin/env bash
# The browser screenshots show Chinese pages: without a CJK font chromium draws every Chinese
# character as an empty box. Install Debian's Noto CJK fonts when none is present (as root with
# apt-get, as in CI); otherwise say loudly how to, and go on (the tests still run).
set -uo pipefail
if fc-list :lang=zh family 2>/dev/null | grep -q .; then
  exit 0
fi
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  echo "cjk-font: no CJK font; installing Debian's fonts-noto-cjk for the browser screenshots"
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq fonts-noto-cjk >/dev/null) \
    && fc-cache -f >/dev/null 2>&1 && exit 0
fi
echo "cjk-font: WARNING: no CJK font; Chinese in browser screenshots will be empty boxes." \
  "Install one: sudo apt-get install fonts-noto-cjk" >&2
exit 0
