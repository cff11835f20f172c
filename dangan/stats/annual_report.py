"""档案工作基本情况统计年报: the yearly statistics of the archive, in the layout of the standard
form (approximated: holdings by category and retention period, additions of the year,
digitised records and pages, and use; receipts, transfers and destructions of the year per
unit; use by purpose and outcome), over the records the user may see.

Holdings are what the catalogue holds when the report is made (made in January for the year
before, that is the holdings at the year's end); "added" counts the records entered in the
year. The column heads are the form's own words (data, like the 归档文件目录's), not interface
text.
"""

import datetime
from dataclasses import dataclass, field

from django.utils import timezone

from dangan.catalogue.models import Retention
from dangan.remote.selectors import statistics as remote_statistics

from . import selectors

TITLE = "档案工作基本情况统计年报"
#: (key, column head) in the order of the form.
COLUMNS = [
    ("category", "门类"),
    ("total", "馆(室)藏合计(件/卷)"),
    ("volumes", "其中:卷"),
    ("items", "其中:件"),
    ("Y", "永久"),
    ("D100", "100年"),
    ("D50", "50年"),
    ("D30", "30年"),
    ("D10", "10年"),
    ("added", "本年新增"),
    ("digitised", "已数字化(件/卷)"),
    ("pages", "数字化页数"),
    ("pages_ocr", "已识别(OCR)页数"),
    ("use", "本年利用(件次)"),
]
NUMBERS = [key for key, _head in COLUMNS if key != "category"]
#: 异地查档: remote requests of the year (dangan.remote), (key, head).
REMOTE_COLUMNS = [
    ("sent", "异地查档发出(件)"),
    ("received", "异地查档受理(件)"),
    ("answered", "已答复(件)"),
    ("delivered", "已出证送达(件)"),
    ("days_to_answer", "平均答复天数"),
]


#: 接收与处置: per unit, the year's hand-overs and records received, filed and destroyed.
RECEIPT_COLUMNS = [
    ("unit", "单位"),
    ("handovers", "接收移交(批)"),
    ("accepted", "接收档案(件)"),
    ("filed", "归档(件/卷)"),
    ("destroyed", "销毁(件/卷)"),
]
#: 移交进馆: transfer packages of the year, out to the archives and in from another archive.
TRANSFER_COLUMNS = [
    ("exported", "移交进馆(批)"),
    ("exported_items", "移交进馆(件/卷)"),
    ("imported", "接收进馆(批)"),
    ("imported_items", "接收进馆(件/卷)"),
]
#: 利用目的与利用效果: uses of the year by purpose (rows) and outcome (columns).
OUTCOME_COLUMNS = [
    ("name", "利用目的"),
    ("solved", "解决问题"),
    ("proof", "提供凭证"),
    ("reference", "提供参考"),
    ("none", "未起作用"),
    ("unknown", "未反馈"),
    ("total", "合计(件次)"),
]


@dataclass
class AnnualReport:
    year: int
    rows: list[dict]
    totals: dict
    remote: dict = field(default_factory=dict)
    receipts: list[dict] = field(default_factory=list)
    transfers: dict = field(default_factory=dict)
    outcomes: list[dict] = field(default_factory=list)

    @staticmethod
    def _cells(columns, rows, total_label="合计") -> list[list]:
        """``rows`` as lists of cells in the order of ``columns``, a totals line last."""
        keys = [key for key, _head in columns]
        totals = [total_label] + [sum(row[k] for row in rows) for k in keys[1:]]
        return [[row[k] for k in keys] for row in rows] + [totals]

    @property
    def sections(self) -> list[tuple[str, list[str], list[list]]]:
        """The parts after the holdings table: (title, heads, rows), totals last in each."""
        return [
            (
                "接收与处置",
                [head for _key, head in RECEIPT_COLUMNS],
                self._cells(RECEIPT_COLUMNS, self.receipts),
            ),
            (
                "移交进馆",
                [head for _key, head in TRANSFER_COLUMNS],
                [[self.transfers.get(key, 0) for key, _head in TRANSFER_COLUMNS]],
            ),
            (
                "利用目的与利用效果",
                [head for _key, head in OUTCOME_COLUMNS],
                self._cells(OUTCOME_COLUMNS, self.outcomes),
            ),
        ]

    @property
    def remote_table(self) -> list[tuple[str, object]]:
        return [(head, self.remote.get(key)) for key, head in REMOTE_COLUMNS]

    @property
    def heads(self):
        return [head for _key, head in COLUMNS]

    def table(self) -> list[list]:
        """The report as rows of cells, totals last (for Excel and PDF)."""
        keys = [key for key, _head in COLUMNS]
        return [[row[k] for k in keys] for row in self.rows] + [[self.totals[k] for k in keys]]


def annual_report(user, *, year: int) -> AnnualReport:
    held = selectors.holdings(user)
    by_retention = held.by(0, 3)
    by_level = held.by(0, 4)
    added = selectors.entered_in(user, year=year)
    digital = {d["id"]: d for d in selectors.digitization(user, held)}
    use = selectors.use_by_category(user, year=year)
    rows = []
    for c in selectors.by_category(held):
        pk = c["id"]
        rows.append(
            {
                "category": f"{c['code']} {c['name']}",
                "total": c["count"],
                "volumes": by_level.get((pk, "volume"), 0),
                "items": by_level.get((pk, "item"), 0),
                **{r.value: by_retention.get((pk, r.value), 0) for r in Retention},
                "added": added.get(pk, 0),
                "digitised": digital[pk]["records_scanned"],
                "pages": digital[pk]["pages"],
                "pages_ocr": digital[pk]["pages_ocr"],
                "use": use.get(pk, 0),
            }
        )
    totals = {"category": "合计", **{k: sum(r[k] for r in rows) for k in NUMBERS}}
    start = timezone.make_aware(datetime.datetime(year, 1, 1))
    remote = remote_statistics(
        user, since=start, until=timezone.make_aware(datetime.datetime(year + 1, 1, 1))
    )
    return AnnualReport(
        year=year,
        rows=rows,
        totals=totals,
        remote=remote,
        receipts=selectors.receipts_by_unit(user, year=year),
        transfers=selectors.transfers_in(user, year=year),
        outcomes=selectors.use_by_purpose_and_outcome(user, year=year),
    )
