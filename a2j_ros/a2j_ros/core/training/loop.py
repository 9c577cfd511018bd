"""The training run: datasets, model, optimizer, epochs, evaluation, checkpoints, resume.

Shaped like torchvision's references/detection/train.py: ``run_training`` builds everything
and loops over epochs; ``engine.train_one_epoch`` and ``engine.evaluate_model`` do the work.
The run folder holds ``last.pt`` (after every epoch, atomically), ``best.pt`` (best
validation metric), ``train.log``, ``metrics.csv``, ``tensorboard/``, ``config.yaml`` and
``summary.json``. ``resume=True`` restores model, optimizer, scheduler, AMP scaler, epoch and
torch RNG from ``last.pt`` (the step size and decay of the learning-rate schedule are the
YAML's, so a resumed run can be given a shorter schedule); the data order and augmentation
are functions of (seed, epoch), so a resumed run continues as if it had not stopped, losing
at most the interrupted epoch.
"""
from dataclasses import replace
import json
import os
import time

import torch

from a2j_ros.core.augment import augment_config_for, Augmenter
from a2j_ros.core.checkpoint import read_checkpoint, resolve_device, save_checkpoint
from a2j_ros.core.config import CropConfig, ModelConfig
from a2j_ros.core.datasets import open_dataset
from a2j_ros.core.datasets.crop_dataset import CropDataset
from a2j_ros.core.errors import InputError
from a2j_ros.core.layouts import get_layout
from a2j_ros.core.losses import LossConfig
from a2j_ros.core.model import A2JNet
from a2j_ros.core.presets import get_preset
from a2j_ros.core.training import distributed as ddp
from a2j_ros.core.training.engine import evaluate_model, mean_pose_baseline, train_one_epoch
from a2j_ros.core.training.run_log import RunLog

HIGHER_IS_BETTER = {'map': True, 'pdj': True, 'mean_error': False}


def build_model_config(config, preset):
    """Return (ModelConfig, CropConfig) from the preset and the YAML overrides."""
    layout = get_layout(preset.layout)
    values = {'layout': layout.name, 'num_joints': layout.num_joints,
              'use_depth': layout.dims == 3, 'input_size': preset.crop.input_size}
    values.update(config.model)
    model_config = ModelConfig.from_dict(values)
    unknown = sorted(set(config.model) - set(model_config.to_dict()))
    if unknown:
        raise InputError(f'unknown model settings {unknown}')
    crop_values = {**preset.crop.to_dict(), **config.crop, 'input_size': model_config.input_size}
    unknown = sorted(set(config.crop) - set(preset.crop.to_dict()))
    if unknown:
        raise InputError(f'unknown crop settings {unknown}')
    return model_config, CropConfig.from_dict(crop_values)


def build_loss_config(config):
    """Return the LossConfig: a preset (``loss.preset``) with the YAML's field overrides."""
    values = dict(config.loss)
    name = values.pop('preset', 'paper')
    if 'noise_patch_area' in values:
        values['noise_patch_area'] = tuple(values['noise_patch_area'])
    try:
        return LossConfig.preset(name, **values)
    except TypeError as exc:
        raise InputError(f'loss settings: {exc}') from None


def build_datasets(config):
    """Return (train PoseDataset, validation PoseDataset) for the config."""
    options = dict(config.dataset_options)
    if config.synthetic:
        train = open_dataset(config.dataset, split='train', num_frames=config.num_train,
                             **options)
        val = open_dataset(config.dataset, split='val', num_frames=config.num_val, **options)
        return train, val
    return (open_dataset(config.dataset, config.root, config.train_split, **options),
            open_dataset(config.dataset, config.root, config.val_split, **options))


def _loader(crops, settings, epoch, shuffle=True):
    if ddp.world_size() > 1:
        sampler = torch.utils.data.distributed.DistributedSampler(
            crops, shuffle=shuffle, seed=settings.seed)
        sampler.set_epoch(epoch)
    else:
        generator = torch.Generator().manual_seed(settings.seed * 100003 + epoch)
        sampler = torch.utils.data.RandomSampler(crops, generator=generator)
    return torch.utils.data.DataLoader(crops, batch_size=settings.batch_size, sampler=sampler,
                                       num_workers=settings.workers, drop_last=True,
                                       pin_memory=False)


def _better(value, best, higher):
    return best is None or (value > best if higher else value < best)


