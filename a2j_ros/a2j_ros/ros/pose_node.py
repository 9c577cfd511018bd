"""The A2J pose node: depth image (+ camera_info, + ROIs) in, skeletons and markers out.

A managed (lifecycle) node that configures and activates itself unless ``autostart`` is
false. configure: load the checkpoint, create the publishers and the camera_info cache;
activate: subscribe to the depth image (and the ROIs) and start the inference worker;
deactivate / cleanup undo that. Topics (relative, remap them):

* in: ``depth/image`` (sensor_msgs/Image 16UC1 mm or 32FC1 m), ``depth/camera_info``
  (latest kept), ``rois`` (roi_source topic: a2j_ros_msgs/RegionOfInterestArray or
  vision_msgs/Detection2DArray, paired with the depth by approximate time)
* out: ``skeletons`` (a2j_ros_msgs/SkeletonArray, the depth header, metres),
  ``markers`` (visualization_msgs/MarkerArray), ``/diagnostics``

One frame in flight: a worker thread runs the newest frame; frames that arrive while it is
busy replace the waiting one and are counted as dropped. Bad input (encoding, step, no
camera_info, bad ROIs) is a throttled warning and a diagnostics counter, never a crash.
See docs/node.md.
"""
import os
import time

import rclpy
from rclpy.lifecycle import LifecycleNode, TransitionCallbackReturn

from a2j_ros.core.errors import A2JError, InputError
from a2j_ros.core.roi_search import find_rois, RoiSearch
from a2j_ros.ros.camera_info import CameraInfoCache
from a2j_ros.ros.diagnostics import diagnostic_array, NodeStats
from a2j_ros.ros.image_conversion import image_to_depth_mm
from a2j_ros.ros.latest_frame import LatestFrameWorker
from a2j_ros.ros.markers import MarkerOptions, skeleton_markers
from a2j_ros.ros.messages import MM_TO_M, rois_from_a2j, rois_from_detection2d, skeleton_array
from a2j_ros.ros.node_params import declare_parameters, read_settings, subscription_qos
from a2j_ros.ros.sync import DepthRoiSubscriber

NODE_NAME = 'pose_node'


def build_pipeline(settings):
    """Return the PosePipeline described by the node settings (loads the checkpoint)."""
    from a2j_ros.core.pipeline import PosePipeline
    if not settings.checkpoint:
        raise InputError('parameter checkpoint is empty: give an a2j_ros checkpoint (.pt)')
    pipeline = PosePipeline.from_checkpoint(
        settings.checkpoint, device=settings.device, backend=settings.backend,
        input_scale=settings.body_input_scale,
        centre_depth_offset_mm=settings.centre_depth_offset_mm,
        min_depth_mm=settings.depth_min_mm, max_depth_mm=settings.depth_max_mm)
    if settings.mode and settings.mode != pipeline.mode:
        raise InputError(f'parameter mode is {settings.mode!r} but checkpoint '
                         f'{settings.checkpoint} is a {pipeline.mode} model')
    pipeline.warm_up()
    return pipeline


