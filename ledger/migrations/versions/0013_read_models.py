"""Read models for the reports and settlements, filled from the history; filed annual tables.

- ``report_figures``: per district, clinic (``''`` for a district's own rows), month
  (``yyyymm``), figure and shard, the value the reports sum (``ledger.models.figures``).
- ``settlement_figures``: per district, quarter, clinic and figure, what a settlement line is
  made of.
- ``filed_annual_tables`` / ``filed_annual_rows``: the city's annual table as filed.

The two read models are filled here from the existing history, set-based (one
``INSERT ... SELECT ... GROUP BY`` per figure), by the same rules as the booking keeps them;
``mileage ledger verify`` checks the result against the entries.

Revision ID: 0013_read_models
Revises: 0012_staff
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013_read_models"
down_revision = "0012_staff"
branch_labels = None
depends_on = None

Stamp = sa.DateTime(timezone=True).with_variant(sa.String(40), "sqlite")

AWARDS = "('enrolment', 'visit', 'education', 'migration')"
# (figure, account type, kinds, signed amount, clinic column, shard column)
OWNER = "SUBSTR(a.code, LENGTH(a.type) + 2)"
MILEAGE = (
    ("accrued", "patient", AWARDS, "-e.amount", "''", "t.id % 16"),
    ("used", "patient", "('redemption')", "e.amount", "''", "t.id % 16"),
    ("clinic_earned", "clinic_earned", AWARDS, "-e.amount", OWNER, "0"),
    ("used", "clinic_reimbursable", "('redemption')", "-e.amount", OWNER, "0"),
)


def _year(day: str, dialect: str) -> str:
    if dialect == "sqlite":
        return f"CAST(strftime('%Y', {day}) AS INTEGER)"
    return f"CAST(EXTRACT(YEAR FROM {day}) AS INTEGER)"


def _month_number(day: str, dialect: str) -> str:
    if dialect == "sqlite":
        return f"CAST(strftime('%m', {day}) AS INTEGER)"
    return f"CAST(EXTRACT(MONTH FROM {day}) AS INTEGER)"


def _month(day: str, dialect: str) -> str:
    return f"{_year(day, dialect)} * 100 + {_month_number(day, dialect)}"


def _fill(dialect: str) -> list[str]:
    into = "INSERT INTO report_figures (district, clinic, month, figure, shard, value) "
    statements = [
        into + f"SELECT district, clinic_id, {_month('enrolled_on', dialect)}, 'registered', 0, "
        "COUNT(*) FROM patients GROUP BY 1, 2, 3",
        into + f"SELECT c.district, v.clinic_id, {_month('v.visited_on', dialect)}, 'visits', 0, "
        "COUNT(*) FROM visits v JOIN clinics c ON c.id = v.clinic_id GROUP BY 1, 2, 3",
        into + f"SELECT s.district, p.clinic_id, {_month('s.held_on', dialect)}, 'education', 0, "
        "COUNT(*) FROM attendances x JOIN education_sessions s ON s.id = x.session_id "
        "JOIN patients p ON p.id = x.patient_id GROUP BY 1, 2, 3",
    ]
    day = _month("COALESCE(o.effective_date, t.effective_date)", dialect)
    for figure, account_type, kinds, amount, clinic, shard in MILEAGE:
        statements.append(
            into + f"SELECT a.district, {clinic}, {day}, '{figure}', {shard}, SUM({amount}) "
            "FROM entries e JOIN transactions t ON t.id = e.transaction_id "
            "JOIN accounts a ON a.id = e.account_id "
            "LEFT JOIN transactions o ON o.id = t.reverses_id "
            f"WHERE a.type = '{account_type}' AND COALESCE(o.kind, t.kind) IN {kinds} "
            "AND a.district IS NOT NULL GROUP BY 1, 2, 3, 4, 5"
        )
    quarter = (
        f"{_year('t.effective_date', dialect)} * 4 "
        f"+ ({_month_number('t.effective_date', dialect)} - 1) / 3"
    )
    period = (
        "CAST(SUBSTR(t.period, 1, 4) AS INTEGER) * 4 + CAST(SUBSTR(t.period, 7, 1) AS INTEGER) - 1"
    )
    statements.append(
        "INSERT INTO settlement_figures (district, period, clinic, figure, value) "
        f"SELECT a.district, t.period, {OWNER}, "
        f"CASE WHEN t.reverses_id IS NOT NULL OR {quarter} < {period} "
        "THEN 'corrections_' ELSE '' END "
        "|| CASE WHEN a.type = 'clinic_earned' THEN 'earned' ELSE 'reimbursed' END, "
        "SUM(-e.amount) FROM entries e JOIN transactions t ON t.id = e.transaction_id "
        "JOIN accounts a ON a.id = e.account_id "
        "WHERE a.type IN ('clinic_earned', 'clinic_reimbursable') AND a.district IS NOT NULL "
        "AND t.period IS NOT NULL AND t.kind NOT IN ('settlement', 'payment') "
        "GROUP BY 1, 2, 3, 4"
    )
    return statements


def upgrade() -> None:
    op.create_table(
        "report_figures",
        sa.Column("district", sa.String(5), primary_key=True),
        sa.Column("clinic", sa.String(120), primary_key=True),
        sa.Column("month", sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column("figure", sa.String(16), primary_key=True),
        sa.Column("shard", sa.SmallInteger(), primary_key=True, autoincrement=False),
        sa.Column("value", sa.BigInteger(), nullable=False),
    )
    op.create_index("ix_report_figures_clinic_month", "report_figures", ["clinic", "month"])
    op.create_table(
        "settlement_figures",
        sa.Column("district", sa.String(5), primary_key=True),
        sa.Column("period", sa.String(7), primary_key=True),
        sa.Column("clinic", sa.String(120), primary_key=True),
        sa.Column("figure", sa.String(24), primary_key=True),
        sa.Column("value", sa.BigInteger(), nullable=False),
    )
    op.create_table(
        "filed_annual_tables",
        sa.Column("through", sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column("filed_at", Stamp, nullable=False),
        sa.Column("filed_by", sa.String(120), nullable=False),
    )
    figures = ("registered", "visits", "education", "accrued", "used", "clinic_earned")
    op.create_table(
        "filed_annual_rows",
        sa.Column(
            "through",
            sa.Integer(),
            sa.ForeignKey("filed_annual_tables.through"),
            primary_key=True,
            autoincrement=False,
        ),
        sa.Column("year", sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column("districts", sa.Integer(), nullable=False),
        sa.Column("clinics_chronic", sa.Integer(), nullable=False),
        sa.Column("clinics_ophthalmology", sa.Integer(), nullable=False),
        *(sa.Column(name, sa.BigInteger(), nullable=False) for name in figures),
        *(sa.Column(f"year_{name}", sa.BigInteger(), nullable=False) for name in figures),
    )
    for statement in _fill(op.get_bind().dialect.name):
        op.execute(statement)


def downgrade() -> None:
    op.drop_table("filed_annual_rows")
    op.drop_table("filed_annual_tables")
    op.drop_table("settlement_figures")
    op.drop_index("ix_report_figures_clinic_month", "report_figures")
    op.drop_table("report_figures")
