"""Atomic file writes: a crash leaves the old file or the new one, never half of one."""
from contextlib import contextmanager
import os
from pathlib import Path
import tempfile


def _umask():
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


@contextmanager
def atomic_write(path):
    """Yield a binary file object; on success it replaces ``path`` (fsync, then os.replace).

    The temporary file lives in the target folder (same file system, so the rename is atomic)
    and gets the usual permissions (mkstemp would make it 0600). On any error it is removed
    and ``path`` is untouched.
    """
    path = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f'.{path.name}.', suffix='.tmp', dir=path.parent)
    try:
        os.chmod(tmp, 0o666 & ~_umask())
        with os.fdopen(fd, 'wb') as stream:
            yield stream
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    _fsync_dir(path.parent)


def _fsync_dir(folder):
    """Make a rename in ``folder`` durable (POSIX); silently impossible elsewhere."""
    try:
        dir_fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(dir_fd)
    except OSError:
        pass
    finally:
        os.close(dir_fd)
