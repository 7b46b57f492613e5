"""The book's chapters and their state: the one list that the README's "Studies" section and the book's
introduction are generated from, and the sentence each chapter page shows about the profile it was executed with.

``python -m ic.chapters`` rewrites the generated blocks of ``README.md`` and ``book/intro.md`` (between the
markers ``<!-- chapters:begin -->`` and ``<!-- chapters:end -->``); ``python -m ic.chapters --check`` exits
with status 1 when a block differs from this list (``tests/test_book.py`` runs the same check). To change a
chapter's state, edit :data:`CHAPTERS` and rerun ``python -m ic.chapters``.
"""

from __future__ import annotations

import argparse
import re
import sys
from dataclasses import dataclass
from pathlib import Path

STATES = ("complete", "in progress", "coming")
BEGIN, END = "<!-- chapters:begin -->", "<!-- chapters:end -->"
REPO = Path(__file__).resolve().parent.parent
GENERATED_FILES = ("README.md", "book/intro.md")


@dataclass(frozen=True)
class Chapter:
    title: str
    page: str | None        # the book page (path under book/, no suffix), None while it is not in the book
    files: tuple[str, ...]  # the repository files behind it (pages, notebooks, library)
    source: str             # what it reproduces, with citation keys of book/references.bib
    state: str              # one of STATES
    state_note: str         # one sentence on the state, for readers
    summary: str            # what the chapter does (README)

    def __post_init__(self) -> None:
        if self.state not in STATES:
            raise ValueError(f"chapter {self.title!r}: state {self.state!r} is not one of {STATES}")


CHAPTERS: tuple[Chapter, ...] = (
    Chapter(
        title="The three datasets at a glance",
        page="00_data",
        files=("notebooks/00_data.ipynb",),
        source="the datasets' publications {cite}`lecun1998gradient,xiao2017fashion,williams2008character`",
        state="complete",
        state_note="All three datasets are loaded, counted and shown.",
        summary="MNIST, Fashion-MNIST and UCI Character Trajectories: their loaders, counts and examples.",
    ),
    Chapter(
        title="Inverse classification with generative LSTMs",
        page="lstm",
        files=("book/lstm.md", "notebooks/lstm_noise_heatmaps.ipynb", "notebooks/lstm_sparsity.ipynb",
               "notebooks/lstm_controls.ipynb",
               "ic/lstm/"),
        source="Hobbhahn's bachelor's thesis {cite}`hobbhahn2018thesis,hobbhahn2019blog`",
        state="complete",
        state_note="Every experiment of the source ran with its protocol (the paper profile), and so did every "
                   "control beyond it: the 20-class sparse1 generators trained to convergence, the batch-1 "
                   "protocol on five instances, the inversion's iterations and loss scale.",
        summary="Training noise and the 2-D latent heat maps, the noise table, sparse1 / sparse4 / all data "
                "against forward LSTMs for 2, 4 and 20 classes, a check of our minibatch training against the "
                "thesis's batch 1, the renormalised-noise ablation and (beyond the source) multi-start inverse "
                "classification, decoding at the generators' vertices, a nearest-centre classifier, the "
                "20-class forward classifier on half its training data, one convergence rule applied to every "
                "model, the 20-class sparse generators trained to convergence, and the inversion's sensitivity to "
                "its iterations and loss scale.",
    ),
    Chapter(
        title="Inverse classification with a conditional GAN",
        page="cgan",
        files=("book/cgan.md", "notebooks/cgan_*.ipynb", "ic/cgan/"),
        source="Hobbhahn's blog post on GANs {cite}`hobbhahn2020gans`",
        state="in progress",
        state_note="The method, the protocol, the training of the GANs with noise sizes 25, 10, 50 and 100 and "
                   "their rows of the noise-size table (Table 1), the baselines, the noise's update rate (Table 2), "
                   "the late noise update (Table 3) and the ablations are in; the GAN with noise size 200, and with "
                   "it the last row of Table 1, is still training, and so, after it, is a control that trains "
                   "noise size 100 again without label noise.",
        summary="A conditional DCGAN on MNIST inverted by gradient descent on its class and noise inputs: "
                "the post's three experiments, with a small-CNN judge for model selection and two baselines.",
    ),
    Chapter(
        title="Classification by re-generation with variational autoencoders",
        page="vae",
        files=("book/vae.md", "notebooks/vae_*.ipynb", "ic/vae/"),
        source="Rezaeifar, Taran and Voloshynovskiy {cite}`rezaeifar2018regeneration`",
        state="complete",
        state_note="All six tables and the source's three figures are in, from the CPU profile: three seeds on "
                   "the full test sets for Tables I, III and VI, the σ² and few-label tables on 1 000 probes, "
                   "training capped at 20 rounds — and a control with the paper profile's 100 rounds, which "
                   "closes the gap to the source's MNIST accuracy.",
        summary="One VAE per class on MNIST and Fashion-MNIST, classification by re-generation and the "
                "Kullback–Leibler rejection rule.",
    ),
)


