"""Plain records for one depth frame of a bag and its ground truth (no ROS types)."""
from dataclasses import dataclass
from typing import Optional

import numpy as np


@dataclass
class GroundTruth:
    """Ground-truth skeletons of one frame: M instances of one layout, millimetres."""

    layout: str
    xyz_mm: np.ndarray                  # (M, K, 3) camera optical frame
    uvd: np.ndarray                     # (M, K, 3) u, v pixels and depth in mm
    # (M,) ground-truth track id of each instance (Skeleton.id of the ground-truth topic):
    # the same physical hand/body keeps its id across frames. None = the index in the frame.
    track_ids: Optional[np.ndarray] = None


@dataclass
class BagFrame:
    """One depth image with what was recorded for it."""

    index: int                          # 0-based position among the bag's depth frames
    stamp_ns: int                       # header stamp of the depth image
    frame_id: str
    depth_mm: np.ndarray                # (H, W) float32, 0 = invalid
    camera: object                      # core.camera.PinholeCamera
    encoding: str
    rois: Optional[np.ndarray] = None   # (M, 4) int x, y, width, height; None = no ROI topic
    roi_scores: Optional[np.ndarray] = None  # (M,)
    ground_truth: Optional[GroundTruth] = None
    log_time_ns: int = 0                # when the bag recorded the depth message
    occurrence: int = 0                 # earlier depth frames of the bag with the same stamp
    skip_kind: str = ''                 # why the frame cannot be estimated ('' = it can):
    skip_reason: str = ''               # corrupt, bad_image, no_camera_info, bad_camera_info,
    #                                     camera_mismatch; skip_reason says it in words

    @property
    def skipped(self):
        """Return True when the frame cannot be estimated (``skip_reason`` says why)."""
        return bool(self.skip_kind)


def roi_array(rois):
    """Return ``rois`` as an (M, 4) int array of x, y, width, height (M may be 0)."""
    arr = np.asarray([] if rois is None else rois, dtype=np.float64).reshape(-1, 4)
    return np.rint(arr).astype(np.int64)


# Frames never published in live replay: the pose node could not read them either.
UNPLAYABLE = ('corrupt', 'bad_image')


__all__ = ['BagFrame', 'GroundTruth', 'UNPLAYABLE', 'roi_array']
