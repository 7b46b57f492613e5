"""Glue helpers for the book: numbers, text, tables and figures from the notebooks into the pages.

Strings are glued as plain text (MyST-NB strips the quotes when pasting with ``{glue:text}``), numbers as plain
Python floats/ints (paste with ``{glue:text}`` and a format spec; NumPy scalars would break format specs),
tables and figures as themselves (paste with ``{glue:figure}``); tables and figures are also displayed once in
the notebook.
"""

from __future__ import annotations

import math

import pandas as pd


def _glue(name, value, display):
    from myst_nb import glue

    glue(name, value, display=display)


def number(name: str, value: float) -> None:
    value = float(value)
    _glue(name, value if math.isfinite(value) else float("nan"), False)


def text(name: str, value: str) -> None:
    """Glue a string; paste with ``{glue:text}`key``` (same page) or ``{glue:text}`nb.ipynb::key:s``` (another)."""
    _glue(name, str(value), False)


def table(name: str, df: pd.DataFrame, display: bool = True) -> None:
    if isinstance(df, pd.DataFrame):
        df = (df.style.hide(axis="index").format(precision=2, na_rep="—")
              .set_table_styles([{"selector": "th, td", "props": "padding: 3px 12px; text-align: left;"},
                                 {"selector": "th", "props": "border-bottom: 1px solid #888;"}]))
    _glue(name, df, display)


def figure(name: str, fig, display: bool = True) -> None:
    import matplotlib.pyplot as plt

    _glue(name, fig, display)
    plt.close(fig)
