"""One figure style for the whole book, legible at page width.

The book's pages are about 800 px wide and its body text about 16 px. A figure :data:`WIDTH` inches wide is
rendered at :data:`DPI` dots per inch, i.e. 800 px, so a font of :data:`FONT_PT` points (≈ 17 px) keeps tick
labels and legends at least the size of the body text when the figure fills the page. Every figure of the book
is at most :data:`WIDTH` wide (:func:`figsize`), and heat maps carry their axes and a colour bar
(:func:`heatmap`, :func:`heatmap_grid`).
"""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
import numpy as np
import seaborn as sns

WIDTH = 8.0      # inches: the page width
DPI = 100        # WIDTH × DPI = 800 px
FONT_PT = 12     # ≥ body text at 800 px (12 pt at 100 dpi ≈ 16.7 px)

RC = {"figure.dpi": DPI, "savefig.dpi": DPI, "font.size": FONT_PT, "axes.titlesize": FONT_PT + 1,
      "axes.labelsize": FONT_PT, "xtick.labelsize": FONT_PT, "ytick.labelsize": FONT_PT,
      "legend.fontsize": FONT_PT, "legend.title_fontsize": FONT_PT, "figure.titlesize": FONT_PT + 2,
      "lines.linewidth": 1.6, "figure.constrained_layout.use": False}


def use_book_style() -> None:
    """Seaborn's whitegrid theme at the book's font sizes (called by every report module on import)."""
    sns.set_theme(style="whitegrid", context="notebook", rc=RC)


def figsize(aspect: float = 0.45, width: float = WIDTH) -> tuple[float, float]:
    """(width, height) of a figure: the page width unless narrower, height = aspect × width."""
    width = min(width, WIDTH)
    return width, aspect * width


def subplots(nrows: int = 1, ncols: int = 1, aspect: float = 0.45, **kw):
    """``plt.subplots`` at the page width; always a 2-D array of axes."""
    return plt.subplots(nrows, ncols, figsize=figsize(aspect), squeeze=False, **kw)


def panel_grid(n: int, max_cols: int = 3, panel_aspect: float = 0.85, **kw):
    """``n`` panels at the page width, at most ``max_cols`` a row; returns the figure and the ``n`` axes (the
    unused cells of the last row are switched off)."""
    cols = max(1, min(n, max_cols))
    rows = -(-n // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(WIDTH, WIDTH / cols * panel_aspect * rows + 0.8), squeeze=False,
                             **kw)
    flat = list(axes.flat)
    for ax in flat[n:]:
        ax.axis("off")
    return fig, flat[:n]


def log_y(ax) -> None:
    """A logarithmic y axis with plain tick labels (0.2, 1) instead of powers of ten on every minor tick."""
    from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

    ax.set_yscale("log")
    ax.yaxis.set_major_locator(LogLocator(subs=(1.0, 2.0, 5.0)))
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
    ax.yaxis.set_minor_formatter(NullFormatter())


def legend_in(ax, source_ax, title: str | None = None) -> None:
    """The legend of ``source_ax`` in the spare panel ``ax`` (switched off), removing every panel's own."""
    handles, labels = source_ax.get_legend_handles_labels()
    for a in ax.figure.axes:
        if a.get_legend() is not None:
            a.get_legend().remove()
    ax.axis("off")
    if handles:
        ax.legend(handles, labels, title=title, loc="center", frameon=False)


def legend_outside(fig, ax, title: str | None = None, ncol: int | None = None) -> None:
    """One legend for the figure, below the panels (the handles of ``ax``), removing every panel's own."""
    handles, labels = ax.get_legend_handles_labels()
    for a in fig.axes:
        if a.get_legend() is not None:
            a.get_legend().remove()
    if handles:
        fig.legend(handles, labels, title=title, loc="lower center", ncol=ncol or min(len(labels), 5),
                   frameon=False, bbox_to_anchor=(0.5, 0.0))


