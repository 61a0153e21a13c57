"""The city's annual table, filed for good; the reports' read models rebuilt."""

from __future__ import annotations

from sqlalchemy.orm import Session

from actions.context import Context
from ledger.errors import Forbidden
from ledger.services import reports, verify
from ledger.services.reports import FiledTable
from ledger.vocabulary import Role

__all__ = ["file_annual_table", "rebuild_read_models", "show_filed_annual_table"]


def file_annual_table(session: Session, ctx: Context, *, through: int) -> FiledTable:
    """The city files its annual table through ``through`` (once that year has ended): kept
    as filed, later late entries show as corrections beside it."""
    if ctx.principal.role != Role.CITY:
        raise Forbidden("the city files the annual table")
    filed = reports.file_annual_table(session, through=through, filed_by=ctx.label, today=ctx.today)
    ctx.audit(session, "report.annual.file", f"reports/annual/{through}")
    return filed


def show_filed_annual_table(session: Session, ctx: Context, *, through: int) -> FiledTable:
    """The annual table as filed, each year beside the ledger's figures now."""
    return reports.filed_annual_table(session, through=through)


def rebuild_read_models(session: Session, ctx: Context) -> tuple[int, int]:
    """Recount the reports' and settlements' read models from the ledger (an operator's
    repair after ``mileage ledger verify`` named a row); (report rows, settlement rows)."""
    counted = verify.rebuild_read_models(session)
    ctx.audit(session, "ledger.rebuild_read_models", "read-models")
    return counted
