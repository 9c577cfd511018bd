"""The A2J pose node: depth image (+ camera_info, + ROIs) in, skeletons and markers out.

A managed (lifecycle) node. With ``autostart`` (default) a one-shot timer configures and
activates it once it spins; otherwise a lifecycle manager (``ros2 lifecycle set``, launch's
LifecycleNode) does. configure: read the parameters, load the checkpoint (empty = the
bundled demo model of the mode), create the outputs and the camera_info subscription;
activate: subscribe to the depth image (and the ROIs) and start the inference worker;
deactivate / cleanup undo that. A failed configure leaves the node unconfigured with one
line saying what to set; a later configure retries. Topics (relative, remap them):

* in: ``depth/image`` (sensor_msgs/Image 16UC1 mm or 32FC1 m; or ``depth/image/
  compressedDepth`` with ``depth_transport: compressedDepth``), ``depth/camera_info``
  (latest kept), ``rois`` (roi_source topic: a2j_ros_msgs/RegionOfInterestArray or
  vision_msgs/Detection2DArray, paired with the depth by approximate time). Their QoS
  adapts to the publishers found (qos_adapt.py).
* out: ``skeletons`` (a2j_ros_msgs/SkeletonArray, the depth header, metres),
  ``markers`` (visualization_msgs/MarkerArray), ``~/debug_image`` (off by default),
  ``/diagnostics``

One frame in flight: a worker thread runs the newest frame; frames that arrive while it is
busy replace the waiting one and are counted as dropped. Bad input is a throttled warning
and a diagnostics counter, never a crash. Parameters (node_params.py) are checked when set;
runtime ones apply from the next frame. See docs/node.md.
"""
import time

import rclpy
from rclpy.lifecycle import LifecycleNode, TransitionCallbackReturn

from a2j_ros.core.errors import A2JError, InputError
from a2j_ros.core.roi_search import find_rois, RoiSearch
from a2j_ros.ros.bundled_models import resolve_checkpoint, synthetic_warning
from a2j_ros.ros.camera_info import CameraInfoCache
from a2j_ros.ros.diagnostics import diagnostic_array, NodeStats
from a2j_ros.ros.image_conversion import message_to_depth_mm
from a2j_ros.ros.latest_frame import LatestFrameWorker
from a2j_ros.ros.messages import rois_from_a2j, rois_from_detection2d
from a2j_ros.ros.node_inputs import PoseInputs
from a2j_ros.ros.node_outputs import PoseOutputs
from a2j_ros.ros.node_params import (
    check_change,
    declare_parameters,
    parameter_values,
    read_settings,
    removed_parameters,
)
from a2j_ros.ros.node_tracking import make_tracker, update_tracker
from a2j_ros.ros.qos_adapt import AdaptiveSubscription, REFRESH_PERIOD_S

NODE_NAME = 'pose_node'


def build_pipeline(settings):
    """Return (PosePipeline, checkpoint path, metadata) for the node settings."""
    from a2j_ros.core.checkpoint import checkpoint_metadata
    from a2j_ros.core.pipeline import PosePipeline
    path = resolve_checkpoint(settings.checkpoint, settings.mode)
    metadata = checkpoint_metadata(path)
    pipeline = PosePipeline.from_checkpoint(
        path, device=settings.device, backend=settings.backend,
        input_scale=settings.body_input_scale,
        centre_depth_offset_mm=settings.centre_depth_offset_mm,
        min_depth_mm=settings.depth_min_mm, max_depth_mm=settings.depth_max_mm)
    if settings.mode and settings.mode != pipeline.mode:
        raise InputError(f'parameter mode is {settings.mode!r} but checkpoint {path} is a '
                         f'{pipeline.mode} model')
    pipeline.warm_up()
    return pipeline, path, metadata


def backend_description(pipeline, requested):
    """Return the backend that runs, with auto's choice and parity when auto chose it."""
    describe = getattr(pipeline.predictor, 'describe', None)
    return describe() if callable(describe) else requested


def roi_search(settings):
    """Return the core RoiSearch of the detector-free sources (max_instances 0 = no cap)."""
    s = settings
    return RoiSearch(min_depth_mm=s.depth_min_mm, max_depth_mm=s.depth_max_mm,
                     hand_band_mm=s.hand_band_mm, min_pixels=s.min_blob_pixels,
                     max_instances=s.max_instances or 10**6, hand_radius_mm=s.hand_radius_mm,
                     reject_planes=s.reject_planes)


