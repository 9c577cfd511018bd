"""``a2j replay``: run a rosbag through the pose pipeline and write a report.

    a2j replay BAG --checkpoint CK --report DIR [--mode offline|live] [--roi-source ...]
               [--depth-topic T --info-topic T --roi-topic T --gt-topic T]

offline reads the bag and runs core.pipeline.PosePipeline (the node's own code, no ROS,
deterministic); live plays the bag through the pose node over DDS with sim time and records
what it publishes (needs rclpy and a2j_ros_msgs). See docs/replay.md.
"""
import math
import sys

from a2j_ros.bag.topics import GT_TOPIC, ROI_TOPIC

ROI_SOURCES = ('auto', 'topic', 'nearest', 'full_frame')


def add_arguments(parser):
    """Register the options of ``a2j replay``."""
    parser.add_argument('bag', metavar='BAG',
                        help='rosbag2: a .mcap or .db3 file or a bag directory')
    parser.add_argument('--checkpoint', required=True, metavar='CK',
                        help='a2j_ros checkpoint (.pt)')
    parser.add_argument('--report', required=True, metavar='DIR',
                        help='folder for report.json, plots/ and overlays/')
    parser.add_argument('--mode', choices=('offline', 'live'), default='offline',
                        help='offline: pipeline in this process (default); live: through the '
                             'pose node over DDS with /clock')
    parser.add_argument('--roi-source', choices=ROI_SOURCES, default='auto',
                        help="where the hand/body boxes come from: the bag's ROI topic, the "
                             'nearest blob, or the full frame (auto: topic if the bag has '
                             'one, else nearest)')
    parser.add_argument('--device', default='cpu', help='auto | cpu | cuda (default cpu)')
    parser.add_argument('--backend', default='auto',
                        help='inference backend (see a2j bench; default auto: the fastest '
                             'that matches eager fp32 here)')
    parser.add_argument('--frames', type=int, default=None, metavar='N',
                        help='replay only the first N depth frames')
    parser.add_argument('--overlays', type=int, default=6, metavar='N',
                        help='overlay images to draw, spread over the bag (default 6)')
    parser.add_argument('--depth-range', type=float, nargs=2, default=None,
                        metavar=('NEAR', 'FAR'),
                        help='metres: depth the ROI search and the hand centre use, as the '
                             "node's depth_min_m/depth_max_m (default 0.1 1.5 for hands, "
                             '0.1 6 for bodies)')
    parser.add_argument('--max-instances', type=int, default=1, metavar='N',
                        help='most hands/bodies per frame, as the node parameter (default 1)')
    topics = parser.add_argument_group('topics (a RealSense bag: --depth-topic '
                                       '/camera/camera/depth/image_rect_raw)')
    topics.add_argument('--depth-topic', default=None,
                        help='sensor_msgs/Image (16UC1/mono16 mm, 32FC1 m) or its '
                             'image_transport compressedDepth topic (default: detected from '
                             "the bag's encodings and names)")
    topics.add_argument('--info-topic', default=None,
                        help='sensor_msgs/CameraInfo (default: the camera_info next to the '
                             "depth topic, else the bag's only one)")
    topics.add_argument('--roi-topic', default=ROI_TOPIC,
                        help=f'a2j_ros_msgs/RegionOfInterestArray (default {ROI_TOPIC})')
    topics.add_argument('--gt-topic', default=GT_TOPIC,
                        help=f'a2j_ros_msgs/SkeletonArray ground truth (default {GT_TOPIC}); '
                             'without it the report has speed only')
    live = parser.add_argument_group('live mode')
    live.add_argument('--rate', type=float, default=1.0,
                      help='playback speed factor, like ros2 bag play --rate (default 1.0)')
    live.add_argument('--node', choices=('subprocess', 'inprocess'), default='subprocess',
                      help='run the pose node as its own process (default) or in this one')
    live.add_argument('--startup-timeout', type=float, default=180.0, metavar='S',
                      help='seconds to wait for the pose node to come up (default 180)')
    live.add_argument('--domain-id', type=int, default=None,
                      help='ROS_DOMAIN_ID (0-232) of the replay (default: a free private one)')
    live.add_argument('--discovery', choices=('localhost', 'environment'), default='localhost',
                      help="localhost: the replay's participants discover each other on this "
                           'machine only (default); environment: use the discovery settings '
                           'of your environment, to join your graph (with --domain-id)')
    parser.add_argument('--no-progress', action='store_true', help='no progress bar')


