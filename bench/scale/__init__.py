"""A large, realistic data set for the scale benchmark (issue 6): what `manage.py seed_scale` runs.

By default 2,000 apps, 200,000 releases and 2,000,000 audit events over the past year:

- teams: one big team ("Scale Platform", most of the apps; the demo users admin/manager/dev/viewer
  are members with their demo roles, so a demo login sees all of its apps) and four small ones;
  generated users per team (developers, release managers, viewers) who cannot log in;
- per team a WeChat and a manual platform account; apps on both;
- per app its releases one after the other over the year, each with a story that ends in a
  plausible state: most older ones published (some after a rejection and its remediation, some
  cancelled, withdrawn, expired or rolled back); the newest one anywhere in the pipeline
  (draft, waiting for approval, in review, delayed, approved, rejected with open tasks...);
- for every step the audit event a real run writes (create, checklist_confirm, check, approve,
  submit, submit_succeeded, review_*, remediation_*, publish...), with the same actions, states
  and data shapes as releases.services and releases.remediation, and the rows behind them:
  check runs, approvals, checklist ticks, rejections (reasons from the simulator's catalogue,
  classified by reviews.rejections), remediation tasks (from the playbooks), review watches
  and quota snapshots.

The event total is exact: a release's story has a fixed number of events; what the target asks
beyond them are checklist confirmations (newest releases first, up to five per check, as if the
checklist arrived at some point of the year), then app setting changes if even that is not enough.

Fast: everything is generated in Python and written with PostgreSQL's COPY (plain INSERTs on
other databases) in one transaction. The audit trail stays a valid hash chain: events are
sorted by time, numbered after the current last id and signed with releases.audit.event_mac (the
audit key of SLUICE_AUDIT_KEYS), linked to the chain head, which is updated and signed at the end
(so `manage.py verify_audit` passes).
Ids are assigned explicitly and the sequences reset afterwards.

The modules: shape (sizes, weights, words, the audit actions), clock (microsecond instants),
world (teams, users, accounts, apps and the lookups stories share), stories (one release's steps
and the plan of all of them), rows (releases and what hangs off them), audit_chain (the events,
numbered and chained), tables (COPY, ids, deferred indexes, sequences), run (the transaction).
"""

from bench.scale.run import already_seeded, seed_scale, summary
from bench.scale.shape import (
    APPID_PREFIX,
    APPS,
    BIG_TEAM,
    EVENTS,
    RELEASES_PER_APP,
    Options,
    Result,
    ScaleError,
)

__all__ = [
    "APPID_PREFIX",
    "APPS",
    "BIG_TEAM",
    "EVENTS",
    "RELEASES_PER_APP",
    "Options",
    "Result",
    "ScaleError",
    "already_seeded",
    "seed_scale",
    "summary",
]
