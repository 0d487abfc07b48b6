"""One-key actions: promote, rollback, abort, retry, gate, blue-green switch, jobs, flags.

The contract the UI and the command line are written against:

* :func:`plan` (pure): what a key means for a row in this state — an
  :class:`ActionPlan` naming the exact target, what else changes, the warnings and the
  exact request(s) — or a :class:`NoAction` saying why the key does nothing;
* :func:`enrich`: the plan made exact from the live systems (an undo's template, the
  live re-check, the migrations a rollback crosses);
* :func:`execute`: send it once — refused in read-only mode, refused while the same
  action on the same row is in flight, refused when the workload moved since the plan —
  then refresh the row and write the audit record; returns an :class:`ActionResult`.

:class:`ActionContext` carries the sources, configuration, user and audit log;
:class:`~cockpit.actions.guard.HealthGuard` aborts a failing canary by itself when the
environment asks for it. Modules: ``plans`` (what a plan is: the types), ``planning``
(making one: :func:`plan` and the key table), ``requests`` (the exact writes),
``targets`` (naming revisions and commits), ``facts`` (the live re-check), ``execute``,
``explain`` (errors in words), ``audit``, ``guard``.
"""

from cockpit.actions.audit import HEALTH_GUARD, PERSON, AuditLog, AuditRecord, read_audit
from cockpit.actions.context import ActionContext
from cockpit.actions.execute import enrich, execute
from cockpit.actions.planning import plan
from cockpit.actions.plans import ActionPlan, ActionResult
from cockpit.intents import Intent, NoAction

__all__ = [
    "HEALTH_GUARD",
    "PERSON",
    "ActionContext",
    "ActionPlan",
    "ActionResult",
    "AuditLog",
    "AuditRecord",
    "Intent",
    "NoAction",
    "enrich",
    "execute",
    "plan",
    "read_audit",
]
