"""Sub-commands of the ``a2j`` command line; each module has add_arguments() and run()."""
from contextlib import contextmanager
import signal


@contextmanager
def sigterm_as_exit(code=143):
    """Turn SIGTERM into SystemExit(``code``) inside the block, so cleanups run as on SIGINT.

    ``with`` blocks and ``finally`` clauses (partial bags removed, child processes stopped)
    run for SIGTERM as they do for Ctrl-C. Outside the main thread this does nothing.
    """
    def handler(_signum, _frame):
        raise SystemExit(code)
    try:
        previous = signal.signal(signal.SIGTERM, handler)
    except ValueError:          # not the main thread
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)
