"""Combines and reports a run's coverage (bulkhead_pytest/coverage_combine.py).

Run as a script, as bulkhead-worker.py is, so that sys.path[0] is this folder (which holds only
bulkhead_pytest) and the user's cwd is not put on sys.path.
"""
import sys

if __name__ == "__main__":
    from bulkhead_pytest.coverage_combine import main

    sys.exit(main(sys.argv))
