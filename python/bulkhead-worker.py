"""Starts one bulkhead worker: pytest exactly as its console script would, plus our plugin.

Run as a script so that sys.path[0] is this folder (which holds only bulkhead_pytest), as the
``pytest`` command would have its own bin folder there, and the user's cwd is not added to
sys.path the way ``python -m pytest`` would add it.
"""
import sys

if __name__ == "__main__":
    import os

    # The variables' names (stdlib only: nothing else of the plugin is imported this early).
    from bulkhead_pytest import environment

    # First of all, before a conftest import can take minutes: the kernel kills this worker if
    # bulkhead dies, whatever the worker is doing then (stopped, stuck in C holding the GIL).
    if os.environ.get(environment.CHANNEL_FD):
        from bulkhead_pytest.processes import die_with_supervisor

        supervisor = os.environ.get(environment.SUPERVISOR_PID, "")
        die_with_supervisor(int(supervisor) if supervisor.isdigit() else None)

        # Registered first, so it runs last: after every exit handler of pytest, its plugins and the
        # tests (coverage's save, logging's flush, weakref.finalize). It leaves the heap to the
        # kernel instead of collecting its cycles again while the interpreter shuts down: 0.4 s
        # with 3,000 tests collected, in every worker, holding up the end of the run. Module
        # globals are still cleared (their files flushed); only finalizers of objects in cycles
        # still alive at exit do not run, which Python does not promise either.
        import atexit
        import gc

        atexit.register(gc.freeze)

    crash_file = os.environ.get(environment.CRASH_FILE)
    if crash_file:
        # As early as possible: a segfault while importing a conftest leaves its stack here.
        import faulthandler

        _crash_dump = open(crash_file, "w", buffering=1)
        faulthandler.enable(file=_crash_dump, all_threads=True)
        import signal

        # The supervisor asks for the stacks (SIGUSR1) before killing a worker stuck at startup.
        faulthandler.register(signal.SIGUSR1, file=_crash_dump, all_threads=True, chain=False)

    # The last rung of the memory ladder, where no cgroup can cap a worker: a data-segment limit
    # (never RLIMIT_AS, which breaks numpy/BLAS imports that reserve address space), set before
    # anything else is imported.
    data_limit = os.environ.get(environment.RLIMIT_DATA)
    if data_limit:
        import resource

        limit = int(data_limit)
        resource.setrlimit(resource.RLIMIT_DATA, (limit, limit))

    # multiprocessing's start method, chosen by bulkhead (fork is unsafe once threads run, and our
    # heartbeat and command threads always do). Set before pytest or any conftest is imported, so
    # that nothing can have picked a start method (or started a forkserver) before us.
    start_method = os.environ.get(environment.MP_START_METHOD)
    if start_method:
        if start_method not in ("fork", "spawn", "forkserver"):
            sys.exit(f"bulkhead: {environment.MP_START_METHOD}={start_method!r} is not one of fork, spawn, forkserver")
        import multiprocessing

        multiprocessing.set_start_method(start_method, force=True)

    try:
        import pytest
    except Exception as exc:
        # bulkhead's probe found pytest installed without importing it (that takes a quarter of a
        # second before any worker could start); an installation that does not import is said
        # here, as pytest says a usage error: exit 4, one line that starts with ERROR.
        sys.stderr.write(
            f"ERROR: pytest is not importable by '{sys.executable}' ({type(exc).__name__}: {exc}); "
            f"reinstall it with '{sys.executable} -m pip install -U pytest'\n"
        )
        sys.exit(4)

    # pytest names itself after argv[0] in usage errors: say "pytest", as the user's own would.
    sys.argv[0] = "pytest"
    sys.exit(pytest.console_main())
