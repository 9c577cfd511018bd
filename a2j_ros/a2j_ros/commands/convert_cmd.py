"""``a2j convert``: turn the authors' released A2J ``.pth`` into an a2j_ros checkpoint."""
import sys

from a2j_ros.core.authors import AUTHORS_DATASETS
from a2j_ros.core.errors import A2JError


def add_arguments(parser):
    """Register the options of ``a2j convert``."""
    parser.add_argument('--authors', required=True, metavar='PATH',
                        help="the authors' weights file (e.g. NYU.pth from github.com/"
                             'zhangboshen/A2J), a state_dict with Backbone.model.* keys')
    parser.add_argument('--dataset', required=True, choices=sorted(AUTHORS_DATASETS),
                        help='the dataset the weights were trained on (sets joints, input '
                             'size, crop thresholds, normalisation)')
    parser.add_argument('--out', required=True, metavar='PATH',
                        help='the a2j_ros checkpoint to write (atomically)')
    parser.add_argument('--half', action='store_true',
                        help='store the weights as fp16 (half the file; loaded as fp32)')


def run(args):
    """Convert, check that the result loads, print a one-line summary; return 0 (2 on error)."""
    try:
        return _convert(args)
    except A2JError as exc:
        print(f'a2j convert: error: {exc}', file=sys.stderr)
        return 2


def _convert(args):
    from a2j_ros.core.authors import load_authors_model
    from a2j_ros.core.checkpoint import load_checkpoint, save_checkpoint
    from a2j_ros.core.presets import get_preset
    from a2j_ros.core.torch_file import load_state_dict_file
    state = load_state_dict_file(args.authors)
    model = load_authors_model(state, args.dataset)
    trained_on = (f'{get_preset(args.dataset).description}: '
                  "the A2J authors' released model")
    path = save_checkpoint(args.out, model, model.crop_config, half=args.half,
                           trained_on=trained_on,
                           source={'authors_file': str(args.authors), 'dataset': args.dataset})
    loaded = load_checkpoint(path)
    cfg = loaded.config
    print(f'wrote {path}: {cfg.backbone}, {cfg.num_joints} joints ({cfg.layout}), '
          f'{cfg.input_size}x{cfg.input_size}, {"3D" if cfg.use_depth else "2D"}, '
          f'crop {loaded.crop_config.mode}')
    return 0
