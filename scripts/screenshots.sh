#!/usr/bin/env bash
# Headless Chromium screenshots of the built book (intro page and data chapter).
# Usage: scripts/screenshots.sh [HTML_DIR] [OUT_DIR]   (defaults: _build/html _build/screenshots)
# Needs Debian's `chromium` (apt-get install -y chromium). Works offline: pages are opened as file:// URLs.
set -euo pipefail

html_dir=$(cd "${1:-_build/html}" && pwd)
out_dir=${2:-_build/screenshots}
mkdir -p "$out_dir"
out_dir=$(cd "$out_dir" && pwd)

browser=""
for candidate in chromium chromium-browser google-chrome; do
  if command -v "$candidate" >/dev/null 2>&1; then browser=$candidate; break; fi
done
if [[ -z "$browser" ]]; then
  echo "chromium not found: install it with 'apt-get install -y chromium'" >&2
  exit 1
fi

profile=$(mktemp -d)
trap 'rm -rf "$profile"' EXIT

shoot() {  # shoot PAGE NAME
  local page="$html_dir/$1" png="$out_dir/$2.png"
  if [[ ! -f "$page" ]]; then echo "skip $1 (not built)" >&2; return 0; fi
  # --virtual-time-budget lets scripts (e.g. MathJax, when it can load) finish before the capture.
  "$browser" --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
    --disable-background-networking --disable-component-update --disable-sync \
    --user-data-dir="$profile" --window-size=1280,${SHOT_HEIGHT:-2000} --hide-scrollbars \
    --virtual-time-budget=10000 --screenshot="$png" "file://$page" >/dev/null 2>&1
  echo "$png"
}

shoot book/intro.html intro
shoot book/00_data.html data
shoot book/lstm.html lstm
shoot book/lstm_noise_heatmaps.html lstm_noise_heatmaps
shoot book/lstm_sparsity.html lstm_sparsity
