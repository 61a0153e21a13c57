"""Seoul's programme since 2013, simulated in bulk: ``mileage demo --scale seoul``.

The model. Every figure the reports show comes out of it; none is typed in:

- Districts join in the years the programme doc gives (:data:`SEOUL_DISTRICTS`). Each brings
  about 14 chronic-disease clinics, recruited over its first two years, and from 2018 about 4
  ophthalmology clinics. Now and then a clinic leaves; a new one takes its place the next day
  and the leaver's patients move to another clinic of the district.
- A district enrols many patients in its first years (the backlog of patients its clinics
  already treat) and fewer later. Fewer come during the COVID-19 years.
- A patient visits their home clinic in a month with their own adherence, now and then twice
  (the second visit earns nothing), until they stop coming (a monthly chance of dropping
  out). Clinics enter blood pressure or HbA1c at some visits, at target as the patient's
  control allows.
- Health centres hold education classes (suspended in the COVID-19 years), which some
  patients attend now and then.
- Patients spend when their balance allows: part of a bill at a visit, a test, a flu shot in
  autumn, an eye examination at an ophthalmology clinic. Some never spend; some who stopped
  coming come back once in a while to spend what is left.

The bulk path. Booking ~1.5 M transactions one by one through the services (~4 ms each)
would take hours, so each event is *evaluated* with the same pure code as live booking
(``ledger.programme``'s transfers under the year's rule set, then ``ledger.domain.plan``)
against balances and limit counters kept in memory (:class:`~ledger.simulation.books.Books`),
and the rows are *written* in large chunks (:class:`~ledger.simulation.sql.TableInsert`:
Core executemany of plain tuples, each value bound by its column's SQLAlchemy type; on
SQLite many rows a statement) by a writer thread while the next chunk is evaluated
(:class:`~ledger.simulation.writer.BulkWriter`, which says in what order and why every
commit leaves a sound ledger). Transaction ids come as a contiguous block per chunk
(PostgreSQL: the services' sequence; SQLite: the highest id + 1).

The package, one idea a module: :mod:`~ledger.simulation.model` (the programme's shape and
the behavioural parameters), :mod:`~ledger.simulation.people` and
:mod:`~ledger.simulation.days` (names, phones, clinic days), :mod:`~ledger.simulation.world`
(clinics, patients, classes), :mod:`~ledger.simulation.events` (a year's events),
:mod:`~ledger.simulation.books` and :mod:`~ledger.simulation.evaluate` (events to bookings),
:mod:`~ledger.simulation.sql` and :mod:`~ledger.simulation.writer` (the bulk writer),
:mod:`~ledger.simulation.run` (the run) and :mod:`~ledger.simulation.report` (its output).
"""

from ledger.simulation.bulk_ids import bulk_id
from ledger.simulation.model import SEOUL_DISTRICTS, DistrictJoin, Model
from ledger.simulation.report import SimulationResult, report_lines, summary
from ledger.simulation.run import (
    database_is_empty,
    days_to_simulate,
    default_through,
    simulate_seoul,
)

__all__ = [
    "SEOUL_DISTRICTS",
    "DistrictJoin",
    "Model",
    "SimulationResult",
    "bulk_id",
    "database_is_empty",
    "days_to_simulate",
    "default_through",
    "report_lines",
    "simulate_seoul",
    "summary",
]
