"""Joints as TF frames: one geometry_msgs/TransformStamped per joint of each tracked skeleton.

Frame names: ``<prefix><track id>/<joint name>`` (e.g. ``a2j_hand_3/index_tip``), each a
child of the depth image's optical frame (the SkeletonArray's ``header.frame_id``), with the
joint's position as translation and no rotation (a joint has no orientation here). Joints
with a non-finite position (2D layouts without depth) are left out. The node publishes the
list on ``/tf`` as a tf2_msgs/TFMessage where tf2_msgs imports (every ROS 2 distro ships it;
the PyPI build used for this project's CI does not, so there the node warns once and
publishes no TF).
"""
import numpy as np

from a2j_ros.ros.messages import MM_TO_M, unchecked


def joint_frame_name(prefix, track_id, joint_name):
    """Return the TF child frame of one joint: ``<prefix><track id>/<joint name>``."""
    return f'{prefix}{int(track_id)}/{joint_name}'


def joint_transforms(results, header, layout, prefix='a2j_'):
    """Return a list of TransformStamped, one per finite joint of each result with a track id.

    ``results``: PoseResults (joints in mm, ``track_id`` set; untracked ones are skipped:
    a frame name must stay the same instance's); ``header``: the depth image's header.
    """
    from geometry_msgs.msg import Quaternion, Transform, TransformStamped, Vector3
    out = []
    names = layout.joint_names
    kw_v, kw_t = unchecked(Vector3), unchecked(TransformStamped)
    for result in results:
        track_id = getattr(result, 'track_id', None)
        if track_id is None:
            continue
        xyz = np.asarray(result.joints_xyz_mm, dtype=np.float64) * MM_TO_M
        for name, (x, y, z) in zip(names, xyz.tolist()):
            if not (np.isfinite(x) and np.isfinite(y) and np.isfinite(z)):
                continue
            out.append(TransformStamped(
                header=header, child_frame_id=joint_frame_name(prefix, track_id, name),
                transform=Transform(translation=Vector3(x=x, y=y, z=z, **kw_v),
                                    rotation=Quaternion(x=0.0, y=0.0, z=0.0, w=1.0)), **kw_t))
    return out


def tf_message_type():
    """Return tf2_msgs.msg.TFMessage, or None where tf2_msgs is not installed."""
    try:
        from tf2_msgs.msg import TFMessage
    except ImportError:
        return None
    return TFMessage


__all__ = ['joint_frame_name', 'joint_transforms', 'tf_message_type']
