"""The pytest side of bulkhead: a plugin that turns a pytest process into a supervised worker.

It is shipped inside the bulkhead npm package and loaded with ``-p bulkhead_pytest.plugin``; it
does nothing unless bulkhead started the process (``BULKHEAD_CHANNEL_FD`` is set).
"""

PROTOCOL_VERSION = 1
