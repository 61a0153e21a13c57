"""The programme's user actions: one function per thing a person does, for every edge.

Registering a patient, recording a visit, spending mileage, closing a quarter: each is one
function here that does all the action means (books through the ledger's services, queues
or cancels texts, writes the audit record) inside the caller's transaction. The HTTP routes,
the console's pages, the history importer, the demo and the scheduler's jobs call these and
nothing below them for writes, so an imported visit queues its reminder exactly as one
recorded over HTTP does. Reads that a person makes (a patient's page, a statement) are here
too, because reading personal data is audited.

Every action takes the session first and a :class:`~actions.context.Context` (who acts, when,
from where) second, keyword arguments after; it flushes and never commits: the edge owns the
transaction. Authorisation (may this caller touch this record?) is decided by
:mod:`actions.policy`, which the edges apply before calling an action.
"""
