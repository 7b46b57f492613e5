"""Checks of the built Jupyter Book (``_build/html``): every image and internal link resolves.

``make test`` builds the book first (``make book``). When ``_build/html/index.html`` is missing (for example
when pytest is run on its own), the book is built into a temporary folder instead.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

REPO = Path(__file__).resolve().parent.parent
DATA_CHAPTER = "book/00_data.html"
SKIP_DIRS = {"_static", "_sources"}

# (tag, attribute) pairs whose value is a URL that the page needs.
URL_ATTRS = {("a", "href"), ("img", "src"), ("link", "href"), ("script", "src"), ("source", "src")}


class _PageParser(HTMLParser):
    """Collect the URLs a page refers to and the fragment targets (ids) it defines."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.urls: list[tuple[str, str]] = []  # (tag, url)
        self.ids: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if value is None:
                continue
            if name == "id" or (tag == "a" and name == "name"):
                self.ids.add(value)
            if (tag, name) in URL_ATTRS:
                self.urls.append((tag, value))

    handle_startendtag = handle_starttag


def _parse(page: Path) -> _PageParser:
    parser = _PageParser()
    parser.feed(page.read_text(encoding="utf-8", errors="replace"))
    parser.close()
    return parser


def _is_external(url: str) -> bool:
    parts = urlsplit(url)
    return bool(parts.scheme or parts.netloc) or url.startswith("//")


def check_site(html_dir: Path, check_anchors: bool = True) -> list[str]:
    """Return one message per broken reference in the static site at ``html_dir`` (empty list: all fine).

    A reference is broken when an ``<img src>``, ``<a href>``, ``<link href>``, ``<script src>`` or
    ``<source src>`` that is relative (no scheme, no host) does not resolve to an existing file, or, with
    ``check_anchors``, when its ``#fragment`` names no element of the target HTML page.
    """
    html_dir = Path(html_dir).resolve()
    # _static/*.html are Jinja macro files the themes copy verbatim (not pages of the site).
    pages = sorted(p for p in html_dir.rglob("*.html") if p.relative_to(html_dir).parts[0] not in SKIP_DIRS)
    parsed = {page: _parse(page) for page in pages}
    problems: list[str] = []
    for page, parser in parsed.items():
        rel_page = page.relative_to(html_dir)
        for tag, url in parser.urls:
            url = url.strip()
            if not url or _is_external(url) or url.startswith(("javascript:", "data:", "mailto:")):
                continue
            parts = urlsplit(url)
            path, fragment = unquote(parts.path), unquote(parts.fragment)
            if path:
                target = (page.parent / path).resolve()
                if path.endswith("/") or target.is_dir():
                    target = target / "index.html"
            else:  # "#anchor" on the same page
                target = page
            try:
                target.relative_to(html_dir)
            except ValueError:
                problems.append(f"{rel_page}: <{tag}> {url!r} points outside the site")
                continue
            if not target.is_file():
                problems.append(f"{rel_page}: <{tag}> {url!r} -> missing file {target.relative_to(html_dir)}")
                continue
            if check_anchors and fragment and target.suffix == ".html" and tag == "a":
                ids = parsed[target].ids if target in parsed else _parse(target).ids
                if fragment not in ids:
                    problems.append(f"{rel_page}: <a> {url!r} -> no id {fragment!r} in {target.relative_to(html_dir)}")
    return problems


def _build_book(out_dir: Path) -> Path:
    jb = shutil.which("jupyter-book", path=str(Path(sys.executable).parent)) or shutil.which("jupyter-book")
    assert jb, "jupyter-book is not installed (pip install -e '.[book]')"
    subprocess.run([jb, "build", str(REPO), "--path-output", str(out_dir), "-W", "--keep-going"], check=True)
    return out_dir / "_build" / "html"


@pytest.fixture(scope="module")
def html_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    built = REPO / "_build" / "html"
    if (built / "index.html").is_file():
        return built
    return _build_book(tmp_path_factory.mktemp("book"))


# --- the checker itself must be able to fail ---------------------------------------------------------


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def test_checker_accepts_a_sound_site(tmp_path: Path) -> None:
    _write(tmp_path / "index.html", '<a href="sub/page.html#sec">x</a><img src="_static/a.png"/>'
                                    '<a href="https://example.org/missing">ext</a><a href="#top" id="top">t</a>')
    _write(tmp_path / "sub" / "page.html", '<h1 id="sec">S</h1><a href="../index.html">up</a>'
                                           '<link href="../_static/s.css?v=1" rel="stylesheet">')
    (tmp_path / "_static").mkdir()
    (tmp_path / "_static" / "a.png").write_bytes(b"\x89PNG")
    (tmp_path / "_static" / "s.css").write_text("")
    assert check_site(tmp_path) == []


def test_checker_reports_broken_references(tmp_path: Path) -> None:
    _write(tmp_path / "index.html", '<img src="missing.png"><a href="nowhere.html">x</a>'
                                    '<a href="page.html#nosuchid">y</a><a href="../../etc/passwd">z</a>')
    _write(tmp_path / "page.html", '<p id="here">p</p>')
    problems = check_site(tmp_path)
    assert len(problems) == 4, problems
    assert any("missing.png" in p for p in problems)
    assert any("nowhere.html" in p for p in problems)
    assert any("nosuchid" in p for p in problems)
    assert any("outside the site" in p for p in problems)


# --- the built book ----------------------------------------------------------------------------------


