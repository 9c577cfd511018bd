"""The pose node's outputs: skeletons, markers, the debug image and /diagnostics.

Created on configure, destroyed on cleanup. ``publish_frame`` sends one frame's results
with the depth image's header (stamp and optical frame): the SkeletonArray always, the
MarkerArray when ``markers_enabled`` (one namespace and colour per track id; a track no
longer published has its markers deleted), the debug image when ``debug_image_enabled`` and
someone subscribes to it, ``skeletons_raw`` (unsmoothed) when ``skeletons_raw_enabled`` and
the joints on ``/tf`` when ``tf_enabled`` and tf2_msgs is installed (both read on
configure). Options are read from the settings given with each frame, so a runtime
parameter change applies to the next frame.
"""
from a2j_ros.ros.debug_image import debug_image_msg, render_debug_image
from a2j_ros.ros.markers import MarkerOptions, skeleton_markers
from a2j_ros.ros.messages import MM_TO_M, skeleton_array
from a2j_ros.ros.tf_frames import joint_transforms, tf_message_type


def marker_options(settings):
    """Return the MarkerOptions of NodeSettings."""
    return MarkerOptions(joint_scale=settings.marker_joint_scale,
                         bone_width=settings.marker_bone_width,
                         lifetime_s=settings.marker_lifetime_s,
                         joint_color=settings.marker_joint_color,
                         bone_color=settings.marker_bone_color)


class PoseOutputs:
    """Publishers of a configured pose node (lifecycle publishers: silent while inactive)."""

    def __init__(self, node):
        from diagnostic_msgs.msg import DiagnosticArray
        from sensor_msgs.msg import Image
        from visualization_msgs.msg import MarkerArray

        from a2j_ros_msgs.msg import SkeletonArray
        self.node = node
        self.skeletons = node.create_lifecycle_publisher(SkeletonArray, 'skeletons', 10)
        self.markers = node.create_lifecycle_publisher(MarkerArray, 'markers', 10)
        self.debug_image = node.create_lifecycle_publisher(Image, '~/debug_image', 2)
        self.diagnostics = node.create_publisher(DiagnosticArray, '/diagnostics', 10)
        settings = node.settings
        self.skeletons_raw = (node.create_lifecycle_publisher(SkeletonArray, 'skeletons_raw', 10)
                              if settings is not None and settings.skeletons_raw_enabled
                              else None)
        self.tf = None
        if settings is not None and settings.tf_enabled:
            tf_type = tf_message_type()
            if tf_type is None:
                node.get_logger().warning('tf_enabled: tf2_msgs is not installed, no joint '
                                          'frames are published on /tf')
            else:
                self.tf = node.create_lifecycle_publisher(tf_type, '/tf', 100)
                self._tf_type = tf_type
        self._marker_count = 0
        self._marker_ids = ()
        self._marker_reuse = {}         # markers built once, refilled each frame (markers.py)
        self._options_key = None
        self._options = None

    def _marker_options(self, settings):
        key = (settings.marker_joint_scale, settings.marker_bone_width,
               settings.marker_lifetime_s, settings.marker_joint_color,
               settings.marker_bone_color)
        if key != self._options_key:
            self._options_key, self._options = key, marker_options(settings)
            self._marker_reuse = {}
        return self._options

    def publish_frame(self, header, estimate, layout, settings, depth_mm=None, rois=()):
        """Publish one frame's skeletons, markers and (when enabled) debug image, raw, TF.

        ``estimate``: a core FrameEstimate or TrackedFrame (``results``; ``raw`` if tracked).
        """
        results = estimate.results
        self.skeletons.publish(skeleton_array(results, header, layout))
        if self.skeletons_raw is not None:
            self.skeletons_raw.publish(skeleton_array(getattr(estimate, 'raw', results),
                                                      header, layout))
        if self.tf is not None:
            transforms = joint_transforms(results, header, layout, settings.tf_prefix)
            if transforms:
                self.tf.publish(self._tf_type(transforms=transforms))
        if settings.markers_enabled:
            joints = [r.joints_xyz_mm * MM_TO_M for r in results]
            ids = [r.track_id for r in results]
            ids = None if any(i is None for i in ids) else ids
            self.markers.publish(skeleton_markers(
                joints, header, layout.bones, self._marker_options(settings),
                self._marker_count, self._marker_reuse, ids=ids,
                previous_ids=self._marker_ids))
            self._marker_count = len(joints)
            self._marker_ids = tuple(ids or ())
        if (settings.debug_image_enabled and depth_mm is not None
                and self.debug_image.get_subscription_count() > 0):
            rgb = render_debug_image(depth_mm, settings.depth_min_mm, settings.depth_max_mm,
                                     rois, results, layout.bones)
            self.debug_image.publish(debug_image_msg(rgb, header))

    def destroy(self):
        """Remove the publishers from the node."""
        for pub in (self.skeletons, self.markers, self.debug_image, self.skeletons_raw,
                    self.tf):
            if pub is not None:
                self.node.destroy_lifecycle_publisher(pub)
        self.node.destroy_publisher(self.diagnostics)


__all__ = ['PoseOutputs', 'marker_options']
