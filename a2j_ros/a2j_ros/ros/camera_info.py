"""sensor_msgs/CameraInfo -> core.camera.PinholeCamera, and the latest-info cache of the node."""
import threading

from a2j_ros.core.camera import PinholeCamera
from a2j_ros.core.errors import InputError


def intrinsics(msg):
    """Return ``(k9, source)``: the 3x3 matrix (row-major) to use and 'P' or 'K'.

    P's left 3x3 is the camera matrix of the rectified image (REP 104); it is used when P is
    non-zero, K (the raw image's) otherwise.
    """
    p = [float(v) for v in msg.p]
    if len(p) == 12 and any(p[:3] + p[4:7]):
        return [p[0], p[1], p[2], p[4], p[5], p[6], p[8], p[9], p[10]], 'P'
    return [float(v) for v in msg.k], 'K'


def camera_from_info(msg):
    """Return the PinholeCamera of a CameraInfo (P when non-zero, else K; the image size).

    Depth images are expected rectified (``image_rect_raw``): distortion coefficients are
    not applied. A zero matrix (an uncalibrated camera) raises InputError.
    """
    matrix, _source = intrinsics(msg)
    return PinholeCamera.from_camera_info(matrix, int(msg.width), int(msg.height))


def has_distortion(msg):
    """Return True if the CameraInfo has a non-zero distortion coefficient."""
    return any(float(v) != 0.0 for v in msg.d)


class CameraInfoCache:
    """Keep the newest CameraInfo as a PinholeCamera; thread-safe.

    ``update`` is the subscription callback; ``camera_for(width, height)`` returns the
    camera for an image of that size, or raises InputError when no (usable) info has been
    received yet or it describes another image size.
    """

    def __init__(self, warn=None):
        self._warn = warn               # called once with a line for non-zero distortion
        self._warned = False
        self._lock = threading.Lock()
        self._camera = None
        self._error = None
        self.received = 0

    def update(self, msg):
        """Store ``msg`` (a CameraInfo); a bad K is remembered and reported by ``camera_for``."""
        try:
            camera, error = camera_from_info(msg), None
        except InputError as exc:
            camera, error = None, f'camera_info from {msg.header.frame_id!r} is unusable: {exc}'
        if self._warn is not None and not self._warned and has_distortion(msg):
            self._warned = True
            self._warn(f'camera_info of {msg.header.frame_id!r} has non-zero distortion D = '
                       f'{[round(float(v), 4) for v in msg.d]}: the node does not undistort; '
                       'subscribe it to a rectified depth image (image_rect_raw) whose P it '
                       f'then uses ({intrinsics(msg)[1]} is used here)')
        with self._lock:
            self._camera, self._error = camera, error
            self.received += 1

    def camera_for(self, width, height):
        """Return the camera for a width x height depth image; raise InputError if none fits."""
        with self._lock:
            camera, error = self._camera, self._error
        if error:
            raise InputError(error)
        if camera is None:
            raise InputError('no camera_info received yet on depth/camera_info')
        camera.check_image_size(width, height, name='camera_info')
        return camera


__all__ = ['CameraInfoCache', 'camera_from_info', 'has_distortion', 'intrinsics']