def test_book_has_index_and_data_chapter(html_dir: Path) -> None:
    assert (html_dir / "index.html").is_file()
    assert (html_dir / "book" / "intro.html").is_file()
    data_page = html_dir / DATA_CHAPTER
    assert data_page.is_file(), f"{DATA_CHAPTER} missing from the built book"
    images = [url for tag, url in _parse(data_page).urls if tag == "img"]
    assert images, f"{DATA_CHAPTER} shows no image"


def test_book_images_and_internal_links_resolve(html_dir: Path) -> None:
    problems = check_site(html_dir)
    assert not problems, "broken references in the built book:\n" + "\n".join(problems)


# --- the chapter list: one source for the README and the introduction -----------------------------------


def test_readme_and_intro_list_the_chapters_of_ic_chapters() -> None:
    from ic import chapters

    assert chapters.stale_files() == [], "run `.venv/bin/python -m ic.chapters` to regenerate the chapter lists"
    intro = (REPO / "book" / "intro.md").read_text(encoding="utf-8")
    for ch in chapters.CHAPTERS:
        assert ch.state in intro and (ch.page is None or f"{{doc}}`{ch.page}`" in intro)


def test_chapter_list_check_detects_a_disagreement(tmp_path: Path) -> None:
    from ic import chapters

    for name in chapters.GENERATED_FILES:
        text = (REPO / name).read_text(encoding="utf-8")
        _write(tmp_path / name, chapters.generated(name, text))
    assert chapters.stale_files(tmp_path) == []
    intro = tmp_path / "book" / "intro.md"
    state = chapters.CHAPTERS[-1].state
    other = next(s for s in chapters.STATES if s != state)
    text = intro.read_text(encoding="utf-8")
    assert f"**{state}**" in text
    intro.write_text(text.replace(f"**{state}**", f"**{other}**"), encoding="utf-8")
    assert chapters.stale_files(tmp_path) == ["book/intro.md"]


# --- the book speaks to readers ----------------------------------------------------------------------

# Internal bookkeeping a reader cannot follow: issue numbers, commit hashes, the project's research notes and
# their sections, planning language.
INTERNAL_PATTERNS = {
    "issue number": r"\bissues?\s*#?\d+\b",
    "commit hash": r"(?<![\w./#-])(?=[0-9a-f]*\d)(?=[0-9a-f]*[a-f])[0-9a-f]{7,40}(?![\w/-])",
    "research notes": r"\bresearch notes?\b",
    "internal section reference": r"§\s*[A-Z]\.\d+",
    "planning language": r"\bCPU-hours?\s+target\b|\bthe plan for\b|\bthan planned\b|\bTODO\b|\bFIXME\b",
}


class _TextParser(HTMLParser):
    """The visible text of a page's article (scripts, styles and the navigation left out)."""

    SKIP = {"script", "style", "nav", "svg"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs) -> None:
        if tag in self.SKIP:
            self._skip += 1

    def handle_endtag(self, tag: str) -> None:
        if tag in self.SKIP and self._skip:
            self._skip -= 1

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.parts.append(data)


def page_text(html: str) -> str:
    parser = _TextParser()
    parser.feed(html)
    parser.close()
    return " ".join(" ".join(parser.parts).split())


def internal_references(text: str) -> list[str]:
    """One message per piece of internal bookkeeping in ``text`` (empty: the text speaks to readers)."""
    import re

    found = []
    for what, pattern in INTERNAL_PATTERNS.items():
        for m in re.finditer(pattern, text, flags=re.IGNORECASE if what != "commit hash" else 0):
            found.append(f"{what}: …{text[max(0, m.start() - 50):m.end() + 30]}…")
    return found


def test_internal_reference_check_flags_bookkeeping_and_spares_prose() -> None:
    bad = ("as recorded in the project's issue 4; see research notes §A.11 and commit 91f01f0. "
           "Against the 8 CPU-hour target. The plan for this study asked for more.")
    kinds = {m.split(":")[0] for m in internal_references(bad)}
    assert kinds == set(INTERNAL_PATTERNS), kinds
    good = ("The 'a' target, 1e-3, σ 0.4, 20 classes, CPU-hours 21.13, SHA-256 checked, the defaced 'b', "
            "file abc_1234567.json, mean ± sd over 5 instances, issues of notation.")
    assert internal_references(good) == []


def _pages(html_dir: Path) -> dict[str, Path]:
    return {p.stem: p for p in sorted((html_dir / "book").glob("*.html"))}


def test_book_pages_speak_to_readers(html_dir: Path) -> None:
    pages = _pages(html_dir)
    assert "lstm" in pages and "how_this_study_was_run" in pages, sorted(pages)
    problems = [f"{name}.html: {msg}" for name, page in pages.items()
                for msg in internal_references(page_text(page.read_text(encoding="utf-8")))]
    assert not problems, "internal references in the book:\n" + "\n".join(problems)


# --- executed notebooks: parameters cells hidden, the profile named in prose -----------------------------

@pytest.mark.parametrize("notebook", sorted((REPO / "book").glob("*.ipynb")), ids=lambda p: p.stem)
def test_executed_notebook_hides_parameters_and_names_its_profile(notebook: Path, html_dir: Path) -> None:
    import json

    cells = json.loads(notebook.read_text(encoding="utf-8"))["cells"]
    shown = [c for c in cells if {"parameters", "injected-parameters"} & set(c["metadata"].get("tags", []))
             and "remove-cell" not in c["metadata"].get("tags", [])]
    assert not shown, f"{notebook.name}: parameters cells shown in the book (run scripts/tag_parameters.py)"
    text = page_text((html_dir / "book" / f"{notebook.stem}.html").read_text(encoding="utf-8"))
    assert text.count("This page was executed with the") == 1, f"{notebook.stem}.html does not name its profile once"
