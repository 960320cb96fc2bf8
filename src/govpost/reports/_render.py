"""A report as plain data, JSON, a terminal table and CSV (private; see govpost.reports)."""

from __future__ import annotations

import codecs
import csv
import io
import json
from collections.abc import Iterator, Mapping
from fractions import Fraction
from typing import TYPE_CHECKING, Any

from govpost.applications import DeliveryChoice, Distribution, GroupStats, Tally
from govpost.centers import BusinessLine, CooperationMode
from govpost.errors import ValidationError
from govpost.money import Money
from govpost.regions import Zone
from govpost.reports._model import DIRECTION_LABELS, LEVEL_LABELS, STAGES, rate
from govpost.settlement import Discrepancy, SettlementMode
from govpost.settlement.documents import render_table

if TYPE_CHECKING:
    from govpost.reports._model import KpiReport

__all__ = ["report_csv", "report_dict", "report_json", "report_table"]

#: The key of figures that belong to no center or line: a lump sum no piece carried.
UNATTRIBUTED = "unattributed"
#: The key of centers (and their items) that do not cooperate.
NOT_COOPERATING = "none"

#: Chinese labels of every key that appears in a report's data.
_KEY_LABELS: dict[str, str] = {
    **{m.value: m.label for m in CooperationMode},
    **{line.value: line.label for line in BusinessLine},
    **{level.value: label for level, label in LEVEL_LABELS.items()},
    **{d.value: label for d, label in DIRECTION_LABELS.items()},
    **{m.value: m.label for m in SettlementMode},
    **{z.value: z.label for z in Zone},
    **{d.value: d.label for d in Discrepancy},
    **{c.value: c.label for c in DeliveryChoice},
    **STAGES,
    NOT_COOPERATING: "未合作",
    UNATTRIBUTED: "未分摊",
    "total": "合计",
    "cooperating": "开展合作",
    "judged": "已判定",
    "on_time": "准时",
    "rate": "准时率",
    "median_days": "中位数(工作日)",
    "p90_days": "90%分位(工作日)",
    "days": "用时分布(工作日)",
    "limit_days": "时限(工作日)",
    "limit": "时限",
    "label": "名称",
    "applications": "办件",
    "trips": "跑腿次数",
    "result_trips": "结果寄递节省次数",
    "material_trips": "材料寄递节省次数",
    "cost": "节省费用",
    "approval_rate": "审批准时率",
    "delivery_rate": "寄递准时率",
    "promise_rate": "承诺准时率",
    "by_zone": "按区域",
    "by_line": "按业务",
}

#: Chinese labels of the sections (top-level keys) of a report's data.
_SECTION_LABELS: dict[str, str] = {
    "period": "期间",
    "as_of": "统计时点",
    "currency": "货币",
    "centers_total": "服务中心",
    "centers_cooperating": "开展政邮合作的中心",
    "centers_by_mode": "合作中心 按合作方式",
    "centers_by_level": "服务中心 按层级",
    "items_total": "寄递件数",
    "items_by_line": "寄递件数 按业务",
    "items_by_direction": "寄递件数 按方向",
    "items_by_level": "寄递件数 按中心层级",
    "items_by_mode": "寄递件数 按合作方式",
    "items_by_month": "寄递件数 按月份和业务",
    "postage_paid_by_government": "政府支付邮费",
    "postage_per_item": "件均邮费",
    "postage_by_settlement_mode": "政府支付邮费 按结算方式",
    "postage_by_month": "政府支付邮费 按月份和结算方式",
    "postage_by_line": "政府支付邮费 按业务",
    "postage_by_level": "政府支付邮费 按中心层级",
    "statements": "结算单",
    "pieces_billed": "计费件数",
    "statements_reconciled": "已对账结算单",
    "reconciliation": "对账条目 按类别",
    "reconciliation_difference": "对账差额(账单减我方)",
    "applications": "受理办件",
    "applications_by_delivery": "受理办件 按送达方式",
    "trips_saved": "节省群众跑腿次数",
    "trips": "节省跑腿",
    "citizen_cost_saved": "节省群众费用",
    "provincial_share_by_post": "省级中心实物证照邮寄送达占比",
    "provincial_results": "省级中心已送达或领取的证照",
    "provincial_by_post": "其中邮寄送达",
    "on_time_rate": "寄递准时率",
    "delivery": "寄递时限",
    "stages": "办件各环节",
    "stages_by_line": "办件时限 按业务",
    "stages_by_mode": "办件时限 按合作方式",
    "assumptions": "假设",
}