class PoseNode(LifecycleNode):
    """A2J 3D hand or body pose from depth images (see the module docstring)."""

    def __init__(self, node_name=NODE_NAME, **kwargs):
        super().__init__(node_name, **kwargs)
        self._parameter_errors = declare_parameters(self)
        for line in removed_parameters(self):
            self.get_logger().warning(line)
        self.stats = NodeStats()
        self.settings = self._pending = None
        self.pipeline = self.tracker = None
        self.checkpoint_path = ''
        self.cameras = CameraInfoCache()
        self.configure_error = ''
        self.sync_implementation = ''
        self.last_stages_ms = {}
        self._worker = self._inputs = self._outputs = None
        self._configured_entities = []      # camera_info subscription, timers
        self._last_log = {}
        self._previous_snapshot = None
        self._roi_search = None
        self.add_on_set_parameters_callback(self._on_set_parameters)
        self._autostart_timer = None
        if self.get_parameter('autostart').value:
            self._autostart_timer = self.create_timer(0.0, self._autostart)

    # -- lifecycle ---------------------------------------------------------------------
    def _autostart(self):
        """One shot, once spinning: configure, then activate if that worked."""
        self.destroy_timer(self._autostart_timer)
        self._autostart_timer = None
        if self.trigger_configure() == TransitionCallbackReturn.SUCCESS:
            self.trigger_activate()

    def on_configure(self, state):
        """Read the parameters, load the model, create the outputs and camera_info cache."""
        log = self.get_logger()
        try:
            if self._parameter_errors:
                raise InputError(next(iter(self._parameter_errors.values())))
            settings = read_settings(self)
            self.pipeline, self.checkpoint_path, metadata = build_pipeline(settings)
        except A2JError as exc:
            self.configure_error = str(exc)
            self.pipeline = None
            log.error(f'cannot configure: {exc}. Set the parameter (ros2 param set '
                      f'{self.get_fully_qualified_name()} <name> <value>), then retry: '
                      f'ros2 lifecycle set {self.get_fully_qualified_name()} configure')
            return TransitionCallbackReturn.FAILURE
        from sensor_msgs.msg import CameraInfo
        self.settings, self._pending, self.configure_error = settings, None, ''
        self._parameter_errors = {}
        self._roi_search = roi_search(settings)
        self.tracker = make_tracker(self.pipeline, settings)
        self.cameras = CameraInfoCache(warn=log.warning)
        self._outputs = PoseOutputs(self)
        info = AdaptiveSubscription(self, CameraInfo, 'depth/camera_info', self.cameras.update,
                                    settings.camera_info_qos_reliability, 1,
                                    'camera_info_qos_reliability')
        self._configured_entities = [
            info, self.create_timer(settings.diagnostics_period_s, self._publish_diagnostics),
            self.create_timer(REFRESH_PERIOD_S, self._refresh_qos)]
        p = self.pipeline
        log.info(f'configured: {p.mode} model {self.checkpoint_path} ({p.layout.name}, input '
                 f'{p.crop_config.input_size}) on {p.device}, backend '
                 f'{backend_description(p, settings.backend)}, '
                 f'roi_source {settings.roi_source}'
                 + (f'; trained on {metadata["trained_on"]}' if metadata.get('trained_on')
                    else ''))
        if self._is_synthetic(metadata):
            log.warning(synthetic_warning(self.checkpoint_path, metadata.get('trained_on')))
        return TransitionCallbackReturn.SUCCESS

    def _is_synthetic(self, metadata):
        from a2j_ros.ros.bundled_models import is_synthetic
        return is_synthetic(self.checkpoint_path, metadata.get('trained_on'))

    def on_activate(self, state):
        """Subscribe to the inputs and start the inference worker."""
        self._worker = LatestFrameWorker(self._process, on_drop=self.stats.frame_dropped,
                                         on_error=self._worker_error)
        self._worker.start()
        self._inputs = PoseInputs(self, self.settings, self._on_frame)
        self.sync_implementation = self._inputs.sync_implementation
        self.get_logger().info(f'active: listening on {", ".join(self._inputs.topics)}'
                               + (f' (sync: {self.sync_implementation})'
                                  if self.settings.roi_source == 'topic' else ''))
        return super().on_activate(state)

    def on_deactivate(self, state):
        """Stop listening and stop the worker (the frame in progress finishes)."""
        self._stop_inputs()
        self.get_logger().info('inactive: stopped listening (activate to resume)')
        return super().on_deactivate(state)

    def on_cleanup(self, state):
        """Free the model, outputs and subscriptions."""
        self._free()
        self.get_logger().info('unconfigured: model and publishers freed (configure to reload)')
        return TransitionCallbackReturn.SUCCESS

    def on_shutdown(self, state):
        """Free everything (from any state)."""
        self._free()
        self.get_logger().info('finalized: shut down')
        return TransitionCallbackReturn.SUCCESS

    def destroy_node(self):
        """Stop the worker before the node goes away."""
        self._stop_inputs()
        return super().destroy_node()

    def _free(self):
        self._stop_inputs()
        for entity in self._configured_entities:
            if isinstance(entity, AdaptiveSubscription):
                entity.destroy()
            else:
                self.destroy_timer(entity)
        self._configured_entities = []
        if self._outputs is not None:
            self._outputs.destroy()
        self._outputs = self.pipeline = self.tracker = self.settings = self._pending = None

    def _stop_inputs(self):
        if self._inputs is not None:
            self._inputs.destroy()
            self._inputs = None
        if self._worker is not None:
            self._worker.stop()
            self._worker = None

    def _refresh_qos(self):
        for entity in self._configured_entities:
            if isinstance(entity, AdaptiveSubscription):
                entity.refresh()
        if self._inputs is not None:
            self._inputs.refresh()

    # -- parameters ----------------------------------------------------------------------
    def _on_set_parameters(self, params):
        """Refuse a bad value with the reason; a good runtime one applies from the next frame."""
        from rcl_interfaces.msg import SetParametersResult
        changes = {p.name: p.value for p in params}
        settings, reason = check_change(parameter_values(self), changes,
                                        configured=self.settings is not None)
        if reason:
            return SetParametersResult(successful=False, reason=reason)
        if settings is not None:
            for name in changes:
                self._parameter_errors.pop(name, None)
            if self.settings is not None:
                self._pending = settings          # picked up by _process, next frame
        return SetParametersResult(successful=True)

    def _apply_pending(self):
        """Switch to the settings of the last accepted parameter change (worker thread)."""
        pending, self._pending = self._pending, None
        if pending is None or self.settings is None:
            return
        s = self.settings = pending
        self._roi_search = roi_search(s)
        p = self.pipeline
        p.min_depth_mm, p.max_depth_mm = s.depth_min_mm, s.depth_max_mm
        p.centre_depth_offset_mm, p.input_scale = s.centre_depth_offset_mm, s.body_input_scale
        update_tracker(self.tracker, s)

    # -- callbacks -----------------------------------------------------------------------
    def _on_frame(self, depth_msg, roi_msg):
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
        """Return (rois, scores): every detector ROI, or those of the detector-free search.

        Without a detector the score is 1.0 (Skeleton.score is the detector's score).
        """
        if roi_msg is None:
            rois, scores = find_rois(depth, self.settings.roi_source, self.pipeline.mode,
                                     self._roi_search, camera)
            return rois, [1.0] * len(rois)
        reader = rois_from_a2j if self.settings.roi_msg_type == 'a2j' else rois_from_detection2d
        return reader(roi_msg)

    def _process(self, item):
        """Run one frame through the pipeline and publish its outputs."""
        self._apply_pending()
        depth_msg, roi_msg = item
        pipeline, s, outputs = self.pipeline, self.settings, self._outputs
        if pipeline is None or outputs is None:
            return
        start = time.perf_counter()
        try:
            depth = message_to_depth_mm(depth_msg)
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
        stamp = depth_msg.header.stamp
        try:
            estimate = self.tracker.process(depth, camera, stamp.sec + 1e-9 * stamp.nanosec,
                                            rois, scores)
        except InputError as exc:
            self._warn('bad_image', str(exc))
            return
        for rejected in estimate.rejected:
            self._warn('rejected_rois', f'ROI {rejected.index} {rejected.roi}: {rejected.reason}')
        estimated = time.perf_counter()
        outputs.publish_frame(depth_msg.header, estimate, pipeline.layout, s, depth, rois)
        self._record(depth_msg.header, estimate, start, converted, found, estimated)

    def _record(self, header, estimate, start, converted, found, estimated):
        """Latency and per-stage times of a published frame (diagnostics, bench_node)."""
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
        stages['stats'] = (end - published) * 1e3
        stages['total'] = (end - start) * 1e3
        stages['other'] = max(stages['total'] - sum(v for k, v in stages.items()
                                                    if k != 'total'), 0.0)
        self.last_stages_ms = stages

    def _publish_diagnostics(self):
        snap = self.stats.snapshot()
        s, p = self.settings, self.pipeline
        if s is None or p is None or self._outputs is None:
            return
        extra = {'device': str(p.device), 'backend': backend_description(p, s.backend),
                 'mode': p.mode,
                 'roi_source': s.roi_source, 'sync': self.sync_implementation or 'n/a',
                 'checkpoint': self.checkpoint_path}
        msg = diagnostic_array(snap, f'{self.get_name()}: pose estimation', extra['device'],
                               self.get_clock().now().to_msg(), extra, self._previous_snapshot)
        self._previous_snapshot = snap
        self._outputs.diagnostics.publish(msg)


def main(args=None):
    """Run the pose node until Ctrl-C (a failed configure keeps it alive for a retry)."""
    from rclpy.executors import ExternalShutdownException
    rclpy.init(args=args)
    node = PoseNode()
    try:
        rclpy.spin(node)
    except (KeyboardInterrupt, ExternalShutdownException):
        pass
    finally:
        node.destroy_node()
        rclpy.try_shutdown()
    return 0


if __name__ == '__main__':
    raise SystemExit(main())
