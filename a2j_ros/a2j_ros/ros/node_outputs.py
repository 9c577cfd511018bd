"""The pose node's outputs: skeletons, markers, the debug image and /diagnostics.

Created on configure, destroyed on cleanup. ``publish_frame`` sends one frame's results
with the depth image's header (stamp and optical frame): the SkeletonArray always, the
MarkerArray when ``markers_enabled``, the debug image when ``debug_image_enabled`` and
someone subscribes to it. Options are read from the settings given with each frame, so a
runtime parameter change applies to the next frame.
"""
from a2j_ros.ros.debug_image import debug_image_msg, render_debug_image
from a2j_ros.ros.markers import MarkerOptions, skeleton_markers
from a2j_ros.ros.messages import MM_TO_M, skeleton_array


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
        self._marker_count = 0
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
        """Publish one frame's skeletons, markers and (when enabled) debug image."""
        self.skeletons.publish(skeleton_array(estimate.results, header, layout))
        if settings.markers_enabled:
            joints = [r.joints_xyz_mm * MM_TO_M for r in estimate.results]
            self.markers.publish(skeleton_markers(
                joints, header, layout.bones, self._marker_options(settings),
                self._marker_count, self._marker_reuse))
            self._marker_count = len(joints)
        if (settings.debug_image_enabled and depth_mm is not None
                and self.debug_image.get_subscription_count() > 0):
            rgb = render_debug_image(depth_mm, settings.depth_min_mm, settings.depth_max_mm,
                                     rois, estimate.results, layout.bones)
            self.debug_image.publish(debug_image_msg(rgb, header))

    def destroy(self):
        """Remove the publishers from the node."""
        for pub in (self.skeletons, self.markers, self.debug_image):
            self.node.destroy_lifecycle_publisher(pub)
        self.node.destroy_publisher(self.diagnostics)


__all__ = ['PoseOutputs', 'marker_options']