def _number(value: Fraction | None) -> float | None:
    """A rate as a JSON number rounded half-up to 4 decimals (the float of that decimal)."""
    shown = rate(value)
    return None if shown is None else float(shown)


def _percent(value: Fraction | None) -> str:
    shown = rate(value)
    return "-" if shown is None else f"{shown * 100:.2f}%"


def _days(distribution: Distribution) -> dict[str, Any]:
    return {
        "median_days": distribution.percentile(50),
        "p90_days": distribution.percentile(90),
        "days": {str(days): n for days, n in distribution.counts},
    }


def _tally(tally: Tally | None) -> dict[str, Any]:
    if tally is None:
        return {"judged": None, "on_time": None, "rate": None}
    return {"judged": tally.judged, "on_time": tally.on_time, "rate": _number(tally.rate)}


def _amounts(amounts: Mapping[Any, Money]) -> dict[str, str]:
    return {_key(k): m.to_str() for k, m in amounts.items()}


def _counts(counts: Mapping[Any, int]) -> dict[str, int]:
    return {_key(k): n for k, n in counts.items()}


def _key(member: Any) -> str:
    if member is None:
        return UNATTRIBUTED
    return str(member.value)


def _mode_key(member: CooperationMode | None) -> str:
    return NOT_COOPERATING if member is None else member.value


def _groups(groups: tuple[GroupStats, ...]) -> dict[str, Any]:
    return {
        g.key: {
            "label": g.label,
            "applications": g.applications,
            "approval_rate": _number(g.approval.rate),
            "delivery_rate": _number(g.delivery.rate),
            "promise_rate": _number(g.promise.rate),
        }
        for g in groups
    }


def report_dict(report: KpiReport) -> dict[str, Any]:
    """The report as plain data (see :meth:`KpiReport.to_dict`)."""
    trips = report.trips
    delivery = report.delivery_tally
    per_item = report.postage_per_item
    return {
        "period": str(report.period),
        "as_of": report.as_of.isoformat(),
        "currency": report.currency,
        "centers_total": report.centers_total,
        "centers_cooperating": report.centers_cooperating,
        "centers_by_mode": _counts(report.centers_by_mode),
        "centers_by_level": {
            level.value: {
                "total": sum(counts.values()),
                "cooperating": sum(n for mode, n in counts.items() if mode is not None),
                **{_mode_key(mode): n for mode, n in counts.items()},
            }
            for level, counts in report.centers_by_level.items()
        },
        "items_total": report.items_total,
        "items_by_line": _counts(report.items_by_line),
        "items_by_direction": _counts(report.items_by_direction),
        "items_by_level": _counts(report.items_by_level),
        "items_by_mode": {_mode_key(m): n for m, n in report.items_by_mode.items()},
        "items_by_month": {str(m): _counts(c) for m, c in report.items_by_month.items()},
        "postage_paid_by_government": report.postage_paid_by_government.to_str(),
        "postage_per_item": None if per_item is None else per_item.to_str(),
        "postage_by_settlement_mode": _amounts(report.postage_by_settlement_mode),
        "postage_by_month": {str(m): _amounts(a) for m, a in report.postage_by_month.items()},
        "postage_by_line": _amounts(report.postage_by_line),
        "postage_by_level": _amounts(report.postage_by_level),
        "statements": report.statements,
        "pieces_billed": report.pieces_billed,
        "statements_reconciled": report.statements_reconciled,
        "reconciliation": _counts(report.reconciliation),
        "reconciliation_difference": report.reconciliation_difference.to_str(),
        "applications": report.applications,
        "applications_by_delivery": _counts(report.applications_by_delivery),
        "trips_saved": report.trips_saved,
        "trips": {
            "result_trips": trips.result_trips,
            "material_trips": trips.material_trips,
            "by_line": {
                t.line.value: {
                    "applications": t.applications,
                    "result_trips": t.result_trips,
                    "material_trips": t.material_trips,
                    "trips": t.trips,
                    "cost": t.cost.to_str(),
                }
                for t in trips.by_line
            },
        },
        "citizen_cost_saved": report.citizen_cost_saved.to_str(),
        "provincial_share_by_post": _number(report.provincial_share_by_post),
        "provincial_results": report.provincial_results,
        "provincial_by_post": report.provincial_by_post,
        "on_time_rate": _number(report.on_time_rate),
        "delivery": {
            **_tally(delivery),
            "by_zone": {
                z.zone.value: {"limit_days": z.limit_days, **_tally(z.tally), **_days(z.days)}
                for z in report.delivery
            },
        },
        "stages": {
            s.stage: {"label": s.label, "limit": s.limit, **_tally(s.tally), **_days(s.days)}
            for s in report.stages
        },
        "stages_by_line": _groups(report.stage_analysis.by_line),
        "stages_by_mode": _groups(report.stage_analysis.by_mode),
        "assumptions": report.assumptions.to_dict(),
    }


