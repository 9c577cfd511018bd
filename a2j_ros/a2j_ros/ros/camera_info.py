"""sensor_msgs/CameraInfo -> core.camera.PinholeCamera, and the latest-info cache of the node."""
import threading

from a2j_ros.core.camera import PinholeCamera
from a2j_ros.core.errors import InputError


def camera_from_info(msg):
    """Return the PinholeCamera of a CameraInfo (K and the image size).

    Depth images are expected rectified (``image_rect_raw``): distortion coefficients are
    not applied. A K of zeros (an uncalibrated camera) raises InputError.
    """
    return PinholeCamera.from_camera_info(list(msg.k), int(msg.width), int(msg.height))


class CameraInfoCache:
    """Keep the newest CameraInfo as a PinholeCamera; thread-safe.

    ``update`` is the subscription callback; ``camera_for(width, height)`` returns the
    camera for an image of that size, or raises InputError when no (usable) info has been
    received yet or it describes another image size.
    """

    def __init__(self):
        self._lock = threading.Lock()
        self._camera = None
        self._frame_id = ''
        self._error = None
        self.received = 0

    def update(self, msg):
        """Store ``msg`` (a CameraInfo); a bad K is remembered and reported by ``camera_for``."""
        try:
            camera, error = camera_from_info(msg), None
        except InputError as exc:
            camera, error = None, f'camera_info from {msg.header.frame_id!r} is unusable: {exc}'
        with self._lock:
            self._camera, self._error = camera, error
            self._frame_id = msg.header.frame_id
            self.received += 1

    @property
    def camera(self):
        """Return the newest usable PinholeCamera, or None."""
        with self._lock:
            return self._camera

    def camera_for(self, width, height):
        """Return the camera for a width x height depth image; raise InputError if none fits."""
        with self._lock:
            camera, error = self._camera, self._error
        if error:
            raise InputError(error)
        if camera is None:
            raise InputError('no camera_info received yet on depth/camera_info')
        if camera.width and camera.height and (camera.width, camera.height) != (width, height):
            raise InputError(f'camera_info is for {camera.width}x{camera.height} images but the '
                             f'depth image is {width}x{height}')
        return camera


__all__ = ['CameraInfoCache', 'camera_from_info']
