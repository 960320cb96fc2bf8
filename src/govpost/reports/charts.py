"""PNG charts of a :class:`~govpost.reports.KpiReport` (the optional extra ``govpost[charts]``).

Install with ``pip install 'govpost[charts]'`` (matplotlib); without it every function here
raises :class:`ImportError` saying so. Four charts, each to its own PNG, or all four on one
(:func:`save_charts`, what ``govpost report --chart out.png`` writes):

- :func:`items_chart`: items per month, stacked by business line;
- :func:`postage_chart`: postage paid by government per month, stacked by settlement mode;
- :func:`delivery_chart`: a histogram of delivery times by zone, each against its limit;
- :func:`centers_chart`: centers by level, stacked by cooperation mode.

Charts are drawn with matplotlib's Agg renderer straight to the file: no window, no display,
no global ``pyplot`` state.

**Chinese labels.** The labels are Chinese when a font with every character they need is
installed: the fonts matplotlib knows are searched — Noto Sans CJK, Source Han Sans,
WenQuanYi, SimHei, Microsoft YaHei, PingFang and others by name first, then any font whose
character map holds the characters (:func:`find_cjk_font`) — or pass ``font=`` a font file
yourself. When none is found, each chart falls back to English labels and says so with a
:class:`CjkFontWarning` listing every label that fell back (``寄递件数 -> items``), never with
boxes in place of characters. Install a CJK font (e.g. ``apt install fonts-noto-cjk``, then
remove matplotlib's font cache) to get the Chinese ones. To keep the English labels quietly::

    import warnings
    from govpost.reports.charts import CjkFontWarning

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CjkFontWarning)
        save_charts(report, "kpi.png")

.. versionadded:: 0.2.0
"""

from __future__ import annotations

import functools
import os
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from govpost.centers import BusinessLine, CooperationMode
from govpost.errors import ValidationError
from govpost.regions import AdminLevel, Zone
from govpost.reports._model import LEVEL_LABELS, KpiReport
from govpost.settlement import SettlementMode

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = [
    "CjkFontWarning",
    "centers_chart",
    "delivery_chart",
    "find_cjk_font",
    "items_chart",
    "postage_chart",
    "save_charts",
]


class CjkFontWarning(UserWarning):
    """No font for the Chinese labels was found: the chart was drawn with English ones.

    The message lists each label that fell back (``寄递件数 -> items``) and how to install a
    font.

    .. versionadded:: 0.2.0
    """


#: Families searched first, by name (a part of the name, in any case).
_PREFERRED = (
    "Noto Sans CJK",
    "Noto Sans SC",
    "Noto Serif CJK",
    "Source Han Sans",
    "Source Han Serif",
    "WenQuanYi",
    "SimHei",
    "Microsoft YaHei",
    "PingFang",
    "Hiragino Sans GB",
    "STHeiti",
    "Heiti",
    "SimSun",
    "AR PL",
    "Droid Sans Fallback",
)
#: Fonts whose character map covers everything with placeholder glyphs (boxes): never chosen.
_PLACEHOLDERS = ("Last Resort",)

# Every label of the charts: (Chinese, English).
_TEXT: dict[str, tuple[str, str]] = {
    "items.title": (
        "寄递件数 (按月份和业务) {period}",
        "Items per month by business line, {period}",
    ),
    "items.y": ("件数", "items"),
    "month": ("月份", "month"),
    "postage.title": (
        "政府支付邮费 (按月份和结算方式) {period}",
        "Postage paid by government per month, by settlement mode, {period}",
    ),
    "postage.y": ("金额 ({currency})", "amount ({currency})"),
    "delivery.title": (
        "寄递用时与时限 (按区域) {period}",
        "Delivery time against the limit, {period}",
    ),
    "delivery.x": ("自揽收起的工作日", "working days from pickup"),
    "delivery.limit": ("{zone} 时限 {days} 个工作日", "{zone} limit {days} working day(s)"),
    "centers.title": (
        "服务中心 (按层级和合作方式)",
        "Service centers by level and cooperation mode",
    ),
    "centers.y": ("中心数", "centers"),
    "none": ("无数据", "no data"),
}
_LINES = {
    BusinessLine.LICENCE_DELIVERY: "licence delivery",
    BusinessLine.TAX: "tax-post",
    BusinessLine.POLICE: "police-post",
    BusinessLine.TRANSPORT: "transport-post",
}
_MODES = {
    CooperationMode.DOOR_PICKUP: "door pickup",
    CooperationMode.STATIONED_STAFF: "stationed staff",
    CooperationMode.GOVERNMENT_AGENT: "government agent",
}
_NOT_COOPERATING = ("未合作", "not cooperating")
_SETTLEMENT = {SettlementMode.PER_PIECE: "per piece", SettlementMode.LUMP_SUM: "lump sum"}
_ZONES = {
    Zone.SAME_CITY: "same city",
    Zone.IN_PROVINCE: "in province",
    Zone.OUT_OF_PROVINCE: "out of province",
}
_LEVELS = {
    AdminLevel.PROVINCE: "province",
    AdminLevel.CITY: "prefecture",
    AdminLevel.COUNTY: "county",
}


