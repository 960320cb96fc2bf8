"""Sphinx configuration for govpost's documentation."""

from __future__ import annotations

import re
from importlib.metadata import version as _version
from typing import TYPE_CHECKING

from docutils import nodes
from sphinx.search.en import SearchEnglish
from sphinx.transforms import SphinxTransform

if TYPE_CHECKING:
    from sphinx.application import Sphinx

project = "govpost"
author = "govpost contributors"
copyright = "2026, govpost contributors"
release = _version("govpost")
version = ".".join(release.split(".")[:2])

extensions = [
    "myst_parser",
    "sphinx.ext.autodoc",
    "sphinx.ext.napoleon",
    "sphinx.ext.viewcode",
]
source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
exclude_patterns = ["_build"]
language = "en"

myst_enable_extensions = ["colon_fence", "deflist"]
myst_heading_anchors = 3

autodoc_member_order = "bysource"
autodoc_typehints = "description"
autodoc_default_options = {"members": True, "show-inheritance": True}
napoleon_google_docstring = True
napoleon_numpy_docstring = False

# The docs build offline (no intersphinx inventories to fetch).
nitpicky = False

html_theme = "furo"
html_title = "govpost"
# Program output (statements, reconciliation reports) is laid out for a terminal, a Chinese
# character two columns wide. Monospace fonts that draw it exactly twice as wide as a Latin letter
# come first, so those tables line up in the browser too where one is installed; the rest of the
# stack is furo's.
html_theme_options = {
    "light_css_variables": {
        "font-stack--monospace": (
            '"Sarasa Mono SC", "Noto Sans Mono CJK SC", "SFMono-Regular", Menlo, Consolas,'
            " Monaco, Liberation Mono, Lucida Console, monospace"
        ),
    },
}

# --- Search: English and Chinese in one index ------------------------------------------------
#
# The pages are in English and in Chinese (docs/zh/), and one search box serves both. Sphinx's
# English index splits text at non-word characters only, so a run of Chinese such as 按月结算
# becomes one term, and a search for 结算 misses every page where it is part of a longer run
# (计件结算, 按月结算). Sphinx's own Chinese index needs jieba (a 40 MB dictionary) and still
# misses a query typed without spaces, such as 按月结算, which the browser keeps as one term.
# This index does what CJK full-text search engines do (Lucene's CJK bigrams): every run of Han
# characters is indexed as its characters and its overlapping pairs, and the browser splits a
# query the same way, so 结算, 按月结算 and 邮 all find the pages that contain them (a pair can
# also straddle two words: 月结 is found in 按月结算). Everything else is the English index
# unchanged: the same words, the same stemming (settles finds settle), the same stop words.

#: Han ideographs: the unified block, extension A, the compatibility block, extensions B–H.
_HAN = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f"
_HAN_RUN = re.compile(f"[{_HAN}]+")
_RUNS = re.compile(f"[{_HAN}]+|[^\\W{_HAN}]+")

#: The browser's half of the same rule (it replaces Sphinx's default ``splitQuery``): split at
#: what is not a letter, number or underscore as Sphinx does, then split a run of Han
#: characters into overlapping pairs (a single character stays itself).
_JS_SPLITTER = r"""
var splitQuery = function (query) {
  var han = /[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\u{20000}-\u{3134f}]+/u;
  var runs = /[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\u{20000}-\u{3134f}]+|[^\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\u{20000}-\u{3134f}]+/gu;
  var terms = [];
  query.split(/[^\p{Letter}\p{Number}_\p{Emoji_Presentation}]+/u).forEach(function (word) {
    (word.match(runs) || []).forEach(function (run) {
      var chars = Array.from(run);
      if (!han.test(run) || chars.length === 1) {
        terms.push(run);
        return;
      }
      for (var i = 0; i + 1 !== chars.length; i++) terms.push(chars[i] + chars[i + 1]);
    });
  });
  return terms;
};
"""


def han_terms(run: str) -> list[str]:
    """The index terms of a run of Han characters: each character, then each adjacent pair.

    >>> han_terms("按月结算")
    ['按', '月', '结', '算', '按月', '月结', '结算']
    """
    return [*run, *(run[i : i + 2] for i in range(len(run) - 1))]


class SearchEnglishAndChinese(SearchEnglish):
    """Sphinx's English search, with Chinese split into characters and pairs of characters."""

    lang = "zh_bigram"
    js_splitter_code = _JS_SPLITTER

    def split(self, input: str) -> list[str]:
        """Split text into index terms: English words as Sphinx does, Chinese by `han_terms`."""
        terms: list[str] = []
        for run in _RUNS.findall(input):
            if _HAN_RUN.fullmatch(run):
                terms.extend(han_terms(run))
            else:
                terms.append(run)
        return terms


html_search_language = SearchEnglishAndChinese.lang

# --- Chinese paragraphs ------------------------------------------------------------------------
#
# The Markdown sources wrap lines at 100 columns. Between two words of English a line break is a
# space; between two Chinese characters it is nothing, but not every browser drops it (CSS Text 3
# asks them to), and the index would split 结算 wrapped as 结 / 算. So a line break in running
# text between two wide characters (Han, CJK punctuation, full-width forms) is removed when the
# page is read. Code, literal text and program output are left as they are.

_WIDE = f"{_HAN}\u3000-\u303f\uff00-\uffef"
_WIDE_CHAR = re.compile(f"[{_WIDE}]")
_KEPT = (nodes.FixedTextElement, nodes.literal, nodes.raw, nodes.comment, nodes.math)


class JoinChineseLines(SphinxTransform):
    """Remove line breaks between two wide characters in running text (not in code)."""

    default_priority = 500

    def apply(self, **kwargs: object) -> None:
        """Join the lines of every paragraph, title and other text element of the document."""
        for element in list(self.document.findall(nodes.TextElement)):
            if isinstance(element, _KEPT) or any(
                isinstance(parent, (nodes.TextElement, *_KEPT)) for parent in _ancestors(element)
            ):
                continue  # code, or inside an element joined as a whole
            texts = list(element.findall(nodes.Text))
            joined = "".join(texts)
            offset = 0
            for text in texts:
                start, offset = offset, offset + len(text)
                if "\n" not in text or any(isinstance(p, _KEPT) for p in _ancestors(text)):
                    continue
                kept = "".join(
                    char
                    for at, char in enumerate(joined[start:offset], start)
                    if not (
                        char == "\n"
                        and 0 < at < len(joined) - 1
                        and _WIDE_CHAR.match(joined[at - 1])
                        and _WIDE_CHAR.match(joined[at + 1])
                    )
                )
                if kept != text:  # Element.replace would find the first equal string
                    parent = text.parent
                    index = next(i for i, child in enumerate(parent.children) if child is text)
                    parent[index] = nodes.Text(kept)


def _ancestors(node: nodes.Node) -> list[nodes.Element]:
    found = []
    while node.parent is not None:
        node = node.parent
        found.append(node)
    return found


def setup(app: Sphinx) -> None:
    """Register the search language of the index and the joining of Chinese lines."""
    app.add_search_language(SearchEnglishAndChinese)
    app.add_transform(JoinChineseLines)