def report_json(report: KpiReport, *, indent: int | None = 2) -> str:
    """The report's data as JSON text (see :meth:`KpiReport.to_json`)."""
    return json.dumps(report_dict(report), ensure_ascii=False, indent=indent)


# --- CSV ----------------------------------------------------------------------------------------

_ENCODINGS = {"utf-8-sig": "utf-8-sig", "gbk": "gbk"}


def _flat(value: Any, path: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], Any]]:
    if isinstance(value, Mapping):
        for key, inner in value.items():
            yield from _flat(inner, (*path, str(key)))
    elif isinstance(value, list):
        yield path, " ".join(map(str, value))
    else:
        yield path, value


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def csv_rows(report: KpiReport) -> Iterator[tuple[str, str, str, str]]:
    """``(section, key, value, label)`` for every figure of :func:`report_dict`."""
    for section, data in report_dict(report).items():
        for path, value in _flat(data):
            label = " / ".join(
                [_SECTION_LABELS[section], *(_KEY_LABELS.get(part, part) for part in path)]
            )
            yield section, ".".join(path), _text(value), label


def report_csv(report: KpiReport, *, encoding: str = "utf-8-sig") -> bytes:
    """The report as one CSV table, encoded (see :meth:`KpiReport.to_csv`)."""
    given: object = encoding
    try:
        name = codecs.lookup(given).name if isinstance(given, str) else None
    except LookupError:
        name = None
    if name not in _ENCODINGS:
        raise ValidationError(
            f"encoding {given!r} is not offered: choose 'utf-8-sig' (UTF-8 with a BOM) or "
            f"'gbk' (for older spreadsheet software set to Chinese)"
        )
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["section", "key", "value", "label"])
    writer.writerows(csv_rows(report))
    text = out.getvalue()
    try:
        return text.encode(_ENCODINGS[name])
    except UnicodeEncodeError as error:
        bad = error.object[error.start : error.end]
        line = text.count("\n", 0, error.start) + 1
        raise ValidationError(
            f"GBK cannot encode {bad!r} (U+{ord(bad[0]):04X}) on line {line} of the CSV: use "
            f"encoding='utf-8-sig', which encodes every character"
        ) from None


# --- the terminal table -------------------------------------------------------------------------


def _money(amount: Money) -> str:
    return amount.to_str()


def _median(distribution: Distribution) -> str:
    found = distribution.percentile(50)
    return "-" if found is None else str(found)


def _p90(distribution: Distribution) -> str:
    found = distribution.percentile(90)
    return "-" if found is None else str(found)


