"""The programme's reports: by district, by clinic, and year by year."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel


class ReportFigures(BaseModel):
    registered: int
    visits: int
    education: int
    accrued: int
    used: int
    usage_rate: float
    clinic_earned: int


class DistrictReportRow(BaseModel):
    district: str
    name: str
    clinics_chronic: int
    clinics_ophthalmology: int
    registered: int
    visits: int
    education: int
    accrued: int
    used: int
    usage_rate: float
    clinic_earned: int
    cumulative_registered: int
    cumulative_visits: int
    cumulative_education: int
    cumulative_accrued: int
    cumulative_used: int
    cumulative_usage_rate: float
    cumulative_clinic_earned: int


class DistrictReport(BaseModel):
    year: int
    items: list[DistrictReportRow]
    next_cursor: str | None = None
    total: DistrictReportRow


class ClinicReportRow(BaseModel):
    clinic_id: str
    name: str
    registered: int
    visits: int
    education: int
    used: int
    clinic_earned: int
    cumulative_registered: int
    cumulative_visits: int
    cumulative_education: int
    cumulative_used: int
    cumulative_clinic_earned: int


class ClinicReport(BaseModel):
    year: int
    district: str
    items: list[ClinicReportRow]
    next_cursor: str | None = None


class AnnualReportRow(BaseModel):
    year: int
    districts: int
    clinics: int
    clinics_chronic: int
    clinics_ophthalmology: int
    registered: int
    visits: int
    education: int
    accrued: int
    used: int
    usage_rate: float
    year_usage_rate: float


class AnnualReport(BaseModel):
    items: list[AnnualReportRow]
    next_cursor: str | None = None


class AnnualCorrections(BaseModel):
    """What the ledger gives now minus what was filed: late entries and reversals since."""

    districts: int
    clinics_chronic: int
    clinics_ophthalmology: int
    registered: int
    visits: int
    education: int
    accrued: int
    used: int
    clinic_earned: int
    year_registered: int
    year_visits: int
    year_education: int
    year_accrued: int
    year_used: int
    year_clinic_earned: int


class FiledAnnualReportRow(AnnualReportRow):
    """A year's row as filed, with the corrections booked since beside it."""

    corrections: AnnualCorrections


class FiledAnnualReport(BaseModel):
    through: int
    filed_at: datetime
    filed_by: str
    items: list[FiledAnnualReportRow]
