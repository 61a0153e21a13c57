"""SQLAlchemy tables of the ledger, one module per part of the programme.

``base`` holds the declarative base and shared column types; ``ledger`` the append-only
ledger and its running totals; ``registry`` districts, clinics, patients and their events;
``access`` keys, idempotent requests, the audit trail and rate counters; ``imports`` the
history import;
``settlement`` spending and settlement; ``messages`` the outbox and the scheduler's rows;
``privacy`` patients' erasures and the service's own secrets; ``figures`` the reports'
read models and the filed annual tables; ``staff`` the console's
accounts and sessions.
Importing this package registers every table on ``Base.metadata`` (Alembic and the test
that the models match the migrations rely on it).
"""

from ledger.models.access import ROLES, ApiKey, AuditEvent, IdempotentRequest, RateCounter
from ledger.models.base import NAMING_CONVENTION, Base, Id, Json, TZDateTime
from ledger.models.figures import FiledAnnualRow, FiledAnnualTable, ReportFigure, SettlementFigure
from ledger.models.imports import IMPORT_KINDS, ImportRow
from ledger.models.ledger import (
    ACCOUNT_TYPES,
    Account,
    Balance,
    Entry,
    LimitCounter,
    LimitPostingRow,
    Transaction,
)
from ledger.models.messages import (
    MESSAGE_KINDS,
    MESSAGE_STATUSES,
    DistrictMessaging,
    JobRun,
    Message,
    NoSendDay,
    SchedulerLease,
)
from ledger.models.privacy import Erasure, ServiceSecret
from ledger.models.registry import (
    CLINIC_KINDS,
    CONDITIONS,
    PATIENT_STATUSES,
    Attendance,
    Clinic,
    District,
    EducationSession,
    HomeClinic,
    Patient,
    Visit,
)
from ledger.models.settlement import PURPOSES, Redemption, Settlement, SettlementLine
from ledger.models.staff import StaffAccount, WebSession

__all__ = [
    "ACCOUNT_TYPES",
    "CLINIC_KINDS",
    "CONDITIONS",
    "IMPORT_KINDS",
    "MESSAGE_KINDS",
    "MESSAGE_STATUSES",
    "NAMING_CONVENTION",
    "PATIENT_STATUSES",
    "PURPOSES",
    "ROLES",
    "Account",
    "ApiKey",
    "Attendance",
    "AuditEvent",
    "Balance",
    "Base",
    "Clinic",
    "District",
    "DistrictMessaging",
    "EducationSession",
    "Entry",
    "Erasure",
    "FiledAnnualRow",
    "FiledAnnualTable",
    "HomeClinic",
    "Id",
    "IdempotentRequest",
    "ImportRow",
    "JobRun",
    "Json",
    "LimitCounter",
    "LimitPostingRow",
    "Message",
    "NoSendDay",
    "Patient",
    "RateCounter",
    "Redemption",
    "ReportFigure",
    "SchedulerLease",
    "ServiceSecret",
    "Settlement",
    "SettlementFigure",
    "SettlementLine",
    "StaffAccount",
    "TZDateTime",
    "Transaction",
    "Visit",
    "WebSession",
]