def _block(title: str, headers: list[str], rows: list[list[str]]) -> str:
    return f"{title}\n{render_table(headers, rows)}"


def report_table(report: KpiReport) -> str:
    """The report as text for a terminal (see :meth:`KpiReport.to_table`)."""
    currency = report.currency
    per_item = report.postage_per_item
    blocks = [
        f"政邮合作 KPI 报告  期间 {report.period}  统计时点 {report.as_of.isoformat()}  "
        f"货币 {currency}",
        _block(
            "概况",
            ["指标", "键", "数值"],
            [
                ["服务中心", "centers_total", str(report.centers_total)],
                ["开展合作", "centers_cooperating", str(report.centers_cooperating)],
                ["寄递件数", "items_total", str(report.items_total)],
                [
                    "政府支付邮费",
                    "postage_paid_by_government",
                    _money(report.postage_paid_by_government),
                ],
                ["件均邮费", "postage_per_item", "-" if per_item is None else _money(per_item)],
                ["结算单", "statements", str(report.statements)],
                ["计费件数", "pieces_billed", str(report.pieces_billed)],
                ["受理办件", "applications", str(report.applications)],
                ["节省群众跑腿次数", "trips_saved", str(report.trips_saved)],
                ["节省群众费用", "citizen_cost_saved", _money(report.citizen_cost_saved)],
                [
                    "省级中心实物证照邮寄占比",
                    "provincial_share_by_post",
                    _percent(report.provincial_share_by_post),
                ],
                ["寄递准时率", "on_time_rate", _percent(report.on_time_rate)],
                ["已对账结算单", "statements_reconciled", str(report.statements_reconciled)],
                [
                    "对账差额(账单减我方)",
                    "reconciliation_difference",
                    _money(report.reconciliation_difference),
                ],
            ],
        ),
        _centers_block(report),
        *_items_blocks(report),
        *_postage_blocks(report),
        _delivery_block(report),
        _stages_block(report),
        _groups_block(report),
        _trips_block(report),
        _block(
            "对账 (各结算单最新对账报告)",
            ["类别", "键", "条目"],
            [[kind.label, kind.value, str(n)] for kind, n in report.reconciliation.items()],
        ),
        _block(
            "假设 (均可配置)",
            ["假设", "值"],
            [[".".join(path), _text(value)] for path, value in _flat(report.assumptions.to_dict())],
        ),
    ]
    return "\n\n".join(blocks) + "\n"


def _centers_block(report: KpiReport) -> str:
    modes: list[CooperationMode | None] = [*CooperationMode, None]
    headers = ["层级", *(m.label if m else "未合作" for m in modes), "合计"]
    rows = []
    for level, counts in report.centers_by_level.items():
        rows.append(
            [
                LEVEL_LABELS[level],
                *(str(counts[m]) for m in modes),
                str(sum(counts.values())),
            ]
        )
    totals = [sum(c[m] for c in report.centers_by_level.values()) for m in modes]
    rows.append(["合计", *map(str, totals), str(sum(totals))])
    return _block("服务中心 (按层级和合作方式)", headers, rows)


def _items_blocks(report: KpiReport) -> list[str]:
    lines = list(BusinessLine)
    by_month = [
        [str(month), *(str(counts[line]) for line in lines), str(sum(counts.values()))]
        for month, counts in report.items_by_month.items()
    ]
    by_month.append(
        ["合计", *(str(report.items_by_line[line]) for line in lines), str(report.items_total)]
    )
    dims: list[list[str]] = [
        ["方向", DIRECTION_LABELS[d], str(n)] for d, n in report.items_by_direction.items()
    ]
    dims += [["中心层级", LEVEL_LABELS[lv], str(n)] for lv, n in report.items_by_level.items()]
    dims += [
        ["合作方式", m.label if m else "未合作", str(n)] for m, n in report.items_by_mode.items()
    ]
    return [
        _block(
            "寄递件数 (揽收于本期, 按月份和业务)",
            ["月份", *(line.label for line in lines), "合计"],
            by_month,
        ),
        _block("寄递件数 (按方向, 中心层级, 合作方式)", ["维度", "类别", "件数"], dims),
    ]


