"""One epoch of training, evaluation through core.evaluate, and the mean-pose baseline."""
import time

import numpy as np
import torch

from a2j_ros.core.errors import A2JError
from a2j_ros.core.losses import a2j_loss
from a2j_ros.core.training.distributed import (
    all_reduce_mean,
    broadcast_flag,
    is_main,
    unwrap,
    world_size,
)


class NonFiniteLossError(A2JError):
    """The loss became NaN or infinite; training stops without writing a checkpoint."""


def train_one_epoch(model, loader, optimizer, loss_config, device, epoch, scaler=None,
                    use_amp=False, log=None, log_every=20, deadline=None, progress=True):
    """Train ``model`` for one pass over ``loader``; return a dict of mean losses and speed.

    ``deadline`` (time.monotonic() value) ends the epoch early (``stopped_early`` True).
    A non-finite loss raises NonFiniteLossError naming the epoch and step.
    """
    from tqdm import tqdm
    model.train()
    use_depth = unwrap(model).config.use_depth
    sums = {'loss': 0.0, 'in_plane': 0.0, 'depth': 0.0, 'surround': 0.0}
    seen, start, stopped = 0, time.perf_counter(), False
    bar = tqdm(loader, desc=f'epoch {epoch}', unit='batch', disable=not (progress and is_main()),
               dynamic_ncols=True, mininterval=1.0)
    steps_per_epoch = max(len(loader), 1)
    for step, batch in enumerate(bar):
        images = batch['image'].to(device, non_blocking=True)
        target = batch['target'].to(device, non_blocking=True)
        with torch.autocast(device_type=device.type, dtype=torch.float16, enabled=use_amp):
            outputs = model(images)
        outputs = {k: (v.float() if v is not None else None) for k, v in outputs.items()}
        anchors = unwrap(model).anchors_for(images).float()
        losses = a2j_loss(outputs, anchors, target[..., :2],
                          target[..., 2] if use_depth else None, loss_config)
        total = losses['total']
        if not torch.isfinite(total):
            raise NonFiniteLossError(
                f'non-finite loss ({total.item()}) at epoch {epoch}, step {step}: lower the '
                f'learning rate, check the data (NaN depth/joints) or disable AMP; the last '
                f'checkpoint is kept')
        optimizer.zero_grad(set_to_none=True)
        if scaler is not None:
            scaler.scale(total).backward()
            scaler.step(optimizer)
            scaler.update()
        else:
            total.backward()
            optimizer.step()
        n = images.shape[0]
        seen += n
        sums['loss'] += total.item() * n
        for key in ('in_plane', 'depth', 'surround'):
            sums[key] += float(losses[key].item()) * n
        if log is not None and step % max(log_every, 1) == 0:
            log.scalar('train/loss', total.item(), epoch * steps_per_epoch + step)
        bar.set_postfix(loss=f'{total.item():.3f}')
        if deadline is not None and broadcast_flag(time.monotonic() > deadline, device):
            stopped = True
            break
    bar.close()
    seconds = time.perf_counter() - start
    means = all_reduce_mean([sums[k] / max(seen, 1) for k in sums], device)
    result = dict(zip(sums, means))
    result.update(samples=seen, seconds=seconds,
                  samples_per_s=seen * world_size() / max(seconds, 1e-9), stopped_early=stopped)
    return result


@torch.no_grad()
def evaluate_model(model, dataset, preset, crop_config, device, batch_size=32, max_frames=0):
    """Return the report of core.evaluate on ``dataset`` (mean 3D error, mAP or PDJ)."""
    from a2j_ros.core.evaluate import evaluate_dataset
    net = unwrap(model)
    was_training = net.training
    net.eval()
    try:
        report, _pred = evaluate_dataset(net, dataset, preset, crop_config=crop_config,
                                         batch_size=batch_size, device=device,
                                         max_frames=max_frames or None)
    finally:
        net.train(was_training)
    return report


def mean_pose_baseline(train_crops, val_dataset, preset, crop_config, max_train=300,
                       max_val=0):
    """Return the report of predicting the mean training pose (in crop coordinates).

    The mean of the crop targets (u, v, T^d) of up to ``max_train`` un-augmented training
    items is mapped through every validation frame's own crop, so the baseline knows the crop
    centre (or box) like the network does. This is the error a network that ignores its
    input would reach.
    """
    from a2j_ros.core.cropping import body_boxes, CropTransform, hand_boxes
    from a2j_ros.core.evaluate import evaluate_predictions
    from a2j_ros.core.layouts import get_layout
    augmenter, train_crops.augmenter = train_crops.augmenter, None
    try:
        count = min(len(train_crops), max_train)
        targets = np.stack([train_crops[i]['target'].numpy() for i in range(count)])
    finally:
        train_crops.augmenter = augmenter
    mean_target = targets.mean(axis=0)
    count = len(val_dataset) if not max_val else min(len(val_dataset), max_val)
    rows, gts = [], []
    for i in range(count):
        sample = val_dataset[i]
        if not sample.valid:
            continue
        shape = sample.depth.shape
        if crop_config.mode == 'hand':
            rows.append(hand_boxes(np.asarray(sample.centre_uvd, np.float64)[None],
                                   val_dataset.camera, crop_config, shape)[0])
        else:
            rows.append(body_boxes(np.asarray(sample.box, np.float64)[None], crop_config,
                                   shape)[0])
        gts.append(np.asarray(sample.joints_uvd, np.float64))
    transform = CropTransform(np.stack(rows))
    pred = transform.to_image(np.repeat(mean_target[None].astype(np.float64), len(rows), 0))
    gt = np.stack(gts)
    layout = get_layout(val_dataset.layout)
    metric = preset.metric
    if metric == 'pdj':
        return evaluate_predictions(pred[..., :2], gt[..., :2], layout.name, 'pdj')
    camera = val_dataset.camera
    return evaluate_predictions(camera.unproject(pred), camera.unproject(gt), layout.name,
                                metric)


__all__ = ['NonFiniteLossError', 'evaluate_model', 'mean_pose_baseline', 'train_one_epoch']
