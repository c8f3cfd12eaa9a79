"""The audit chain's rules, without a database: canonical bytes, records, checkpoints.

``canonical`` encodes a record and commits to its personal fields, ``records`` links and
verifies a stream of records, ``checkpoint`` signs and reads checkpoints, and ``events``
turns an event row's values into its chain record. The store keeps the chain
(``tracker.store.chain``, ``tracker.store.sealer``); ``tracker.audit`` builds on both.
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