class PoseNode(LifecycleNode):
    """A2J 3D hand or body pose from depth images (see the module docstring)."""

    def __init__(self, node_name=NODE_NAME, **kwargs):
        super().__init__(node_name, **kwargs)
        declare_parameters(self)
        self.stats = NodeStats()
        self.settings = None
        self.pipeline = None
        self.cameras = CameraInfoCache()
        self.configure_error = ''
        self._worker = None
        self._inputs = []           # subscriptions (or a DepthRoiSubscriber) while active
        self._outputs = []          # publishers, timers, camera_info sub while configured
        self._last_log = {}
        self._previous_snapshot = None
        self._marker_count = 0
        self.sync_implementation = ''
        self.last_stages_ms = {}
        self._marker_options = None
        self._marker_reuse = {}     # markers built once, refilled each frame (markers.py)
        self._roi_search = None
        if self.get_parameter('autostart').value:
            if self.trigger_configure() == TransitionCallbackReturn.SUCCESS:
                self.trigger_activate()

    # -- lifecycle ---------------------------------------------------------------------
    def on_configure(self, state):
        """Read the parameters, load the model, create publishers and the camera_info cache."""
        try:
            self.settings = read_settings(self)
            self.pipeline = build_pipeline(self.settings)
        except A2JError as exc:
            self.configure_error = str(exc)
            self.get_logger().error(f'cannot configure: {exc}')
            self.settings = self.pipeline = None
            return TransitionCallbackReturn.FAILURE
        from diagnostic_msgs.msg import DiagnosticArray
        from sensor_msgs.msg import CameraInfo
        from visualization_msgs.msg import MarkerArray

        from a2j_ros_msgs.msg import SkeletonArray
        s = self.settings
        self.configure_error = ''
        self.cameras = CameraInfoCache()
        # built once: the per-frame path only fills in the frame's data
        self._marker_reuse = {}
        self._marker_options = MarkerOptions(
            joint_scale=s.marker_joint_scale, bone_width=s.marker_bone_width,
            lifetime_s=s.marker_lifetime_s, joint_color=s.marker_joint_color,
            bone_color=s.marker_bone_color)
        self._roi_search = RoiSearch(
            min_depth_mm=s.depth_min_mm, max_depth_mm=s.depth_max_mm,
            hand_band_mm=s.hand_band_mm, min_pixels=s.min_blob_pixels,
            max_instances=s.max_instances, hand_radius_mm=s.hand_radius_mm,
            reject_planes=s.reject_planes)
        self.skeleton_pub = self.create_lifecycle_publisher(SkeletonArray, 'skeletons', 10)
        self.marker_pub = self.create_lifecycle_publisher(MarkerArray, 'markers', 10)
        self.diagnostics_pub = self.create_publisher(DiagnosticArray, '/diagnostics', 10)
        info_sub = self.create_subscription(
            CameraInfo, 'depth/camera_info', self.cameras.update,
            subscription_qos(s.camera_info_qos_reliability, 1))
        timer = self.create_timer(s.diagnostics_period_s, self._publish_diagnostics)
        self._outputs = [('pub', self.skeleton_pub), ('pub', self.marker_pub),
                         ('pub', self.diagnostics_pub), ('sub', info_sub), ('timer', timer)]
        self.get_logger().info(
            f'configured: {self.pipeline.mode} model {s.checkpoint} '
            f'({self.pipeline.layout.name}, input {self.pipeline.crop_config.input_size}) on '
            f'{self.pipeline.device}, backend {s.backend}, roi_source {s.roi_source}')
        self._transport_hint()
        return TransitionCallbackReturn.SUCCESS

    def on_activate(self, state):
        """Subscribe to the inputs and start the inference worker."""
        from sensor_msgs.msg import Image
        s = self.settings
        self._worker = LatestFrameWorker(self._process, on_drop=self.stats.frame_dropped,
                                         on_error=self._worker_error)
        self._worker.start()
        depth_qos = subscription_qos(s.depth_qos_reliability, s.depth_qos_depth)
        if s.roi_source == 'topic':
            roi_type = self._roi_type()
            self._inputs = [DepthRoiSubscriber(
                self, Image, 'depth/image', depth_qos, roi_type, 'rois',
                subscription_qos(s.roi_qos_reliability, s.sync_queue_size),
                s.sync_queue_size, s.sync_slop_s, self._on_depth_and_rois,
                use_message_filters=s.use_message_filters)]
            self.sync_implementation = self._inputs[0].implementation
        else:
            self._inputs = [self.create_subscription(Image, 'depth/image', self._on_depth,
                                                     depth_qos)]
            self.sync_implementation = 'none'
        self.get_logger().info(f'active: listening on {self.resolve_topic_name("depth/image")}'
                               + (f' + {self.resolve_topic_name("rois")} (sync: '
                                  f'{self.sync_implementation})' if s.roi_source == 'topic'
                                  else ''))
        return super().on_activate(state)

    def on_deactivate(self, state):
        """Stop listening and stop the worker (the frame in progress finishes)."""
        self._stop_inputs()
        return super().on_deactivate(state)

    def on_cleanup(self, state):
        """Free the model, publishers and subscriptions."""
        self._stop_inputs()
        self._destroy_outputs()
        self.pipeline = None
        return TransitionCallbackReturn.SUCCESS

    def on_shutdown(self, state):
        """Free everything (from any state)."""
        return self.on_cleanup(state)

    def destroy_node(self):
        """Stop the worker before the node goes away."""
        self._stop_inputs()
        return super().destroy_node()

    def _stop_inputs(self):
        for entity in self._inputs:
            if isinstance(entity, DepthRoiSubscriber):
                entity.destroy()
            else:
                self.destroy_subscription(entity)
        self._inputs = []
        if self._worker is not None:
            self._worker.stop()
            self._worker = None

    def _destroy_outputs(self):
        for kind, entity in self._outputs:
            if kind == 'pub' and entity in (getattr(self, 'skeleton_pub', None),
                                            getattr(self, 'marker_pub', None)):
                self.destroy_lifecycle_publisher(entity)
            elif kind == 'pub':
                self.destroy_publisher(entity)
            elif kind == 'sub':
                self.destroy_subscription(entity)
            else:
                self.destroy_timer(entity)
        self._outputs = []

    def _roi_type(self):
        if self.settings.roi_msg_type == 'vision_msgs':
            from vision_msgs.msg import Detection2DArray
            return Detection2DArray
        from a2j_ros_msgs.msg import RegionOfInterestArray
        return RegionOfInterestArray

    def _transport_hint(self):
        if (self.settings.depth_qos_reliability == 'best_effort'
                and 'fastrtps' in os.environ.get('RMW_IMPLEMENTATION', 'rmw_fastrtps_cpp')
                and not os.environ.get('FASTDDS_BUILTIN_TRANSPORTS')):
            self.get_logger().info(
                'FASTDDS_BUILTIN_TRANSPORTS is not set: best-effort VGA depth images between '
                'processes may be lost; the launch files set it to LARGE_DATA (docs/node.md)')

    # -- callbacks -----------------------------------------------------------------------
    def _on_depth(self, msg):
        self.stats.frame_received()
        worker = self._worker
        if worker is not None:
            worker.submit((msg, None))

    def _on_depth_and_rois(self, depth_msg, roi_msg):
        self.stats.frame_received()
        worker = self._worker
        if worker is not None:
            worker.submit((depth_msg, roi_msg))

    def _warn(self, kind, message):
        """Count an error and log it, at most once per log_throttle_s for each kind."""
        self.stats.error(kind, message)
        now = time.monotonic()
        period = self.settings.log_throttle_s if self.settings else 5.0
        if now - self._last_log.get(kind, -1e9) >= period:
            self._last_log[kind] = now
            self.get_logger().warning(f'{kind}: {message}')

    def _worker_error(self, exc):
        self._warn('inference_failed', f'{type(exc).__name__}: {exc}')

    def _rois(self, depth, camera, roi_msg):
        """Return (rois, scores) for a frame, at most max_instances of them."""
        s = self.settings
        if roi_msg is None:
            return find_rois(depth, s.roi_source, self.pipeline.mode, self._roi_search, camera)
        reader = rois_from_a2j if s.roi_msg_type == 'a2j' else rois_from_detection2d
        rois, scores = reader(roi_msg)
        if len(rois) > s.max_instances:
            keep = sorted(range(len(rois)), key=lambda i: -scores[i])[:s.max_instances]
            rois, scores = rois[keep], scores[keep]
        return rois, scores

    def _process(self, item):
        """Run one frame through the pipeline and publish its skeletons and markers."""
        depth_msg, roi_msg = item
        pipeline, s = self.pipeline, self.settings
        if pipeline is None:
            return
        start = time.perf_counter()
        try:
            depth = image_to_depth_mm(depth_msg)
        except InputError as exc:
            self._warn('bad_image', str(exc))
            return
        converted = time.perf_counter()
        try:
            camera = self.cameras.camera_for(depth.shape[1], depth.shape[0])
        except InputError as exc:
            self._warn('no_camera_info', str(exc))
            return
        try:
            rois, scores = self._rois(depth, camera, roi_msg)
        except InputError as exc:
            self._warn('bad_rois', str(exc))
            return
        if roi_msg is not None and len(rois) == 0:
            self._warn('bad_rois', 'empty ROI list: nothing to estimate in this frame')
        found = time.perf_counter()
        try:
            estimate = pipeline.estimate_frame(depth, camera, rois, scores)
        except InputError as exc:
            self._warn('bad_image', str(exc))
            return
        for rejected in estimate.rejected:
            self._warn('rejected_rois', f'ROI {rejected.index} {rejected.roi}: {rejected.reason}')
        estimated = time.perf_counter()
        header = depth_msg.header
        if s.frame_id:
            header.frame_id = s.frame_id
        self.skeleton_pub.publish(skeleton_array(estimate.results, header, pipeline.layout))
        if s.markers_enabled:
            joints = [r.joints_xyz_mm * MM_TO_M for r in estimate.results]
            self.marker_pub.publish(skeleton_markers(
                joints, header, pipeline.layout.bones, self._marker_options, self._marker_count,
                self._marker_reuse))
            self._marker_count = len(joints)
        published = time.perf_counter()
        stages = dict(estimate.timings_ms)
        stages.pop('total', None)
        stages.update(convert=(converted - start) * 1e3, roi=(found - converted) * 1e3,
                      publish=(published - estimated) * 1e3)
        stamp_ns = int(header.stamp.sec) * 10**9 + int(header.stamp.nanosec)
        now_ns = self.get_clock().now().nanoseconds
        latency = (now_ns - stamp_ns) / 1e9 if now_ns > 0 and stamp_ns > 0 else 0.0
        processing_ms = (published - start) * 1e3
        self.stats.frame_done(latency, processing_ms, dict(stages, total=processing_ms))
        end = time.perf_counter()
        # bench_node and tests read these; 'stats' = latency and diagnostics bookkeeping
        stages['stats'] = (end - published) * 1e3
        stages['total'] = (end - start) * 1e3
        stages['other'] = max(stages['total'] - sum(v for k, v in stages.items()
                                                    if k != 'total'), 0.0)
        self.last_stages_ms = stages

    def _publish_diagnostics(self):
        snap = self.stats.snapshot()
        s = self.settings
        extra = {'device': str(self.pipeline.device) if self.pipeline else 'n/a',
                 'backend': s.backend if s else 'n/a', 'mode': self.pipeline.mode
                 if self.pipeline else 'n/a', 'roi_source': s.roi_source if s else 'n/a',
                 'sync': self.sync_implementation or 'n/a',
                 'checkpoint': s.checkpoint if s else 'n/a'}
        msg = diagnostic_array(snap, f'{self.get_name()}: pose estimation',
                               extra['device'], self.get_clock().now().to_msg(), extra,
                               self._previous_snapshot)
        self._previous_snapshot = snap
        self.diagnostics_pub.publish(msg)

    def wait_idle(self, timeout_s=10.0):
        """Block until the worker has no frame waiting or in progress (tests, benchmarks)."""
        deadline = time.monotonic() + timeout_s
        while self._worker is not None and not self._worker.idle():
            if time.monotonic() > deadline:
                return False
            time.sleep(0.002)
        return True


def main(args=None):
    """Run the pose node until Ctrl-C; return 1 if it could not configure itself."""
    from rclpy.executors import ExternalShutdownException
    rclpy.init(args=args)
    node = PoseNode()
    code = 0
    try:
        if node.configure_error and node.get_parameter('autostart').value:
            code = 1
        else:
            rclpy.spin(node)
    except (KeyboardInterrupt, ExternalShutdownException):
        pass
    finally:
        node.destroy_node()
        rclpy.try_shutdown()
    return code


if __name__ == '__main__':
    raise SystemExit(main())
