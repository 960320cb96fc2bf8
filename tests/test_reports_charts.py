"""PNG charts of a KPI report: each chart rendered to a real PNG, with Chinese labels when a font
has the characters (a font built here, glyph by glyph, since this machine has none) and with
English labels and a CjkFontWarning naming them when no font has them."""

from __future__ import annotations

import struct
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from govpost.errors import ValidationError
from govpost.reports import KpiReport, build_report
from tests.test_reports import CATALOGUE, JUNE, example, report_of

pytest.importorskip("matplotlib", reason="the charts need govpost[charts]")

from matplotlib import font_manager, image

from govpost.reports import charts

CHARTS: dict[str, tuple[Callable[..., Path], tuple[int, int]]] = {
    "items": (charts.items_chart, (800, 450)),
    "postage": (charts.postage_chart, (800, 450)),
    "delivery": (charts.delivery_chart, (800, 450)),
    "centers": (charts.centers_chart, (800, 450)),
    "all": (charts.save_charts, (1600, 1000)),
}


@pytest.fixture(scope="module")
def report() -> KpiReport:
    return report_of(example())


#: matplotlib's first colour ("tab:blue"), that of the first series of bars.
BLUE = (31, 119, 180)


def png(path: Path) -> tuple[tuple[int, int], bool]:
    """Width and height from the PNG's IHDR chunk, and whether a pixel has the first series'
    colour; fails unless the file is a PNG that matplotlib reads back at that size."""
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", path
    assert data[12:16] == b"IHDR"
    width, height = struct.unpack(">II", data[16:24])
    pixels = image.imread(path)
    assert (height, width) == pixels.shape[:2]
    rgb = (pixels[..., :3] * 255).round().astype(int)
    return (width, height), bool((rgb == BLUE).all(axis=-1).any())


def png_size(path: Path) -> tuple[int, int]:
    """The size of a PNG that holds bars (pixels of the first series' colour)."""
    size, bars = png(path)
    assert bars, path
    return size


@pytest.fixture
def no_cjk_font(monkeypatch: pytest.MonkeyPatch) -> None:
    """matplotlib's fonts without any that has the labels' Chinese characters (as on this
    machine, where ``fc-list :lang=zh`` finds nothing; on another it removes them). The Last
    Resort font stays: it maps every character to a placeholder box."""
    kept = [
        e
        for e in font_manager.fontManager.ttflist
        if "Last Resort" in e.name or not charts._covers(e.fname, "寄递")
    ]
    monkeypatch.setattr(font_manager.fontManager, "ttflist", kept)


def box_font(path: Path, characters: str, family: str = "Govpost Test Boxes") -> Path:
    """A TrueType font with a real glyph — a hollow box — for each of ``characters`` and for
    printable ASCII, built with fontTools (which matplotlib depends on)."""
    from fontTools.fontBuilder import FontBuilder
    from fontTools.pens.ttGlyphPen import TTGlyphPen

    chars = sorted(set(characters) | {chr(c) for c in range(0x20, 0x7F)})
    names = [".notdef", *(f"u{ord(c):04X}" for c in chars)]
    glyphs, metrics = {}, {}
    for name, char in zip(names, [None, *chars], strict=True):
        pen = TTGlyphPen(None)
        advance = 1000 if char is not None and not char.isascii() else 600
        if char not in (None, " "):
            for x0, y0, x1, y1 in ((50, 0, advance - 50, 700), (120, 70, advance - 120, 630)):
                pen.moveTo((x0, y0))
                pen.lineTo((x0, y1))
                pen.lineTo((x1, y1))
                pen.lineTo((x1, y0))
                pen.closePath()
        glyphs[name] = pen.glyph()
        metrics[name] = (advance, 50)
    builder = FontBuilder(unitsPerEm=1000, isTTF=True)
    builder.setupGlyphOrder(names)
    builder.setupCharacterMap({ord(c): f"u{ord(c):04X}" for c in chars})
    builder.setupGlyf(glyphs)
    builder.setupHorizontalMetrics(metrics)
    builder.setupHorizontalHeader(ascent=800, descent=-200)
    builder.setupNameTable({"familyName": family, "styleName": "Regular"})
    builder.setupOS2(sTypoAscender=800, usWinAscent=800, usWinDescent=200)
    builder.setupPost()
    builder.save(str(path))
    return path


