"""Where a patient may spend: participating clinics, in their district unless the rules say city."""

from __future__ import annotations

import datetime as dt

from ledger.models import Clinic, Patient
from ledger.services.events import rules_for


def may_spend_at(patient: Patient, clinic: Clinic, day: dt.date) -> bool:
    """Whether the rules of ``day`` let the patient spend at ``clinic``."""
    until = clinic.participating_until
    if day < clinic.participating_since or (until is not None and day > until):
        return False
    scope = rules_for(None, day, patient.district).spending.scope
    return scope == "city" or clinic.district == patient.district