def _chinese() -> str:
    """Every character of the Chinese labels that is not ASCII."""
    texts = [zh for zh, _ in _TEXT.values()]
    texts += [line.label for line in BusinessLine]
    texts += [mode.label for mode in CooperationMode]
    texts += [m.label for m in SettlementMode]
    texts += [z.label for z in Zone]
    texts += [*LEVEL_LABELS.values(), _NOT_COOPERATING[0]]
    return "".join(sorted({ch for text in texts for ch in text if not ch.isascii()}))


#: The characters a font needs for the Chinese labels.
_NEEDED = _chinese()


def _matplotlib() -> Any:
    try:
        import matplotlib
        import matplotlib.font_manager
        import matplotlib.ft2font
        from matplotlib.backends.backend_agg import FigureCanvasAgg  # noqa: F401
        from matplotlib.figure import Figure  # noqa: F401
    except ImportError as missing:
        raise ImportError(
            "govpost.reports.charts needs matplotlib: pip install 'govpost[charts]'"
        ) from missing
    return matplotlib


@functools.lru_cache(maxsize=256)
def _charmap(fname: str, mtime: float) -> frozenset[int]:
    """The code points font file ``fname`` maps to glyphs (empty when it cannot be read)."""
    ft2font = _matplotlib().ft2font
    try:
        return frozenset(ft2font.FT2Font(fname).get_charmap())
    except (OSError, RuntimeError, ValueError):
        return frozenset()


def _covers(fname: str, text: str) -> bool:
    try:
        mtime = os.stat(fname).st_mtime
    except OSError:
        return False
    held = _charmap(fname, mtime)
    return all(ord(ch) in held for ch in text)


def find_cjk_font(text: str | None = None) -> Path | None:
    """A font file matplotlib knows that has a glyph for every character of ``text``.

    Families known for Chinese are tried first (:data:`_PREFERRED` order: Noto Sans CJK,
    Source Han Sans, WenQuanYi, SimHei, Microsoft YaHei, PingFang, ...), then every other
    font, by its character map; fonts of placeholder boxes (Last Resort) never count.

    Args:
        text: the characters needed; by default those of every Chinese label of the charts.

    Returns:
        The font's path, or ``None`` when no font has them all.

    Raises:
        ImportError: matplotlib is not installed (``pip install 'govpost[charts]'``).

    .. versionadded:: 0.2.0
    """
    needed = _NEEDED if text is None else "".join(sorted(set(text) - {" ", "\n"}))
    manager = _matplotlib().font_manager.fontManager
    entries = [
        e for e in manager.ttflist if not any(p.lower() in e.name.lower() for p in _PLACEHOLDERS)
    ]

    def rank(entry: Any) -> int:
        name = entry.name.lower()
        for index, preferred in enumerate(_PREFERRED):
            if preferred.lower() in name:
                return index
        return len(_PREFERRED)

    for entry in sorted(entries, key=lambda e: (rank(e), e.name, e.fname)):
        if _covers(entry.fname, needed):
            return Path(entry.fname)
    return None


class _Labels:
    """Chooses the Chinese or the English label, and remembers which fell back."""

    def __init__(self, chinese: bool) -> None:
        self.chinese = chinese
        self.fallen: dict[str, str] = {}

    def __call__(self, zh: str, en: str) -> str:
        if self.chinese:
            return zh
        self.fallen.setdefault(zh, en)
        return en

    def text(self, key: str, **values: object) -> str:
        """The label ``key`` formatted with ``values``; a ``(Chinese, English)`` pair of
        values gives each language its own."""
        zh, en = _TEXT[key]
        chinese = {k: v[0] if isinstance(v, tuple) else v for k, v in values.items()}
        english = {k: v[1] if isinstance(v, tuple) else v for k, v in values.items()}
        return self(zh.format(**chinese), en.format(**english))