def _grid_ticks(steps: int, every: int) -> tuple[list[float], list[str]]:
    pos = list(range(0, steps, every))
    return [p + 0.5 for p in pos], [f"{v:g}" for v in np.linspace(0, 1, steps)[pos].round(6)]


def heatmap(ax, m: np.ndarray, *, title: str = "", xlabel: str = "", ylabel: str = "", cbar_label: str = "",
            vmin: float | None = None, vmax: float | None = None, cmap: str = "Blues", tick_every: int = 2,
            cbar: bool = True, diagonal: bool = True):
    """One square heat map of a grid over [0, 1]² (rows: first input, columns: second), with tick labels every
    ``tick_every`` cells, axis labels, a colour bar and (``diagonal``) the diagonal dashed. Returns the image."""
    steps = m.shape[0]
    im = ax.imshow(m, cmap=cmap, vmin=vmin, vmax=vmax, origin="upper", extent=(0, steps, steps, 0))
    pos, labels = _grid_ticks(steps, tick_every)
    ax.set_xticks(pos, labels)
    ax.set_yticks(pos, labels)
    ax.grid(False)
    if diagonal:
        ax.plot([0, steps], [0, steps], color="crimson", lw=1.2, ls="--")
    ax.set(title=title, xlabel=xlabel, ylabel=ylabel)
    if cbar:
        ax.figure.colorbar(im, ax=ax, shrink=0.8, label=cbar_label)
    return im


def heatmap_grid(maps: dict[tuple, np.ndarray], rows: Sequence, cols: Sequence, *, xlabel: str, ylabel: str,
                 cbar_label: str, titles: dict[tuple, str] | None = None, row_label=None, col_label=None,
                 notes: dict[tuple, str] | None = None, vmin: float | None = None, vmax: float | None = None,
                 cmap: str = "Blues", tick_every: int = 5):
    """A grid of heat maps on one colour scale (default: the range of all maps) with one colour bar:
    ``maps[(row, col)]``; a title per panel (``titles``) or column headers (``col_label(col)``) and row labels
    (``row_label(row)``); tick labels on the outer panels only; an optional note per panel (e.g. a score)."""
    n_r, n_c = len(rows), len(cols)
    vmin = min(float(np.min(m)) for m in maps.values()) if vmin is None else vmin
    vmax = max(float(np.max(m)) for m in maps.values()) if vmax is None else vmax
    side = WIDTH * 0.8 / n_c
    fig, axes = plt.subplots(n_r, n_c, figsize=(WIDTH, side * n_r + 1.0), squeeze=False, sharex=True, sharey=True)
    im = None
    for r, rv in enumerate(rows):
        for c, cv in enumerate(cols):
            ax = axes[r][c]
            m = maps.get((rv, cv))
            if m is None:
                ax.axis("off")
                continue
            im = heatmap(ax, m, vmin=vmin, vmax=vmax, cmap=cmap, cbar=False, tick_every=tick_every)
            ax.tick_params(labelbottom=r == n_r - 1, labelleft=c == 0)
            if notes and (rv, cv) in notes:
                ax.text(0.96, 0.04, notes[(rv, cv)], transform=ax.transAxes, ha="right", va="bottom",
                        bbox={"boxstyle": "round,pad=0.15", "fc": "white", "alpha": 0.85, "lw": 0})
            if titles is not None:
                ax.set_title(titles.get((rv, cv), ""))
            elif r == 0 and col_label is not None:
                ax.set_title(col_label(cv))
            if c == 0 and row_label is not None:
                ax.set_ylabel(row_label(rv))
    fig.supxlabel(xlabel)
    fig.supylabel(ylabel)
    fig.tight_layout(rect=(0, 0, 0.86, 1))
    if im is not None:
        cax = fig.add_axes((0.88, 0.15, 0.025, 0.7))
        fig.colorbar(im, cax=cax, label=cbar_label)
    return fig


def empty_figure(message: str):
    """A placeholder figure that says what is missing (a partial results store)."""
    fig, ax = plt.subplots(figsize=figsize(0.2))
    ax.text(0.5, 0.5, message, ha="center", va="center")
    ax.axis("off")
    return fig
