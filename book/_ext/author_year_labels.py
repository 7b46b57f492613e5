"""Sphinx extension of the book: bibliography labels by author and year ("Hobbhahn 2018", "Rezaeifar et al.
2018"), so that the reference list reads like the author–year citations in the text.

Registers the pybtex label style ``author_year`` and the formatting style ``plain_author_year`` (pybtex's
``plain`` with these labels); ``_config.yml`` selects it with ``bibtex_default_style: plain_author_year``.
Labels that would repeat get a letter: "Hobbhahn 2020a", "Hobbhahn 2020b".
"""

from __future__ import annotations

from collections import Counter

from pybtex.plugin import register_plugin
from pybtex.style.formatting.plain import Style as PlainStyle
from pybtex.style.labels import BaseLabelStyle


def _names(entry) -> str:
    persons = entry.persons.get("author") or entry.persons.get("editor") or []
    last = [" ".join(p.last_names) for p in persons]
    if not last:
        return entry.fields.get("organization", entry.key)
    if len(last) == 1:
        return last[0]
    if len(last) == 2:
        return f"{last[0]} & {last[1]}"
    return f"{last[0]} et al."


class AuthorYearLabelStyle(BaseLabelStyle):
    def format_labels(self, sorted_entries):
        entries = list(sorted_entries)
        base = [f"{_names(e)} {e.fields.get('year', 'n.d.')}".replace("{", "").replace("}", "") for e in entries]
        counts, seen = Counter(base), Counter()
        for label in base:
            if counts[label] > 1:
                seen[label] += 1
                yield f"{label}{chr(ord('a') + seen[label] - 1)}"
            else:
                yield label


class PlainAuthorYearStyle(PlainStyle):
    default_label_style = "author_year"


register_plugin("pybtex.style.labels", "author_year", AuthorYearLabelStyle)
register_plugin("pybtex.style.formatting", "plain_author_year", PlainAuthorYearStyle)


def setup(app):
    return {"parallel_read_safe": True, "parallel_write_safe": True}
