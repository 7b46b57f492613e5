"""Hide the parameters cells of notebooks in the book: add the MyST-NB tag ``remove-cell`` to every cell tagged
``parameters`` (the defaults, e.g. ``profile = "smoke"``) or ``injected-parameters`` (the values papermill
injected, e.g. ``profile = "paper"``). The page states its profile in prose instead (``ic.chapters.executed_with``).

Usage: python scripts/tag_parameters.py NOTEBOOK.ipynb [...]   (idempotent; rewrites only the notebooks that
change, keeping their JSON layout; ``--check`` lists the notebooks that still need it and exits 1 if any).
``make notebooks`` runs it over each executed copy in book/; run it once over notebooks/*.ipynb for the sources.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

PARAMETER_TAGS = ("parameters", "injected-parameters")
HIDE_TAG = "remove-cell"


def tag_cells(nb: dict) -> int:
    """Add ``remove-cell`` to the parameters cells of the notebook ``nb`` (in place); return how many changed."""
    changed = 0
    for cell in nb.get("cells", []):
        tags = cell.setdefault("metadata", {}).setdefault("tags", [])
        if any(t in tags for t in PARAMETER_TAGS) and HIDE_TAG not in tags:
            tags.append(HIDE_TAG)
            changed += 1
        if not tags:
            del cell["metadata"]["tags"]
    return changed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("notebooks", nargs="+", type=Path)
    parser.add_argument("--check", action="store_true", help="only list the notebooks that need tagging")
    args = parser.parse_args(argv)
    pending = []
    for path in args.notebooks:
        text = path.read_text(encoding="utf-8")
        nb = json.loads(text)
        if not tag_cells(nb):
            continue
        pending.append(path)
        if not args.check:
            indent = 1 if text.startswith('{\n "') else 2
            tmp = path.with_suffix(".ipynb.tmp")
            tmp.write_text(json.dumps(nb, indent=indent, ensure_ascii=False) + "\n", encoding="utf-8")
            tmp.replace(path)
    for path in pending:
        print(f"{'needs tagging' if args.check else 'tagged'}: {path}")
    return 1 if args.check and pending else 0


if __name__ == "__main__":
    sys.exit(main())
