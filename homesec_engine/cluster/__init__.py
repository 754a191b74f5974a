"""Cluster mode: several engines, one PostgreSQL, one object store (off by default).

settings.py   the `cluster` config section checked against the rest (PostgreSQL, offsite)
spread.py     the spread rule: each engine's share of the cameras by declared capacity
store.py      engines and camera leases in PostgreSQL (heartbeat, expiry, fencing token)
fence.py      the fencing token checked on every new clip row, in the write's transaction
shared_copies.py clips and snapshots fetched from the object store, for any engine to serve
shared_removal.py deleted clips' objects removed from the object store (retention, DELETE)
coordinator.py one engine's loop: renew, compare versions, take or give up cameras, and stop
              recording a camera before its lease can run out when the database is gone
"""

from .coordinator import ClusterCoordinator
from .settings import ClusterConfigError, ClusterSettings, cluster_settings

__all__ = ["ClusterConfigError", "ClusterCoordinator", "ClusterSettings", "cluster_settings"]
