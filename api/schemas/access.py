"""Access: API keys and the audit trail."""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, Field

from api.schemas.common import Body, DistrictCode
from ledger.vocabulary import Role


class KeyCreate(Body):
    role: Role
    label: str = Field(min_length=1, max_length=120)
    district: DistrictCode | None = None
    clinic_id: str | None = None


class Key(BaseModel):
    id: str
    role: str
    district: str | None
    clinic_id: str | None
    label: str
    created_at: dt.datetime
    revoked_at: dt.datetime | None


class KeyIssued(Key):
    key: str = Field(description="the API key itself: shown once, never stored")


class AuditEntry(BaseModel):
    at: dt.datetime
    key_id: str | None
    label: str | None
    role: str | None
    action: str
    resource: str
    patient_id: str | None
    client: str | None
    request_id: str | None
    outcome: str | None = Field(
        default=None, description="what a search came to: `found`, `not_found`, `rate_limited`"
    )
    subject_hash: str | None = Field(
        default=None,
        description="a search's keyed hash (HMAC-SHA256) of whom it searched for: the same "
        "person searched again gives the same hash; never the name, birth date or phone",
    )