@pytest.fixture
def cjk_font(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A font with every character of the Chinese labels, known to matplotlib for this test."""
    path = box_font(tmp_path / "boxes.ttf", charts._NEEDED)
    monkeypatch.setattr(font_manager.fontManager, "ttflist", list(font_manager.fontManager.ttflist))
    return path


@pytest.mark.usefixtures("no_cjk_font")
@pytest.mark.parametrize("name", list(CHARTS))
def test_without_a_cjk_font_the_labels_fall_back_to_english(
    report: KpiReport, name: str, tmp_path: Path
) -> None:
    """Each chart is a PNG of its size; the warning lists the labels that fell back, and no
    other warning (a glyph missing from a font is one) is raised."""
    draw, size = CHARTS[name]
    with pytest.warns(charts.CjkFontWarning) as caught:
        written = draw(report, tmp_path / f"{name}.png")
    assert tmp_path / f"{name}.png" == written
    assert size == png_size(written)
    assert 1 == len(caught)
    message = str(caught[0].message)
    expected = {
        "items": [
            "寄递件数 (按月份和业务) 2018-06 -> Items per month",
            "证照寄递 -> licence delivery",
        ],
        "postage": ["计件 -> per piece", "包干 -> lump sum", "金额 (CNY) -> amount (CNY)"],
        "delivery": ["同城 -> same city", "省内 时限 2 个工作日 -> in province limit 2"],
        "centers": [
            "省级 -> province",
            "未合作 -> not cooperating",
            "政府代办 -> government agent",
        ],
        "all": ["月份 -> month", "包干 -> lump sum", "同城 -> same city", "县级 -> county"],
    }[name]
    for fallback in expected:
        assert fallback in message
    assert "fonts-noto-cjk" in message


def test_with_a_cjk_font_the_labels_are_chinese(
    report: KpiReport, cjk_font: Path, tmp_path: Path
) -> None:
    """Given a font with the characters, every chart draws without a warning: no fallback,
    and no glyph missing (matplotlib warns of each; warnings are errors here)."""
    for name, (draw, size) in CHARTS.items():
        assert size == png_size(draw(report, tmp_path / f"{name}.png", font=cjk_font))


def test_an_installed_cjk_font_is_found_by_its_characters(
    report: KpiReport, cjk_font: Path, tmp_path: Path
) -> None:
    """A font matplotlib knows is chosen for holding the characters, whatever its name; the
    charts then use it without being told."""
    font_manager.fontManager.addfont(str(cjk_font))
    assert cjk_font == charts.find_cjk_font()
    assert (1600, 1000) == png_size(charts.save_charts(report, tmp_path / "all.png"))


def test_no_font_has_the_characters(no_cjk_font: None) -> None:
    """Without a CJK font, nothing is found — the Last Resort font of placeholder boxes that
    matplotlib ships maps every character but never counts."""
    names = {e.name for e in font_manager.fontManager.ttflist}
    assert any("Last Resort" in name for name in names)
    assert charts.find_cjk_font() is None
    assert charts.find_cjk_font("abc") is not None


def test_a_font_without_chinese_is_refused(report: KpiReport, tmp_path: Path) -> None:
    latin = box_font(tmp_path / "latin.ttf", "", family="Govpost Test Latin")
    with pytest.raises(
        ValidationError, match=r"has no glyph for '上与专业个中交人付代件份作内办务包区县合'"
    ):
        charts.items_chart(report, tmp_path / "x.png", font=latin)
    with pytest.raises(ValidationError, match="is not a file"):
        charts.items_chart(report, tmp_path / "x.png", font=tmp_path / "none.ttf")
    with pytest.raises(ValidationError, match="must be a KpiReport"):
        charts.items_chart(report.to_dict(), tmp_path / "x.png")  # type: ignore[arg-type]


@pytest.mark.usefixtures("no_cjk_font")
def test_an_empty_report_still_draws(tmp_path: Path) -> None:
    """No items, postage or centers: each chart says so instead of failing."""
    empty = build_report([], [], [], [], [], JUNE, catalogue=CATALOGUE)
    with pytest.warns(charts.CjkFontWarning, match="无数据 -> no data"):
        written = charts.save_charts(empty, tmp_path / "empty.png")
    assert ((1600, 1000), False) == png(written)


def test_without_matplotlib_the_error_says_what_to_install(
    report: KpiReport, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    expected = r"pip install 'govpost\[charts\]'"
    with pytest.raises(ImportError, match=expected):
        charts.items_chart(report, tmp_path / "x.png")
    with pytest.raises(ImportError, match=expected):
        charts.find_cjk_font()