def _postage_blocks(report: KpiReport) -> list[str]:
    modes = list(SettlementMode)
    zero = Money.zero(report.currency)
    by_month = [
        [str(month), *(_money(amounts[m]) for m in modes), _money(sum(amounts.values(), zero))]
        for month, amounts in report.postage_by_month.items()
    ]
    by_month.append(
        [
            "合计",
            *(_money(report.postage_by_settlement_mode[m]) for m in modes),
            _money(report.postage_paid_by_government),
        ]
    )
    dims: list[list[str]] = [
        ["业务", line.label if line else "未分摊", _money(amount)]
        for line, amount in report.postage_by_line.items()
    ]
    dims += [
        ["中心层级", LEVEL_LABELS[level] if level else "未分摊", _money(amount)]
        for level, amount in report.postage_by_level.items()
    ]
    return [
        _block(
            f"政府支付邮费 ({report.currency}, 按月份和结算方式)",
            ["月份", *(m.label for m in modes), "合计"],
            by_month,
        ),
        _block(
            f"政府支付邮费 ({report.currency}, 按业务, 中心层级)", ["维度", "类别", "金额"], dims
        ),
    ]


def _delivery_block(report: KpiReport) -> str:
    rows = [
        [
            z.zone.label,
            str(z.limit_days),
            str(z.tally.judged),
            str(z.tally.on_time),
            _percent(z.tally.rate),
            _median(z.days),
            _p90(z.days),
        ]
        for z in report.delivery
    ]
    total = report.delivery_tally
    everything = Distribution.of(
        days for z in report.delivery for days, n in z.days.counts for _ in range(n)
    )
    rows.append(
        [
            "合计",
            "-",
            str(total.judged),
            str(total.on_time),
            _percent(total.rate),
            _median(everything),
            _p90(everything),
        ]
    )
    return _block(
        "寄递时限 (本期揽收的邮件, 自揽收起的工作日)",
        ["区域", "时限", "已判定", "准时", "准时率", "中位数", "90%分位"],
        rows,
    )


def _stages_block(report: KpiReport) -> str:
    rows = [
        [
            s.label,
            s.limit or "-",
            "-" if s.tally is None else str(s.tally.judged),
            "-" if s.tally is None else str(s.tally.on_time),
            "-" if s.tally is None else _percent(s.tally.rate),
            str(s.days.size),
            _median(s.days),
            _p90(s.days),
        ]
        for s in report.stages
    ]
    return _block(
        "办件各环节 (受理于本期的办件, 工作日)",
        ["环节", "时限", "已判定", "准时", "准时率", "已完成", "中位数", "90%分位"],
        rows,
    )


def _groups_block(report: KpiReport) -> str:
    analysis = report.stage_analysis
    rows = [
        [
            dimension,
            g.label,
            str(g.applications),
            _percent(g.approval.rate),
            _percent(g.delivery.rate),
            _percent(g.promise.rate),
        ]
        for dimension, groups in (("业务", analysis.by_line), ("合作方式", analysis.by_mode))
        for g in groups
    ]
    return _block(
        "办件时限 (按业务, 合作方式)",
        ["维度", "分组", "办件", "审批准时率", "寄递准时率", "承诺准时率"],
        rows,
    )


def _trips_block(report: KpiReport) -> str:
    trips = report.trips
    rows = [
        [
            t.line.label,
            str(t.applications),
            str(t.result_trips),
            str(t.material_trips),
            str(t.trips),
            _money(t.cost),
        ]
        for t in trips.by_line
    ]
    rows.append(
        [
            "合计",
            str(trips.applications),
            str(trips.result_trips),
            str(trips.material_trips),
            str(trips.trips),
            _money(trips.cost),
        ]
    )
    return _block(
        f"节省群众跑腿和费用 ({report.currency}, 按业务; 规则见假设)",
        ["业务", "办件", "结果寄递", "材料寄递", "合计次数", "节省费用"],
        rows,
    )
