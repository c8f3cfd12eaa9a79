"""Evidence an auditor can trust: checkpoints, verification, export, evidence bundles,
retention, erasure and forced re-acceptance. Each operation is one function over a ``Store``.

The chain's rules are in ``tracker.chain`` (no database) and its storage in
``tracker.store.chain`` and ``tracker.store.sealer``; the modules here build on both, one
concern each. ``bundle`` and ``readable`` (the evidence bundle's format) need no database.
"""

from tracker.audit.checkpoints import checkpoint, seal, settle, trusted_key
from tracker.audit.erasure import erase
from tracker.audit.evidence import evidence
from tracker.audit.export import (
    EXPORT_FIELDS,
    export_count,
    export_filters,
    export_lines,
    export_rows,
)
from tracker.audit.reacceptance import reacceptance
from tracker.audit.retention import PurgeResult, purge
from tracker.audit.verification import verify

__all__ = [
    "EXPORT_FIELDS",
    "PurgeResult",
    "checkpoint",
    "erase",
    "evidence",
    "export_count",
    "export_filters",
    "export_lines",
    "export_rows",
    "purge",
    "reacceptance",
    "seal",
    "settle",
    "trusted_key",
    "verify",
]
