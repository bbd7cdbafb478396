#!/usr/bin/env bash
# Looks at a run report as a picture: writes RUN_DIR/report.html with `behemoth report` and takes a
# full-page screenshot of it with headless Chromium (Debian: apt-get install chromium).
#   tools/report-screenshot.sh RUN_DIR [OUT.png] [WIDTHxHEIGHT]
# Without RUN_DIR it trains a short run first (behemoth train --steps 60 --eval-every 20).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
run_dir="${1:-}"
out="${2:-/tmp/report.png}"
size="${3:-1400x3000}"

browser="$(command -v chromium || command -v chromium-browser || command -v google-chrome || true)"
if [ -z "$browser" ]; then
  echo "report-screenshot: no chromium found; install it (apt-get install -y chromium)" >&2
  exit 1
fi

if [ -z "$run_dir" ]; then
  run_dir="$(mktemp -d /tmp/behemoth-run.XXXXXX)"
  "$root/behemoth" train --steps 60 --eval-every 20 --out "$run_dir"
fi
"$root/behemoth" report "$run_dir"

profile="$(mktemp -d /tmp/behemoth-chromium.XXXXXX)"
trap 'rm -rf "$profile"' EXIT
# No network, no first-run work, no GPU: the page is self-contained and only needs drawing.
"$browser" --headless --no-sandbox --disable-gpu --disable-background-networking \
  --disable-component-update --disable-sync --no-first-run --hide-scrollbars \
  --user-data-dir="$profile" --screenshot="$out" --window-size="${size/x/,}" \
  "file://$(cd "$run_dir" && pwd)/report.html" 2>/dev/null
echo "screenshot of $run_dir/report.html: $out"
