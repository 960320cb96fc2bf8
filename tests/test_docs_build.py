"""The documentation builds with warnings as errors, in English and Chinese, and its search
finds Chinese terms (结算, 按月结算) as well as English ones (settle).

The build runs once for the module, in a subprocess (Sphinx's own warnings are errors through
``-W``; pytest's warning filters stay out of it), and takes about 40 seconds on two cores.
"""

from __future__ import annotations

import importlib.util
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

pytest.importorskip("sphinx", reason="the docs extra (pip install -e '.[docs]') builds the docs")
pytest.importorskip("myst_parser", reason="the docs extra builds the docs")
pytest.importorskip("furo", reason="the docs extra builds the docs")

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
#: Each Chinese page and its English original (docnames).
TRANSLATIONS = {
    "zh/quickstart": "quickstart",
    "zh/concepts": "concepts",
    "zh/settle-a-month": "tutorial/settle-a-month",
}


def _conf() -> ModuleType:
    spec = importlib.util.spec_from_file_location("govpost_docs_conf", DOCS / "conf.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The HTML site, built as ``make docs`` builds it: every warning is an error."""
    out = tmp_path_factory.mktemp("docs")
    html = out / "html"
    command = [sys.executable, "-m", "sphinx", "-W", "--keep-going", "-q", "-b", "html"]
    command += ["-d", str(out / "doctrees"), str(DOCS), str(html)]
    built = subprocess.run(command, capture_output=True, text=True, timeout=600, check=False)
    assert built.returncode == 0, built.stderr[-4000:]
    return html


def _search_index(site: Path) -> dict[str, object]:
    text = (site / "searchindex.js").read_text(encoding="utf-8")
    prefix = "Search.setIndex("
    assert text.startswith(prefix)
    assert text.endswith(")")
    index = json.loads(text[len(prefix) : -1])
    assert isinstance(index, dict)
    return index


def _pages_with(index: dict[str, object], term: str) -> set[str]:
    """The pages whose text or titles hold ``term`` (a term of the index, as the browser asks)."""
    docnames = index["docnames"]
    assert isinstance(docnames, list)
    found: set[str] = set()
    for mapping in (index["terms"], index["titleterms"]):
        assert isinstance(mapping, dict)
        ids = mapping.get(term, [])
        found.update(docnames[i] for i in (ids if isinstance(ids, list) else [ids]))
    return found


def _query_terms(query: str) -> list[str]:
    """What the browser looks up for a query: Sphinx's words, Han runs split into pairs."""
    conf = _conf()
    terms: list[str] = []
    for word in re.findall(r"\w+", query):
        for run in conf._RUNS.findall(word):
            pairs = [run[i : i + 2] for i in range(len(run) - 1)]
            terms.extend(pairs if conf._HAN_RUN.fullmatch(run) and pairs else [run])
    return terms


def test_the_index_splits_chinese_into_characters_and_pairs_and_leaves_english_alone() -> None:
    language = _conf().SearchEnglishAndChinese({})
    assert language.split("按月结算 settles Money.fen") == [
        *["按", "月", "结", "算", "按月", "月结", "结算"],
        *["settles", "Money", "fen"],
    ]
    # Han next to Latin letters or digits is split from them; CJK punctuation separates.
    assert language.split("黔邮〔2018〕9号 EMS邮件") == [
        *["黔", "邮", "黔邮", "2018", "9", "号"],
        *["EMS", "邮", "件", "邮件"],
    ]
    assert language.stem("settles") == language.stem("settle") == "settl"
    assert language.stem("结算") == "结算"


def test_the_chinese_pages_are_built_and_linked_both_ways(site: Path) -> None:
    landing = (site / "index.html").read_text(encoding="utf-8")
    assert 'href="zh/quickstart.html"' in landing
    assert "快速入门" in landing
    for chinese, english in TRANSLATIONS.items():
        page = (site / f"{chinese}.html").read_text(encoding="utf-8")
        original = (site / f"{english}.html").read_text(encoding="utf-8")
        up = "../" * chinese.count("/")
        back = "../" * english.count("/")
        assert f'href="{up}{english}.html"' in page, f"{chinese} does not link to {english}"
        assert f'href="{back}{chinese}.html"' in original, f"{english} does not link to {chinese}"
    quickstart = (site / "zh" / "quickstart.html").read_text(encoding="utf-8")
    assert "<h1>快速入门" in quickstart


def test_a_line_break_between_chinese_characters_is_dropped_but_not_in_code(site: Path) -> None:
    wide = "[\u4e00-\u9fff\u3000-\u303f\uff00-\uffef]"
    for chinese in TRANSLATIONS:
        page = (site / f"{chinese}.html").read_text(encoding="utf-8")
        paragraphs = [re.sub(r"<[^>]*>", "", p) for p in re.findall(r"<p>(.*?)</p>", page, re.S)]
        assert len(paragraphs) > 10
        broken = [p for p in paragraphs if re.search(f"{wide}\n{wide}", p)]
        assert [] == broken, chinese
        # A break next to a Latin word stays: it is the space between the two.
        assert any(re.search(f"{wide}\n[A-Za-z]|[A-Za-z]\n{wide}", p) for p in paragraphs)
    tutorial = (site / "zh" / "settle-a-month.html").read_text(encoding="utf-8")
    # Program output keeps its lines.
    assert "贰拾肆元陆角伍分\n\n按业务 By business line" in tutorial


def test_the_search_index_finds_chinese_and_english_terms(site: Path) -> None:
    index = _search_index(site)
    # 结算 is found where it stands alone and inside longer words (计件结算, 按月结算).
    assert {"zh/settle-a-month", "tutorial/settle-a-month", "zh/concepts"} <= _pages_with(
        index, "结算"
    )
    # The English stemmer is unchanged: the browser looks up "settle" as its stem.
    stem = _conf().SearchEnglishAndChinese({}).stem("settle")
    assert {"tutorial/settle-a-month", "concepts", "api/settlement"} <= _pages_with(index, stem)
    # A query typed without spaces finds the pages that contain it.
    for query, page in [("按月结算", "zh/settle-a-month"), ("快速入门", "zh/quickstart")]:
        terms = _query_terms(query)
        assert len(terms) == len(query) - 1
        assert all(page in _pages_with(index, term) for term in terms), query


def test_the_browser_splits_a_query_as_the_index_expects(site: Path) -> None:
    """The splitter in language_data.js is the one of conf.py, and gives the same terms."""
    script = (site / "_static" / "language_data.js").read_text(encoding="utf-8")
    assert _conf()._JS_SPLITTER.strip() in script
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed: the splitter's JavaScript is checked as text only")
    queries = ["结算", "按月结算", "邮", "settle the month", "黔邮〔2018〕9号 EMS邮件", "Money.fen"]
    program = f"{_conf()._JS_SPLITTER}\nconsole.log(JSON.stringify({json.dumps(queries)}.map(splitQuery)));"
    ran = subprocess.run([node, "-"], input=program, capture_output=True, text=True, check=True)
    assert json.loads(ran.stdout) == [_query_terms(query) for query in queries]
