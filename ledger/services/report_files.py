"""The files officers download and file: a quarter's settlement with its grant request, the
district report and the city's annual table, as :class:`~ledger.services.sheets.Sheet`\\ s."""

from __future__ import annotations

from typing import Any

from ledger.services.reports import Row
from ledger.services.settlement import SettlementView
from ledger.vocabulary import SettlementStatus

__all__ = ["annual_sheet", "district_sheet", "settlement_sheet"]

from ledger.services.sheets import Sheet

SETTLEMENT_HEADERS = [
    "의료기관 ID",
    "의료기관명",
    "적립(기관)",
    "사용(상환)",
    "정정",
    "지급액",
    "지급일",
    "이체 참조",
]
DISTRICT_HEADERS = [
    "자치구 코드",
    "자치구",
    "만성질환 의원",
    "안과 의원",
    "등록",
    "진료",
    "교육",
    "적립",
    "사용",
    "사용율",
    "기관 적립",
    "누적 등록",
    "누적 진료",
    "누적 교육",
    "누적 적립",
    "누적 사용",
    "누적 사용율",
    "누적 기관 적립",
]
ANNUAL_HEADERS = [
    "연도",
    "자치구",
    "의료기관",
    "만성질환",
    "안과",
    "누적 등록",
    "누적 진료",
    "누적 교육",
    "누적 적립",
    "누적 사용",
    "누적 사용율",
    "연간 사용율",
]


def settlement_sheet(view: SettlementView, district_name: str) -> Sheet:
    """A line per clinic with a totals row, and the grant request (교부신청) to the city."""
    row = view.settlement
    rows: list[list[Any]] = [
        [
            line.clinic_id,
            line.clinic_name,
            line.earned,
            line.reimbursed,
            line.corrections,
            line.payout,
            line.paid_on.isoformat() if line.paid_on else "",
            line.payment_reference or "",
        ]
        for line in view.lines
    ]
    totals = ["합계", "", *(sum(r[i] for r in rows) for i in (2, 3, 4)), view.total, "", ""]
    status = "마감" if row.status == SettlementStatus.CLOSED else "가집계(미마감)"
    period = f"{row.year}년 {row.quarter}분기"
    grant: list[list[Any]] = [
        ["보조금 교부 신청", ""],
        ["자치구", f"{district_name} ({row.district})"],
        ["기간", period],
        ["상태", status],
        ["신청 금액 (원)", view.total],
        ["의료기관 수", len(rows)],
    ]
    return Sheet(
        filename=f"settlement-{row.district}-{row.year}Q{row.quarter}",
        title=f"{period} {district_name} 건강관리 마일리지 정산 ({status})",
        headers=SETTLEMENT_HEADERS,
        rows=rows,
        totals=totals,
        extra_sheets=[("교부신청", grant)],
        sheet_name="정산",
    )


def _district_cells(row: Row) -> list[Any]:
    y, c = row.year, row.cumulative
    return [
        row.key,
        row.name,
        row.clinics_chronic,
        row.clinics_ophthalmology,
        y.registered,
        y.visits,
        y.education,
        y.accrued,
        y.used,
        float(y.usage_rate),
        y.clinic_earned,
        c.registered,
        c.visits,
        c.education,
        c.accrued,
        c.used,
        float(c.usage_rate),
        c.clinic_earned,
    ]


def district_sheet(year: int, rows: list[Row], total: Row) -> Sheet:
    """A row per district for the year and cumulative, and the total."""
    return Sheet(
        filename=f"report-districts-{year}",
        title=f"{year}년 건강관리 마일리지 자치구별 현황",
        headers=DISTRICT_HEADERS,
        rows=[_district_cells(r) for r in rows],
        totals=_district_cells(total),
        rate_columns=(9, 16),
    )


def annual_sheet(through: int, table: list[tuple[int, int, Row]]) -> Sheet:
    """The city's January table: a row per year, cumulative since the first."""
    rows = [
        [
            year,
            districts,
            row.clinics_chronic + row.clinics_ophthalmology,
            row.clinics_chronic,
            row.clinics_ophthalmology,
            row.cumulative.registered,
            row.cumulative.visits,
            row.cumulative.education,
            row.cumulative.accrued,
            row.cumulative.used,
            float(row.cumulative.usage_rate),
            float(row.year.usage_rate),
        ]
        for year, districts, row in table
    ]
    return Sheet(
        filename=f"report-annual-{through}",
        title=f"건강관리 마일리지 연도별 현황 ({through}년까지, 누적)",
        headers=ANNUAL_HEADERS,
        rows=rows,
        rate_columns=(10, 11),
    )