def _topics(args):
    from a2j_ros.bag.topics import BagTopics
    return BagTopics(depth=args.depth_topic, camera_info=args.info_topic,
                     roi=args.roi_topic or None, ground_truth=args.gt_topic or None)


def check_arguments(args):
    """Raise InputError for options that cannot give a meaningful replay."""
    from a2j_ros.bag.offline_replay import check_replay_options
    from a2j_ros.bag.report import check_report_dir
    from a2j_ros.bag.topic_detect import check_topic_name
    from a2j_ros.core.errors import InputError
    check_replay_options(args.frames, args.max_instances, args.overlays)
    check_report_dir(args.report)
    if args.depth_range is not None and not all(math.isfinite(v) for v in args.depth_range):
        raise InputError(f'--depth-range must be finite, got {args.depth_range}')
    for option, topic in (('--depth-topic', args.depth_topic), ('--info-topic', args.info_topic),
                          ('--roi-topic', args.roi_topic), ('--gt-topic', args.gt_topic)):
        if topic:
            check_topic_name(topic, option)
    if args.mode == 'live':
        from a2j_ros.ros.live_replay import check_live_options
        check_live_options(args.rate, args.startup_timeout, args.domain_id)


def _say(record):
    for warning in record.warnings:
        print(f'a2j replay: warning: {warning}', file=sys.stderr)


def run(args):
    """Replay the bag, write the report and print its summary; return the exit code."""
    from a2j_ros.bag.report import format_summary, write_report
    from a2j_ros.commands import sigterm_as_exit
    from a2j_ros.core.errors import A2JError

    with sigterm_as_exit():     # the live node process is stopped on SIGTERM too
        return _run(args, format_summary, write_report, A2JError)


def _run(args, format_summary, write_report, A2JError):
    topics = _topics(args)
    try:
        if args.mode == 'live':
            try:
                import rclpy  # noqa: F401

                from a2j_ros.ros.live_replay import replay_live
            except ImportError as exc:
                raise A2JError(f'--mode live needs rclpy and a2j_ros_msgs ({exc}); source '
                               'env.sh or your ROS 2 setup, or use --mode offline') from None
        check_arguments(args)
        if args.mode == 'offline':
            from a2j_ros.bag.offline_replay import replay_offline
            record = replay_offline(args.bag, args.checkpoint, topics,
                                    roi_source=args.roi_source, device=args.device,
                                    backend=args.backend, max_frames=args.frames,
                                    overlay_count=args.overlays,
                                    depth_range_m=args.depth_range,
                                    max_instances=args.max_instances,
                                    progress=not args.no_progress)
        else:
            record = replay_live(args.bag, args.checkpoint, topics, roi_source=args.roi_source,
                                 device=args.device, rate=args.rate, node=args.node,
                                 max_frames=args.frames, overlay_count=args.overlays,
                                 depth_range_m=args.depth_range,
                                 max_instances=args.max_instances,
                                 extra_params={'backend': args.backend},
                                 startup_timeout_s=args.startup_timeout,
                                 domain_id=args.domain_id, discovery=args.discovery,
                                 log_dir=args.report, progress=not args.no_progress)
        _say(record)
        report = write_report(record, args.report)
    except (A2JError, OSError) as exc:
        print(f'a2j replay: error: {exc}', file=sys.stderr)
        return 2
    print(format_summary(report))
    speed = report['speed']
    if speed['frames_answered'] == 0:
        skipped = report['problems']['skipped_frames']
        why = (f"; frame {skipped[0]['frame']}: {skipped[0]['reason']}" if skipped else
               ' (the pose node answered none)')
        print(f"a2j replay: error: no frame of {args.bag} could be estimated "
              f"({speed['frames_total']} in{why})", file=sys.stderr)
        return 2
    return 0
