"""``a2j train``: train A2J on a dataset (its original files) or on synthetic data.

Usage::

    a2j train --config a2j_ros/config/train/synthetic_hand.yaml --out runs/hand
    a2j train --config a2j_ros/config/train/nyu.yaml --root /data/nyu --out runs/nyu
    a2j train ... --resume                      # continue from runs/.../last.pt
    a2j train ... --init old.pt                 # fine-tune from a checkpoint's weights
    torchrun --nproc_per_node=2 -m a2j_ros.cli train --config ... --out ...   # DDP
"""


def add_arguments(parser):
    """Register the options of ``a2j train``."""
    parser.add_argument('--config', required=True, metavar='CONFIG',
                        help='training YAML (a2j_ros/config/train/<dataset>.yaml)')
    parser.add_argument('--root', metavar='DATA',
                        help='dataset folder (overrides the YAML root; synthetic sets need none)')
    parser.add_argument('--out', required=True, metavar='RUN_DIR',
                        help='run folder: checkpoints last.pt/best.pt, logs, TensorBoard')
    parser.add_argument('--resume', action='store_true',
                        help='continue the run in RUN_DIR from its last.pt')
    parser.add_argument('--pretrained', metavar='PATH',
                        help='local torchvision ResNet state_dict to start the backbone from')
    parser.add_argument('--init', metavar='CHECKPOINT',
                        help='start from the weights of an a2j_ros checkpoint (fine-tuning; '
                             'same model settings; optimizer and schedule start afresh)')
    parser.add_argument('--device', default='auto',
                        help='auto (CUDA when available), cpu, cuda or cuda:N (default auto)')
    parser.add_argument('--epochs', type=int, metavar='N', help='override the number of epochs')
    parser.add_argument('--max-minutes', type=float, metavar='M',
                        help='stop (after evaluating and saving) before M minutes have passed')
    parser.add_argument('--workers', type=int, metavar='W',
                        help='DataLoader worker processes (overrides the YAML)')
    parser.add_argument('--no-progress', action='store_true', help='no progress bars')


def run(args):
    """Run training; return the exit code."""
    import sys

    from a2j_ros.core.errors import A2JError
    from a2j_ros.core.training import load_train_config
    from a2j_ros.core.training.loop import run_training, with_device_defaults
    try:
        config = load_train_config(args.config).with_overrides(root=args.root,
                                                                epochs=args.epochs)
        config = with_device_defaults(config, args.workers)
        run_training(config, args.out, resume=args.resume,
                     pretrained=args.pretrained, device=args.device,
                     max_minutes=args.max_minutes, progress=not args.no_progress,
                     init=args.init)
    except A2JError as exc:
        print(f'a2j train: error: {exc}', file=sys.stderr)
        return 2
    return 0


__all__ = ['add_arguments', 'run']
