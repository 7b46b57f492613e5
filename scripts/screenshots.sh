#!/usr/bin/env bash
# Headless Chromium screenshots of every page of the built book, at a wide (1400 px) and a narrow (800 px)
# window, cut into tiles that an image viewer shows at full size.
# Usage: scripts/screenshots.sh [HTML_DIR] [OUT_DIR]   (defaults: _build/html _build/screenshots)
# Environment: WIDTHS="1400 800" (window widths), SHOT_HEIGHT=16000 (tall enough for the longest page),
#              TILE=1800 (tile height in px), PAGES="book/intro.html ..." (default: every page under book/).
# Output: OUT_DIR/<page>-<width>-<n>.png. Needs Debian's `chromium` (apt-get install -y chromium) and Pillow
# (installed with matplotlib). Works offline: pages are opened as file:// URLs.
set -euo pipefail

html_dir=$(cd "${1:-_build/html}" && pwd)
out_dir=${2:-_build/screenshots}
mkdir -p "$out_dir"
out_dir=$(cd "$out_dir" && pwd)
py=${PYTHON:-.venv/bin/python}
[[ -x "$py" ]] || py=python3

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

shoot() {  # shoot PAGE WIDTH: one tall screenshot, then tiles without the blank bottom
  local page="$html_dir/$1" width=$2 name
  name=$(basename "$1" .html)
  if [[ ! -f "$page" ]]; then echo "skip $1 (not built)" >&2; return 0; fi
  local raw="$profile/$name-$width.png"
  # --virtual-time-budget lets scripts (e.g. MathJax) finish before the capture.
  "$browser" --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
    --disable-background-networking --disable-component-update --disable-sync \
    --user-data-dir="$profile/user" --window-size="$width,${SHOT_HEIGHT:-16000}" --hide-scrollbars \
    --virtual-time-budget=10000 --screenshot="$raw" "file://$page" >/dev/null 2>&1
  rm -f "$out_dir/$name-$width"-*.png
  "$py" - "$raw" "$out_dir/$name-$width" "${TILE:-1800}" <<'EOF'
import sys
from PIL import Image

raw, stem, tile = sys.argv[1], sys.argv[2], int(sys.argv[3])
img = Image.open(raw).convert("RGB")
# The window is taller than the page: the footer sits at the bottom after a run of identical empty rows.
# Cut the longest such run down to 40 px.
rows = [img.crop((0, y, img.width, y + 1)).tobytes() for y in range(img.height)]
best = (0, 0)
start = 0
for y in range(1, img.height + 1):
    if y == img.height or rows[y] != rows[start]:
        if y - start > best[1] - best[0]:
            best = (start, y)
        start = y
if best[1] - best[0] > 200:
    top, bottom = img.crop((0, 0, img.width, best[0] + 40)), img.crop((0, best[1], img.width, img.height))
    img = Image.new("RGB", (img.width, top.height + bottom.height))
    img.paste(top, (0, 0))
    img.paste(bottom, (0, top.height))
for n, y0 in enumerate(range(0, img.height, tile), start=1):
    path = f"{stem}-{n}.png"
    img.crop((0, y0, img.width, min(y0 + tile, img.height))).save(path)
    print(path)
EOF
}

if [[ -n "${PAGES:-}" ]]; then
  read -r -a pages <<<"$PAGES"
else
  mapfile -t pages < <(cd "$html_dir" && ls book/*.html)
fi
for page in "${pages[@]}"; do
  for width in ${WIDTHS:-1400 800}; do
    shoot "$page" "$width"
  done
done