@contextmanager
def _fonts(font: str | os.PathLike[str] | None) -> Iterator[_Labels]:
    """The labels to use, inside matplotlib settings that draw them with the font found."""
    matplotlib = _matplotlib()
    if font is not None:
        path = Path(font)
        if not path.is_file():
            raise ValidationError(f"font {str(path)!r} is not a file: give a .ttf, .otf or .ttc")
        missing = "".join(ch for ch in _NEEDED if not _covers(str(path), ch))
        if missing:
            raise ValidationError(
                f"font {str(path)!r} has no glyph for {missing[:20]!r}: give a font with "
                f"Chinese characters (Noto Sans CJK, Source Han Sans, WenQuanYi, SimHei, ...)"
            )
        found: Path | None = path
    else:
        found = find_cjk_font()
    settings: dict[str, Any] = {"axes.unicode_minus": False}
    if found is not None:
        manager = matplotlib.font_manager.fontManager
        if not any(Path(e.fname) == found for e in manager.ttflist):
            manager.addfont(str(found))
        family = matplotlib.font_manager.FontProperties(fname=str(found)).get_name()
        # DejaVu Sans, matplotlib's own, after it: for a glyph the CJK font lacks (a symbol).
        settings.update({"font.family": "sans-serif", "font.sans-serif": [family, "DejaVu Sans"]})
    labels = _Labels(chinese=found is not None)
    with matplotlib.rc_context(settings):
        yield labels


def _warn(labels: _Labels, what: str) -> None:
    if labels.chinese or not labels.fallen:
        return
    listed = "; ".join(f"{zh} -> {en}" for zh, en in labels.fallen.items())
    warnings.warn(
        f"no font with Chinese characters found among matplotlib's fonts (looked for "
        f"Noto Sans CJK, Source Han Sans, WenQuanYi, SimHei, Microsoft YaHei, PingFang and "
        f"any font holding the characters): the {what} uses English labels: {listed}. "
        f"Install one (e.g. apt install fonts-noto-cjk, then remove matplotlib's font "
        f"cache) or pass font='/path/to/font.ttc'",
        CjkFontWarning,
        stacklevel=3,
    )


def _figure(size: tuple[float, float]) -> Figure:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=size, dpi=100, layout="constrained")
    FigureCanvasAgg(figure)  # the Agg renderer: no display involved
    return figure


def _empty(ax: Axes, labels: _Labels) -> None:
    ax.text(0.5, 0.5, labels.text("none"), ha="center", va="center", transform=ax.transAxes)


def _stacked(
    ax: Axes,
    categories: list[str],
    series: list[tuple[str, list[float]]],
) -> None:
    bottoms = [0.0] * len(categories)
    positions = list(range(len(categories)))
    for name, values in series:
        ax.bar(positions, values, bottom=bottoms, label=name)
        bottoms = [b + v for b, v in zip(bottoms, values, strict=True)]
    ax.set_xticks(positions, categories, rotation=45 if len(categories) > 6 else 0)
    ax.legend(fontsize="small")


def _whole(ax: Axes) -> None:
    """Ticks at whole numbers only on the y axis (it counts items or centers)."""
    from matplotlib.ticker import MaxNLocator

    ax.yaxis.set_major_locator(MaxNLocator(integer=True))


def _draw_items(ax: Axes, report: KpiReport, labels: _Labels) -> None:
    ax.set_title(labels.text("items.title", period=report.period))
    ax.set_xlabel(labels.text("month"))
    ax.set_ylabel(labels.text("items.y"))
    _whole(ax)
    months = list(report.items_by_month)
    series = [
        (labels(line.label, _LINES[line]), [float(report.items_by_month[m][line]) for m in months])
        for line in BusinessLine
        if any(report.items_by_month[m][line] for m in months)
    ]
    if not series:
        _empty(ax, labels)
        return
    _stacked(ax, [str(m) for m in months], series)


def _draw_postage(ax: Axes, report: KpiReport, labels: _Labels) -> None:
    ax.set_title(labels.text("postage.title", period=report.period))
    ax.set_xlabel(labels.text("month"))
    ax.set_ylabel(labels.text("postage.y", currency=report.currency))
    months = list(report.postage_by_month)
    # Bar heights are pixels: the float of an exact amount only places a bar.
    series = [
        (
            labels(mode.label, _SETTLEMENT[mode]),
            [float(report.postage_by_month[m][mode].amount) for m in months],
        )
        for mode in SettlementMode
        if any(not report.postage_by_month[m][mode].is_zero() for m in months)
    ]
    if not series:
        _empty(ax, labels)
        return
    _stacked(ax, [str(m) for m in months], series)


def _draw_delivery(ax: Axes, report: KpiReport, labels: _Labels) -> None:
    ax.set_title(labels.text("delivery.title", period=report.period))
    ax.set_xlabel(labels.text("delivery.x"))
    ax.set_ylabel(labels.text("items.y"))
    _whole(ax)
    if not any(z.days.counts for z in report.delivery):
        _empty(ax, labels)
        return
    last = max(
        [z.limit_days for z in report.delivery]
        + [days for z in report.delivery for days, _ in z.days.counts]
    )
    width = 0.8 / len(report.delivery)
    colours = ("tab:blue", "tab:orange", "tab:green")
    for index, zone in enumerate(report.delivery):
        counts = dict(zone.days.counts)
        xs = [d - 0.4 + width * (index + 0.5) for d in range(last + 1)]
        colour = colours[index % len(colours)]
        names = (zone.zone.label, _ZONES[zone.zone])
        heights = [counts.get(d, 0) for d in range(last + 1)]
        ax.bar(xs, heights, width=width, color=colour, label=labels(*names))
        # On time means at most limit_days: the line falls between the limit and the day after.
        limit = labels.text("delivery.limit", zone=names, days=zone.limit_days)
        ax.axvline(zone.limit_days + 0.5, color=colour, linestyle="--", label=limit)
    ax.set_xticks(range(last + 1))
    ax.legend(fontsize="small")


