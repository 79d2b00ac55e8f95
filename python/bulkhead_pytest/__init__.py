"""The pytest side of bulkhead: a plugin that turns a pytest process into a supervised worker.

It is shipped inside the bulkhead npm package and loaded with ``-p bulkhead_pytest.plugin``; it
does nothing unless bulkhead started the process (``BULKHEAD_CHANNEL_FD`` is set).

``lock`` is the run-wide lock for critical sections (the ``bulkhead_lock`` fixture returns it),
importable from conftest files and helpers; outside a bulkhead worker it does nothing.
"""

from .locks import BulkheadLockWarning, LockError, lock
from .protocol import PROTOCOL_VERSION

__all__ = ["PROTOCOL_VERSION", "BulkheadLockWarning", "LockError", "lock"]
