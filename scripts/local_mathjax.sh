#!/usr/bin/env bash
# Make the built book render formulas offline: copy MathJax 3 (from the npm registry package `mathjax`,
# cached in .cache/mathjax) into _build/html/_static/mathjax and point the pages at it instead of the CDN.
# Optional: when the package cannot be had (no npm, no registry), the pages keep the CDN URL, which
# renders formulas whenever the reader is online. Never fails the build.
# Usage: scripts/local_mathjax.sh [HTML_DIR]
set -uo pipefail

html_dir=${1:-_build/html}
version=${MATHJAX_VERSION:-3.2.2}
cache=.cache/mathjax-$version
cdn="https://cdn.jsdelivr.net/npm/mathjax@3/es5/tex-mml-chtml.js"

if [[ ! -f "$cache/es5/tex-mml-chtml.js" ]]; then
  if ! command -v npm >/dev/null 2>&1; then
    echo "local_mathjax: npm not found; formulas load MathJax from the CDN" >&2; exit 0
  fi
  tmp=$(mktemp -d)
  if (cd "$tmp" && timeout 90 npm pack "mathjax@$version" --silent --fetch-retries=1 --fetch-timeout=20000 >/dev/null 2>&1) \
     && tar xzf "$tmp"/mathjax-*.tgz -C "$tmp" package/es5/tex-mml-chtml.js package/es5/output/chtml/fonts/woff-v2; then
    mkdir -p "$cache" && cp -r "$tmp/package/es5" "$cache/"
  else
    echo "local_mathjax: could not fetch mathjax@$version; formulas load MathJax from the CDN" >&2
  fi
  rm -rf "$tmp"
  [[ -f "$cache/es5/tex-mml-chtml.js" ]] || exit 0
fi

mkdir -p "$html_dir/_static/mathjax"
cp -r "$cache/es5/." "$html_dir/_static/mathjax/"
# Rewrite the CDN URL to the local copy, relative to each page's folder.
grep -rlF --include='*.html' "$cdn" "$html_dir" | while read -r page; do
  rel=$(realpath --relative-to="$(dirname "$page")" "$html_dir/_static/mathjax/tex-mml-chtml.js")
  sed -i "s#${cdn}#${rel}#g" "$page"
done
exit 0