def _draw_centers(ax: Axes, report: KpiReport, labels: _Labels) -> None:
    ax.set_title(labels.text("centers.title"))
    ax.set_ylabel(labels.text("centers.y"))
    _whole(ax)
    levels = list(AdminLevel)
    modes: list[CooperationMode | None] = [*CooperationMode, None]
    series = [
        (
            labels(*_NOT_COOPERATING) if mode is None else labels(mode.label, _MODES[mode]),
            [float(report.centers_by_level[level][mode]) for level in levels],
        )
        for mode in modes
    ]
    if not report.centers_total:
        _empty(ax, labels)
        return
    _stacked(ax, [labels(LEVEL_LABELS[lv], _LEVELS[lv]) for lv in levels], series)


_Draw = Callable[["Axes", KpiReport, _Labels], None]


def _save(
    report: KpiReport,
    path: str | os.PathLike[str],
    draws: list[_Draw],
    what: str,
    size: tuple[float, float],
    font: str | os.PathLike[str] | None,
) -> Path:
    if not isinstance(report, KpiReport):
        raise ValidationError(f"report must be a KpiReport, not {type(report).__name__}")
    target = Path(path)
    with _fonts(font) as labels:
        figure = _figure(size)
        axes = figure.subplots(2, 2).flatten() if len(draws) > 1 else [figure.subplots()]
        for ax, draw in zip(axes, draws, strict=True):
            draw(ax, report, labels)
        figure.savefig(target, format="png")
    _warn(labels, what)
    return target


def items_chart(
    report: KpiReport, path: str | os.PathLike[str], *, font: str | os.PathLike[str] | None = None
) -> Path:
    """Items per month, stacked by business line, as a PNG (800 × 450 pixels).

    Args:
        report: the report.
        path: the PNG file to write.
        font: a font file for the Chinese labels; by default one is searched for
            (:func:`find_cjk_font`), and without one the labels are English.

    Returns:
        ``path``.

    Raises:
        ImportError: matplotlib is not installed (``pip install 'govpost[charts]'``).
        ValidationError: ``font`` is not a file, or lacks Chinese characters.

    Warns:
        CjkFontWarning: no font for the Chinese labels: English ones were drawn.

    .. versionadded:: 0.2.0
    """
    return _save(report, path, [_draw_items], "items chart", (8, 4.5), font)


def postage_chart(
    report: KpiReport, path: str | os.PathLike[str], *, font: str | os.PathLike[str] | None = None
) -> Path:
    """Postage paid by government per month, stacked by settlement mode (计件 / 包干), as a
    PNG (800 × 450 pixels); arguments, errors and warnings as for :func:`items_chart`.

    .. versionadded:: 0.2.0
    """
    return _save(report, path, [_draw_postage], "postage chart", (8, 4.5), font)


def delivery_chart(
    report: KpiReport, path: str | os.PathLike[str], *, font: str | os.PathLike[str] | None = None
) -> Path:
    """A histogram of the working days from pickup to delivery, by zone, with each zone's
    time limit as a dashed line (bars left of it are on time), as a PNG (800 × 450 pixels);
    arguments, errors and warnings as for :func:`items_chart`.

    .. versionadded:: 0.2.0
    """
    return _save(report, path, [_draw_delivery], "delivery chart", (8, 4.5), font)


def centers_chart(
    report: KpiReport, path: str | os.PathLike[str], *, font: str | os.PathLike[str] | None = None
) -> Path:
    """Centers by level (省级 / 市级 / 县级), stacked by cooperation mode, not cooperating
    included, as a PNG (800 × 450 pixels); arguments, errors and warnings as for
    :func:`items_chart`.

    .. versionadded:: 0.2.0
    """
    return _save(report, path, [_draw_centers], "centers chart", (8, 4.5), font)


def save_charts(
    report: KpiReport, path: str | os.PathLike[str], *, font: str | os.PathLike[str] | None = None
) -> Path:
    """All four charts on one PNG (1600 × 1000 pixels): items, postage, delivery time,
    centers; arguments, errors and warnings as for :func:`items_chart`.

    .. versionadded:: 0.2.0
    """
    draws: list[_Draw] = [_draw_items, _draw_postage, _draw_delivery, _draw_centers]
    return _save(report, path, draws, "chart", (16, 10), font)
