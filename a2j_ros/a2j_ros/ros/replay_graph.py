"""The closed DDS graph of a live replay: its domain, discovery, and the pose node process.

A replay is its own graph: by default it takes a private ``ROS_DOMAIN_ID`` and keeps
discovery on this machine (``ROS_AUTOMATIC_DISCOVERY_RANGE=LOCALHOST``), for its own
processes only: the pose node child gets these in its environment, the player's rclpy
context reads them while it initialises; the user's environment is left as it was.
``discovery='environment'`` (with ``domain_id``) joins the user's graph instead.
"""
from contextlib import contextmanager
import math
import os
from pathlib import Path
import random
import signal
import subprocess
import sys

from a2j_ros.core.errors import InputError

MAX_DOMAIN_ID = 232         # the largest id the default RTPS port mapping allows
PRIVATE_DOMAINS = range(150, MAX_DOMAIN_ID + 1)
DISCOVERY_MODES = ('localhost', 'environment')


def check_live_options(rate=1.0, startup_timeout_s=180.0, domain_id=None,
                       discovery='localhost'):
    """Raise InputError for live replay options that cannot work."""
    if not (isinstance(rate, (int, float)) and math.isfinite(rate) and rate > 0):
        raise InputError(f'--rate must be a finite number > 0, got {rate}')
    if not (math.isfinite(startup_timeout_s) and startup_timeout_s > 0):
        raise InputError(f'--startup-timeout must be a finite number of seconds > 0, got '
                         f'{startup_timeout_s}')
    if domain_id is not None and not (0 <= int(domain_id) <= MAX_DOMAIN_ID):
        raise InputError(f'--domain-id must be between 0 and {MAX_DOMAIN_ID} (ROS 2 domain '
                         f'ids), got {domain_id}')
    if discovery not in DISCOVERY_MODES:
        raise InputError(f'--discovery must be one of {list(DISCOVERY_MODES)}, got '
                         f'{discovery!r}')


def choose_domain(domain_id=None, environ=None):
    """Return ``domain_id``, or a private one unlike the environment's ROS_DOMAIN_ID."""
    if domain_id is not None:
        return int(domain_id)
    environ = os.environ if environ is None else environ
    taken = (environ.get('ROS_DOMAIN_ID') or '').strip()
    choices = [d for d in PRIVATE_DOMAINS if str(d) != taken]
    return random.SystemRandom().choice(choices)


def graph_environment(domain_id, discovery='localhost', environ=None):
    """Return the variables (name -> value, None = unset) that make the replay's graph."""
    overrides = {'ROS_DOMAIN_ID': str(int(domain_id))}
    if discovery == 'localhost':
        overrides.update(ROS_AUTOMATIC_DISCOVERY_RANGE='LOCALHOST', ROS_STATIC_PEERS=None)
    return overrides


def child_environment(overrides, environ=None):
    """Return a copy of the environment with ``overrides`` applied (for a child process)."""
    env = dict(os.environ if environ is None else environ)
    for key, value in overrides.items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = value
    return env


@contextmanager
def scoped_environ(overrides):
    """Apply ``overrides`` to os.environ inside the block only (rcl reads them at init)."""
    saved = {key: os.environ.get(key) for key in overrides}
    try:
        for key, value in overrides.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


# The child ends itself when this process goes away (Linux: parent-death signal), so a
# replay killed hard leaves no pose node behind.
_CHILD_CODE = """import os, signal, sys
signal.signal(signal.SIGINT, signal.SIG_DFL)    # until rclpy sets its own: no traceback
try:
    import ctypes
    ctypes.CDLL(None).prctl(1, signal.SIGTERM)      # PR_SET_PDEATHSIG
except Exception:
    pass
if os.getppid() != {parent}:
    sys.exit(1)
from a2j_ros.ros.pose_node import main
sys.exit(main())
"""


class PoseNodeProcess:
    """The pose node in its own process (own session); stdout and stderr go to ``log_path``."""

    def __init__(self, args, env, log_path):
        self.log_path = Path(log_path)
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        self._log = open(self.log_path, 'w')
        code = _CHILD_CODE.format(parent=os.getpid())
        self.proc = subprocess.Popen([sys.executable, '-c', code] + list(args), env=env,
                                     stdout=self._log, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL, start_new_session=True)

    def alive(self):
        """Return True while the node process runs."""
        return self.proc.poll() is None

    def tail(self):
        """Return '; its log (PATH) ends with: LINE' (the last non-empty line), for errors."""
        try:
            lines = [line for line in self.log_path.read_text().splitlines() if line.strip()]
        except OSError:
            lines = []
        last = f' ends with: {lines[-1].strip()}' if lines else ' is empty'
        return f'; its log ({self.log_path}){last}'

    def stop(self, grace_s=5.0):
        """End the node as ``ros2 launch`` does: SIGINT, then SIGTERM, then SIGKILL."""
        steps = ((signal.SIGINT, grace_s), (signal.SIGTERM, 3.0), (signal.SIGKILL, 3.0))
        for sig, wait_s in steps:
            if not self.alive():
                break
            try:
                os.killpg(self.proc.pid, sig)
            except (ProcessLookupError, PermissionError):
                self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout=wait_s)
            except subprocess.TimeoutExpired:
                continue
        if not self._log.closed:
            self._log.close()


__all__ = ['DISCOVERY_MODES', 'MAX_DOMAIN_ID', 'PoseNodeProcess', 'check_live_options',
           'child_environment', 'choose_domain', 'graph_environment', 'scoped_environ']
