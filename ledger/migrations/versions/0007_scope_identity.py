"""Identity and corrections: patients' names in one form; only events are reversed.

- **Names** are stored in the form ``ledger.text.normalise_name`` gives them (invisible
  format characters removed, NFKC, whitespace collapsed), so the same person written in
  decomposed Hangul, with a zero-width space or with a double space is found as the same
  patient and the ``uq_patients_person`` constraint holds for them. Names stored before this
  revision are brought into that form here. Where two stored patients turn out to be one
  person (registered twice before the fix), neither is merged or renamed: the second keeps
  its stored name and its id is logged (ids only, never a name), for an officer to resolve.
  The normalisation is copied below rather than imported, so this revision does the same
  thing whatever later code does.
- **Reversals**: the database refuses a reversal of anything but an enrolment, a visit, an
  education attendance or a redemption (``ledger.vocabulary.CORRECTABLE_KINDS``), on both
  engines, as the last line of defence behind ``ledger.services.booking.reverse``.

Revision ID: 0007_identity
Revises: 0006
Create Date: 2026-11-23
"""

from __future__ import annotations

import logging
import unicodedata

import sqlalchemy as sa
from alembic import op

revision = "0007_identity"
down_revision = "0006"
branch_labels = None
depends_on = None

log = logging.getLogger("alembic.runtime.migration")

CORRECTABLE = ("enrolment", "visit", "education", "redemption")
REFUSAL = "only enrolment, visit, education and redemption transactions are reversed"


def upgrade() -> None:
    bind = op.get_bind()
    _normalise_names(bind)
    kinds = ", ".join(f"'{kind}'" for kind in CORRECTABLE)
    if bind.dialect.name == "postgresql":
        op.execute(
            f"""
            CREATE FUNCTION ledger_check_correctable() RETURNS trigger LANGUAGE plpgsql AS $$
            DECLARE original_kind TEXT;
            BEGIN
                IF NEW.reverses_id IS NOT NULL THEN
                    SELECT kind INTO original_kind FROM transactions WHERE id = NEW.reverses_id;
                    IF original_kind IS NOT NULL AND original_kind NOT IN ({kinds}) THEN
                        RAISE EXCEPTION 'transaction % is a %: {REFUSAL}',
                            NEW.reverses_id, original_kind USING ERRCODE = 'check_violation';
                    END IF;
                END IF;
                RETURN NEW;
            END $$
            """
        )
        op.execute(
            "CREATE TRIGGER transactions_correctable BEFORE INSERT ON transactions "
            "FOR EACH ROW EXECUTE FUNCTION ledger_check_correctable()"
        )
    else:
        op.execute(
            "CREATE TRIGGER transactions_correctable BEFORE INSERT ON transactions "
            "WHEN NEW.reverses_id IS NOT NULL AND "
            f"(SELECT kind FROM transactions WHERE id = NEW.reverses_id) NOT IN ({kinds}) "
            f"BEGIN SELECT RAISE(ABORT, '{REFUSAL}'); END"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER transactions_correctable ON transactions")
        op.execute("DROP FUNCTION ledger_check_correctable()")
    else:
        op.execute("DROP TRIGGER transactions_correctable")
    # Normalised names stay normalised: their earlier form is not kept, nor needed.


def _normalise(name: str) -> str:
    """``ledger.text.normalise_name`` as of this revision."""
    visible = "".join(
        char for char in name if char.isspace() or unicodedata.category(char) not in {"Cf", "Cc"}
    )
    return " ".join(unicodedata.normalize("NFKC", visible).split())


def _normalise_names(bind: sa.Connection) -> None:
    patients = sa.table(
        "patients",
        sa.column("id", sa.String),
        sa.column("name", sa.String),
        sa.column("birth_date", sa.Date),
        sa.column("phone", sa.String),
    )
    # Few stored names change: stream them all, keep only those that do.
    changes = [
        (row.id, _normalise(row.name), row.birth_date, row.phone)
        for row in bind.execute(
            sa.select(
                patients.c.id, patients.c.name, patients.c.birth_date, patients.c.phone
            ).execution_options(yield_per=5_000)
        )
        if _normalise(row.name) != row.name
    ]
    for patient_id, name, birth_date, phone in changes:
        twin = bind.execute(
            sa.select(patients.c.id).where(
                patients.c.name == name,
                patients.c.birth_date == birth_date,
                patients.c.phone == phone,
            )
        ).scalar()
        if twin is not None:
            log.warning(
                "patient %s is the same person as patient %s (registered twice before names "
                "were normalised); its name is left as stored, for an officer to resolve",
                patient_id,
                twin,
            )
            continue
        bind.execute(sa.update(patients).where(patients.c.id == patient_id).values(name=name))