def _plain(text: str) -> str:
    """``text`` without its citations (``{cite}`key``` roles), for plain Markdown."""
    return re.sub(r"\s*\{cite\}`[^`]*`", "", text)


def intro_block(chapters: tuple[Chapter, ...] = CHAPTERS) -> str:
    """The chapter list of ``book/intro.md`` (MyST Markdown)."""
    lines = ["| chapter | based on | state |", "|---|---|---|"]
    for ch in chapters:
        title = f"{{doc}}`{ch.page}`" if ch.page else f"*{ch.title}* (not in the book yet)"
        lines.append(f"| {title} | {ch.source} | **{ch.state}**: {ch.state_note} |")
    return "\n".join(lines)


def readme_block(chapters: tuple[Chapter, ...] = CHAPTERS) -> str:
    """The "Studies" list of ``README.md`` (plain Markdown)."""
    lines = []
    for ch in chapters:
        files = f" ({', '.join(f'`{f}`' for f in ch.files)})" if ch.files else ""
        lines.append(f"- *{ch.title}*{files}, based on {_plain(ch.source)} — **{ch.state}**: "
                     f"{ch.state_note} {ch.summary}")
    return "\n".join(lines)


BLOCKS = {"README.md": readme_block, "book/intro.md": intro_block}


def _split(text: str, path: str) -> tuple[str, str, str]:
    if text.count(BEGIN) != 1 or text.count(END) != 1 or text.index(BEGIN) > text.index(END):
        raise ValueError(f"{path} needs exactly one {BEGIN} … {END} block (the generated chapter list)")
    head, rest = text.split(BEGIN)
    body, tail = rest.split(END)
    return head, body, tail


def generated(path: str, text: str) -> str:
    """``text`` of the file ``path`` with its chapter block regenerated from :data:`CHAPTERS`."""
    head, _, tail = _split(text, path)
    return f"{head}{BEGIN}\n{BLOCKS[path]()}\n{END}{tail}"


def stale_files(root: Path = REPO) -> list[str]:
    """The generated files whose chapter block differs from :data:`CHAPTERS` (empty: all agree)."""
    return [p for p in GENERATED_FILES
            if generated(p, (root / p).read_text(encoding="utf-8")) != (root / p).read_text(encoding="utf-8")]


PROFILE_MEANINGS = {
    "smoke": "a fast check of the whole pipeline with small models and few probes; its numbers are not results",
    "cpu": "what a 2-core CPU affords, as close to the source's protocol as that allows",
    "paper": "the protocol of the source, with the deviations the chapter states",
}


def executed_with(profile: str, same_for_all: bool = False) -> str:
    """The sentence a chapter page shows about the profile its notebook was executed with (Markdown)."""
    if profile not in PROFILE_MEANINGS:
        raise ValueError(f"unknown profile {profile!r}: use one of {', '.join(PROFILE_MEANINGS)}")
    if same_for_all:
        return (f"*This page was executed with the **{profile}** profile; its content is the same for every "
                f"profile.*")
    return f"*This page was executed with the **{profile}** profile: {PROFILE_MEANINGS[profile]}.*"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ic.chapters", description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="only check; exit 1 when a block is stale")
    args = parser.parse_args(argv)
    stale = stale_files()
    if args.check:
        for p in stale:
            print(f"{p}: the chapter list differs from ic/chapters.py; run `python -m ic.chapters`", file=sys.stderr)
        return 1 if stale else 0
    for p in stale:
        path = REPO / p
        tmp = path.with_suffix(path.suffix + ".tmp")
        tmp.write_text(generated(p, path.read_text(encoding="utf-8")), encoding="utf-8")
        tmp.replace(path)
        print(f"updated {p}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
