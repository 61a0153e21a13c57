"""The programme's registry: districts (all 25 of Seoul), clinics, patients, events.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
Stamp = sa.DateTime(timezone=True).with_variant(sa.String(40), "sqlite")

# (code, name, year it joined the programme or None); the programme doc's list.
SEOUL = [
    ("11110", "종로구", None),
    ("11140", "중구", 2018),
    ("11170", "용산구", 2013),
    ("11200", "성동구", None),
    ("11215", "광진구", 2015),
    ("11230", "동대문구", 2020),
    ("11260", "중랑구", 2023),
    ("11290", "성북구", 2013),
    ("11305", "강북구", 2013),
    ("11320", "도봉구", 2015),
    ("11350", "노원구", None),
    ("11380", "은평구", None),
    ("11410", "서대문구", None),
    ("11440", "마포구", 2020),
    ("11470", "양천구", None),
    ("11500", "강서구", None),
    ("11530", "구로구", 2013),
    ("11545", "금천구", 2018),
    ("11560", "영등포구", None),
    ("11590", "동작구", 2018),
    ("11620", "관악구", 2013),
    ("11650", "서초구", 2013),
    ("11680", "강남구", None),
    ("11710", "송파구", None),
    ("11740", "강동구", 2013),
]


def upgrade() -> None:
    districts = op.create_table(
        "districts",
        sa.Column("code", sa.String(5), primary_key=True),
        sa.Column("name", sa.String(20), nullable=False),
        sa.Column("participating", sa.Boolean, nullable=False),
        sa.Column("joined_year", sa.Integer),
    )
    op.bulk_insert(
        districts,
        [
            {"code": code, "name": name, "participating": year is not None, "joined_year": year}
            for code, name, year in SEOUL
        ],
    )
    op.create_table(
        "clinics",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("district", sa.String(5), sa.ForeignKey("districts.code"), nullable=False),
        sa.Column("participating_since", sa.Date, nullable=False),
        sa.Column("participating_until", sa.Date),
        sa.Column("earned_account_id", sa.BigInteger, sa.ForeignKey("accounts.id"), nullable=False),
        sa.Column(
            "reimbursable_account_id", sa.BigInteger, sa.ForeignKey("accounts.id"), nullable=False
        ),
        sa.Column("created_at", Stamp, nullable=False),
        sa.CheckConstraint("kind IN ('chronic', 'ophthalmology')", name="kind"),
        sa.CheckConstraint(
            "participating_until IS NULL OR participating_until >= participating_since",
            name="period",
        ),
    )
    op.create_index("ix_clinics_district", "clinics", ["district"])
    op.create_table(
        "patients",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("birth_date", sa.Date, nullable=False),
        sa.Column("phone", sa.String(20), nullable=False),
        sa.Column("has_hypertension", sa.Boolean, nullable=False),
        sa.Column("has_diabetes", sa.Boolean, nullable=False),
        sa.Column("sms_consent", sa.Boolean, nullable=False),
        sa.Column("consent_changed_at", Stamp, nullable=False),
        sa.Column("consent_wording", sa.String(40), nullable=False),
        sa.Column("consent_recorded_by", sa.String(120), nullable=False),
        sa.Column("clinic_id", sa.String(32), sa.ForeignKey("clinics.id"), nullable=False),
        sa.Column("district", sa.String(5), sa.ForeignKey("districts.code"), nullable=False),
        sa.Column("enrolled_on", sa.Date, nullable=False),
        sa.Column("status", sa.String(12), nullable=False),
        sa.Column("left_on", sa.Date),
        sa.Column("account_id", sa.BigInteger, sa.ForeignKey("accounts.id"), nullable=False),
        sa.Column("enrolment_transaction_id", sa.BigInteger, sa.ForeignKey("transactions.id")),
        sa.Column("leaving_transaction_id", sa.BigInteger, sa.ForeignKey("transactions.id")),
        sa.Column("created_at", Stamp, nullable=False),
        sa.UniqueConstraint("name", "birth_date", "phone", name="uq_patients_person"),
        sa.UniqueConstraint("account_id"),
        sa.CheckConstraint("has_hypertension OR has_diabetes", name="a_condition"),
        sa.CheckConstraint("status IN ('active', 'moved', 'withdrawn', 'deceased')", name="status"),
    )
    op.create_index("ix_patients_phone", "patients", ["phone"])
    op.create_index("ix_patients_clinic_id", "patients", ["clinic_id"])
    op.create_index("ix_patients_district", "patients", ["district"])
    op.create_table(
        "home_clinics",
        sa.Column("id", Id, primary_key=True),
        sa.Column("patient_id", sa.String(32), sa.ForeignKey("patients.id"), nullable=False),
        sa.Column("clinic_id", sa.String(32), sa.ForeignKey("clinics.id"), nullable=False),
        sa.Column("from_date", sa.Date, nullable=False),
    )
    op.create_index("ix_home_clinics_patient_from", "home_clinics", ["patient_id", "from_date"])
    op.create_table(
        "visits",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("patient_id", sa.String(32), sa.ForeignKey("patients.id"), nullable=False),
        sa.Column("clinic_id", sa.String(32), sa.ForeignKey("clinics.id"), nullable=False),
        sa.Column("visited_on", sa.Date, nullable=False),
        sa.Column("systolic", sa.SmallInteger),
        sa.Column("diastolic", sa.SmallInteger),
        sa.Column("hba1c", sa.Numeric(4, 1)),
        sa.Column("fasting_glucose", sa.SmallInteger),
        sa.Column("next_visit_on", sa.Date),
        sa.Column(
            "transaction_id", sa.BigInteger, sa.ForeignKey("transactions.id"), nullable=False
        ),
        sa.Column("recorded_at", Stamp, nullable=False),
        sa.Column("recorded_by", sa.String(120), nullable=False),
    )
    op.create_index("ix_visits_patient_day", "visits", ["patient_id", "visited_on"])
    op.create_index("ix_visits_clinic_id", "visits", ["clinic_id"])
    op.create_table(
        "education_sessions",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("district", sa.String(5), sa.ForeignKey("districts.code"), nullable=False),
        sa.Column("clinic_id", sa.String(32), sa.ForeignKey("clinics.id")),
        sa.Column("held_on", sa.Date, nullable=False),
        sa.Column("condition", sa.String(12), nullable=False),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("created_at", Stamp, nullable=False),
        sa.CheckConstraint("condition IN ('hypertension', 'diabetes')", name="condition"),
    )
    op.create_index("ix_education_sessions_district", "education_sessions", ["district"])
    op.create_table(
        "attendances",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column(
            "session_id", sa.String(32), sa.ForeignKey("education_sessions.id"), nullable=False
        ),
        sa.Column("patient_id", sa.String(32), sa.ForeignKey("patients.id"), nullable=False),
        sa.Column(
            "transaction_id", sa.BigInteger, sa.ForeignKey("transactions.id"), nullable=False
        ),
        sa.Column("recorded_at", Stamp, nullable=False),
        sa.Column("recorded_by", sa.String(120), nullable=False),
        sa.UniqueConstraint("session_id", "patient_id"),
    )
    op.create_index("ix_attendances_patient_id", "attendances", ["patient_id"])


def downgrade() -> None:
    for table in (
        "attendances",
        "education_sessions",
        "visits",
        "home_clinics",
        "patients",
        "clinics",
        "districts",
    ):
        op.drop_table(table)
