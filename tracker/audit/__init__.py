"""Evidence an auditor can trust: the hash chain, checkpoints, bundles, retention, erasure.

The pure parts (``canonical``, ``chain``, ``checkpoint``, ``bundle``) need no database;
``ledger`` ties them to the store.
"""

from tracker.audit.chain import GENESIS, ChainRecord, Report, Verifier, verify
from tracker.audit.checkpoint import Checkpoint, CheckpointError

__all__ = [
    "GENESIS",
    "ChainRecord",
    "Checkpoint",
    "CheckpointError",
    "Report",
    "Verifier",
    "verify",
]
