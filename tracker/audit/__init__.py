"""Evidence an auditor can trust: checkpoints, verification, bundles, retention, erasure.

The chain's rules are in ``tracker.chain`` (no database) and its storage in
``tracker.store.chain`` and ``tracker.store.sealer``; this package builds the operations on
them. ``bundle`` and ``readable`` need no database either.
"""

from tracker.chain.checkpoint import Checkpoint, CheckpointError
from tracker.chain.records import GENESIS, ChainRecord, Report, Verifier, verify

__all__ = [
    "GENESIS",
    "ChainRecord",
    "Checkpoint",
    "CheckpointError",
    "Report",
    "Verifier",
    "verify",
]