def run_training(config, out_dir, resume=False, pretrained=None, device='auto',
                 max_minutes=None, progress=True, init=None):
    """Train as ``config`` says, writing into ``out_dir``; return the summary dict.

    ``init`` names an a2j_ros checkpoint whose weights start the model (fine-tuning: its
    model settings must match the config's; optimizer and schedule start afresh).
    """
    started = time.monotonic()
    device = ddp.init_distributed(resolve_device(device))
    try:
        return _run(config, str(out_dir), resume, pretrained, device, max_minutes, progress,
                    started, init)
    finally:
        ddp.cleanup()


def _init_weights(model, path):
    """Load the weights of checkpoint ``path`` into ``model`` (fp16 files become fp32)."""
    state = read_checkpoint(path)
    if state['model_config'] != model.config.to_dict():
        differ = sorted(k for k, v in model.config.to_dict().items()
                        if state['model_config'].get(k) != v)
        raise InputError(f"--init {path}: its model settings differ from the config's "
                         f'({", ".join(differ)})')
    model.load_state_dict({k: v.float() if v.is_floating_point() else v
                           for k, v in state['state_dict'].items()})


def _run(config, out_dir, resume, pretrained, device, max_minutes, progress, started,
         init=None):
    settings = config.train
    main = ddp.is_main()
    last_path, best_path = os.path.join(out_dir, 'last.pt'), os.path.join(out_dir, 'best.pt')
    if not resume and os.path.exists(last_path):
        raise InputError(f'{out_dir} already holds a training run (last.pt); use --resume to '
                         f'continue it or choose another --out')
    if settings.threads > 0:
        torch.set_num_threads(settings.threads)
    torch.manual_seed(settings.seed + ddp.rank())
    preset = get_preset(config.dataset)
    model_config, crop_config = build_model_config(config, preset)
    loss_config = build_loss_config(config)
    augment_config = augment_config_for(loss_config, config.augment)
    train_set, val_set = build_datasets(config)
    train_crops = CropDataset(train_set, crop_config, Augmenter(augment_config, crop_config),
                              seed=settings.seed)
    model = A2JNet(model_config)
    model.crop_config = crop_config
    if pretrained:
        model.load_imagenet(pretrained)
    if init and not (resume and os.path.exists(last_path)):
        _init_weights(model, init)
    model.to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=loss_config.lr,
                                 weight_decay=loss_config.weight_decay)
    scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=loss_config.lr_step_epochs,
                                                gamma=loss_config.lr_decay)
    use_amp = bool(settings.amp) and device.type == 'cuda'
    scaler = torch.amp.GradScaler('cuda') if use_amp else None
    start_epoch, best, best_epoch, baseline = 0, None, None, None
    higher = HIGHER_IS_BETTER[preset.metric]
    log = RunLog(out_dir) if main else None
    if resume and os.path.exists(last_path):
        state = read_checkpoint(last_path)
        model.load_state_dict(state['state_dict'])
        optimizer.load_state_dict(state['optimizer'])
        scheduler.load_state_dict(state['scheduler'])
        # the YAML's schedule applies from here on (so a run can be shortened on resume)
        scheduler.step_size = loss_config.lr_step_epochs
        scheduler.gamma = loss_config.lr_decay
        if scaler is not None and state.get('scaler'):
            scaler.load_state_dict(state['scaler'])
        if isinstance(state.get('torch_rng'), torch.Tensor):
            torch.set_rng_state(state['torch_rng'])
        start_epoch = int(state['epoch']) + 1
        best, best_epoch = state.get('best'), state.get('best_epoch')
        baseline = state.get('baseline')
        if main:
            log.info(f'resumed from {last_path}: epoch {state["epoch"]} done, continuing at '
                     f'epoch {start_epoch} of {settings.epochs}')
    elif resume and main:
        log.info(f'--resume: no {last_path} yet, starting a new run')
    if ddp.world_size() > 1:
        model = torch.nn.parallel.DistributedDataParallel(
            model, device_ids=[device.index] if device.type == 'cuda' else None)
    if main:
        _write_config(out_dir, config)
        log.info(f'dataset {config.dataset}: {len(train_set)} train / {len(val_set)} val frames; '
                 f'model {model_config.backbone} input {model_config.input_size} '
                 f'K={model_config.num_joints}; device {device}, {ddp.world_size()} process(es), '
                 f'AMP {"on" if use_amp else "off"}; loss {loss_config.name}, lr '
                 f'{loss_config.lr} x{loss_config.lr_decay} every {loss_config.lr_step_epochs} '
                 f'epochs, {settings.epochs} epochs, batch {settings.batch_size}')
        if baseline is None:
            report = mean_pose_baseline(train_crops, val_set, preset, crop_config,
                                        max_val=settings.max_val_frames)
            baseline = _headline(report)
        log.info(f'mean-pose baseline on the validation split: {baseline[0]} = '
                 f'{baseline[1]:.2f} {baseline[2]}')
    budget = None if not max_minutes else started + 60.0 * float(max_minutes)
    eval_seconds, last_report, stopped = 30.0, None, False
    completed = start_epoch
    for epoch in range(start_epoch, settings.epochs):
        train_crops.set_epoch(epoch)
        loader = _loader(train_crops, settings, epoch)
        deadline = None if budget is None else budget - 1.2 * eval_seconds - 5.0
        if deadline is not None and time.monotonic() > deadline:
            stopped = True
            break
        stats = train_one_epoch(model, loader, optimizer, loss_config, device, epoch, scaler,
                                use_amp, log, settings.log_every, deadline, progress)
        lr = optimizer.param_groups[0]['lr']
        scheduler.step()
        if main:
            t0 = time.monotonic()
            last_report = evaluate_model(model, val_set, preset, crop_config, device,
                                         settings.eval_batch_size, settings.max_val_frames)
            eval_seconds = time.monotonic() - t0
            key, value, unit = _headline(last_report)
            improved = _better(value, best, higher)
            if improved:
                best, best_epoch = value, epoch
            extra = dict(optimizer=optimizer.state_dict(), scheduler=scheduler.state_dict(),
                         scaler=scaler.state_dict() if scaler is not None else None,
                         epoch=epoch, best=best, best_epoch=best_epoch, baseline=baseline,
                         metric={key: value}, train_config=config.to_dict(),
                         torch_rng=torch.get_rng_state(), dataset=config.dataset)
            net = ddp.unwrap(model)
            save_checkpoint(last_path, net, crop_config, **extra)
            if improved:
                save_checkpoint(best_path, net, crop_config, **extra)
            log.epoch({'epoch': epoch, 'lr': lr, 'loss': stats['loss'],
                       'in_plane': stats['in_plane'], 'depth': stats['depth'],
                       'surround': stats['surround'], 'val_metric': key, 'val_value': value,
                       'samples_per_s': round(stats['samples_per_s'], 2),
                       'epoch_s': round(stats['seconds'], 1),
                       'elapsed_s': round(time.monotonic() - started, 1)})
            log.info(f'epoch {epoch}: loss {stats["loss"]:.4f} lr {lr:.2e} '
                     f'{stats["samples_per_s"]:.1f} samples/s; val {key} {value:.2f} {unit} '
                     f'(best {best:.2f} at epoch {best_epoch}; baseline {baseline[1]:.2f})'
                     + (' [stopped early: time limit]' if stats['stopped_early'] else ''))
        ddp.barrier()
        completed = epoch + 1
        if stats['stopped_early']:
            stopped = True
            break
    summary = {'dataset': config.dataset, 'epochs_done': completed, 'epochs': settings.epochs,
               'stopped_by_time_limit': stopped, 'best': best, 'best_epoch': best_epoch,
               'baseline': baseline,
               'last': None if last_report is None else _headline(last_report)[1],
               'elapsed_s': round(time.monotonic() - started, 1), 'out_dir': out_dir}
    if main:
        with open(os.path.join(out_dir, 'summary.json'), 'w', encoding='utf-8') as f:
            json.dump(summary, f, indent=2)
        log.info(f'done: {json.dumps(summary)}')
        log.close()
    return summary


def _headline(report):
    from a2j_ros.core.evaluate import headline
    key, value, unit = headline(report)
    return [key, float(value), unit]


def _write_config(out_dir, config):
    import yaml
    data = config.to_dict()
    with open(os.path.join(out_dir, 'config.yaml'), 'w', encoding='utf-8') as f:
        yaml.safe_dump(data, f, sort_keys=False)


def with_device_defaults(config, workers=None):
    """Return ``config`` with the DataLoader workers replaced (tests and small machines)."""
    if workers is None:
        return config
    return replace(config, train=replace(config.train, workers=int(workers)))


__all__ = ['build_datasets', 'build_loss_config', 'build_model_config', 'run_training',
           'with_device_defaults']
