"""``a2j make-bag``: write a rosbag2 (mcap or sqlite3) from a dataset, no ROS needed.

    a2j make-bag --dataset synthetic_hand --out hand.mcap [--frames 90] [--rate 30]
                 [--storage mcap|sqlite3] [--encoding 16UC1|32FC1] [--pad-rows BYTES]
    a2j make-bag --dataset synthetic_hand --sequence two_hands --out two.mcap [--no-sensor]

Each frame: the depth image, its camera_info, the ROIs (boxes around the ground truth, as a
perfect detector would give) and the ground truth as an a2j_ros_msgs/SkeletonArray in metres,
all with the depth image's stamp. See docs/replay.md for topics and formats.
"""
import sys

from a2j_ros.bag.topics import DEPTH_TOPIC, FRAME_ID, GT_TOPIC, INFO_TOPIC, ROI_TOPIC


def add_arguments(parser):
    """Register the options of ``a2j make-bag``."""
    from a2j_ros.bag.make_bag import DATASETS
    from a2j_ros.core.synthetic.sequences import SEQUENCES
    parser.add_argument('--dataset', required=True, choices=DATASETS,
                        help='synthetic_hand / synthetic_body are rendered here; the others '
                             'are read from --root in their original format')
    parser.add_argument('--root', metavar='DATA', help='dataset folder (real datasets)')
    parser.add_argument('--split', default='test', help='dataset split (default test)')
    parser.add_argument('--out', required=True, metavar='BAG',
                        help='a .mcap or .db3 file (single self-contained file) or a '
                             'directory (rosbag2 bag folder with metadata.yaml)')
    parser.add_argument('--storage', choices=('mcap', 'sqlite3'), default=None,
                        help='storage plugin (default: from the suffix of --out, else mcap)')
    parser.add_argument('--encoding', choices=('16UC1', '32FC1'), default='16UC1',
                        help='depth encoding: 16UC1 millimetres (default) or 32FC1 metres')
    parser.add_argument('--frames', type=int, default=None, metavar='N',
                        help='number of frames (default 100, a --sequence: all of it; fewer '
                             'if the split is shorter)')
    parser.add_argument('--sequence', choices=SEQUENCES, default=None,
                        help='a moving synthetic sequence (synthetic_hand: hand_drift, '
                             'two_hands; synthetic_body: body_walk) with ground-truth track '
                             'ids in Skeleton.id; see docs/replay.md')
    parser.add_argument('--no-sensor', action='store_true',
                        help='--sequence without the sensor model (noise, quantisation, holes, '
                             "flying pixels): the renderer's perfect depth")
    parser.add_argument('--rate', type=float, default=30.0, metavar='HZ',
                        help='frame rate of the stamps (default 30)')
    parser.add_argument('--pad-rows', type=int, default=0, metavar='BYTES',
                        help='extra bytes at the end of every image row (step > width * bpp)')
    parser.add_argument('--big-endian', action='store_true',
                        help='store the depth pixels big-endian (is_bigendian = 1)')
    parser.add_argument('--seed', type=int, default=0,
                        help='seed of the synthetic datasets (default 0)')
    parser.add_argument('--no-compress', action='store_true',
                        help='mcap: no zstd chunk compression (default: compressed)')
    parser.add_argument('--force', action='store_true', help='overwrite --out if it exists')
    parser.add_argument('--frame-id', default=FRAME_ID,
                        help=f'header.frame_id of every message (default {FRAME_ID})')
    topics = parser.add_argument_group('topic names')
    topics.add_argument('--depth-topic', default=DEPTH_TOPIC, help=f'default {DEPTH_TOPIC}')
    topics.add_argument('--info-topic', default=INFO_TOPIC, help=f'default {INFO_TOPIC}')
    topics.add_argument('--roi-topic', default=ROI_TOPIC,
                        help=f'default {ROI_TOPIC} ("" to leave the ROIs out)')
    topics.add_argument('--gt-topic', default=GT_TOPIC,
                        help=f'default {GT_TOPIC} ("" to leave the ground truth out)')
    parser.add_argument('--no-progress', action='store_true', help='no progress bar')


def run(args):
    """Write the bag and print its size; return the exit code."""
    from a2j_ros.bag.make_bag import make_bag
    from a2j_ros.bag.topics import BagTopics
    from a2j_ros.commands import sigterm_as_exit
    from a2j_ros.core.errors import A2JError

    topics = BagTopics(depth=args.depth_topic, camera_info=args.info_topic,
                       roi=args.roi_topic or None, ground_truth=args.gt_topic or None)
    if args.no_sensor and not args.sequence:
        print('a2j make-bag: error: --no-sensor applies to --sequence only', file=sys.stderr)
        return 2
    try:
        with sigterm_as_exit():
            summary = make_bag(args.dataset, args.out, root=args.root, split=args.split,
                               storage=args.storage, encoding=args.encoding,
                               frames=args.frames, rate_hz=args.rate, pad_bytes=args.pad_rows,
                               big_endian=args.big_endian, seed=args.seed, topics=topics,
                               frame_id=args.frame_id, overwrite=args.force,
                               compress=not args.no_compress, progress=not args.no_progress,
                               sequence=args.sequence, sensor=not args.no_sensor)
    except (A2JError, KeyError, OSError) as exc:
        print(f'a2j make-bag: error: {exc}', file=sys.stderr)
        return 2
    except SystemExit:
        print(f'a2j make-bag: terminated; the partial bag {args.out} was removed',
              file=sys.stderr)
        raise
    print(f"wrote {summary['path']}: {summary['frames']} frames, {summary['duration_s']:.2f} s "
          f"at {args.rate:g} Hz, {summary['storage']}, {args.encoding}")
    print(f"size {summary['bytes'] / 1e6:.2f} MB ({summary['bytes_per_frame'] / 1e3:.1f} kB "
          f"per frame)")
    print(f'topics: {topics.depth} {topics.camera_info} {topics.roi or "-"} '
          f'{topics.ground_truth or "-"}')
    return 0
