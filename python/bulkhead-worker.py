"""Starts one bulkhead worker: pytest exactly as its console script would, plus our plugin.

Run as a script so that sys.path[0] is this folder (which holds only bulkhead_pytest), as the
``pytest`` command would have its own bin folder there, and the user's cwd is not added to
sys.path the way ``python -m pytest`` would add it.
"""
import sys

if __name__ == "__main__":
    import pytest

    # pytest names itself after argv[0] in usage errors: say "pytest", as the user's own would.
    sys.argv[0] = "pytest"
    sys.exit(pytest.console_main())
