"""Data-parallel helpers for ``torchrun`` (DDP): gloo on CPU, NCCL on CUDA.

``torchrun --nproc_per_node=2 -m a2j_ros.cli train ...`` sets RANK, WORLD_SIZE, LOCAL_RANK and
the rendezvous address; without them everything here is a no-op for one process.
"""
import os

import torch
import torch.distributed as dist


def world_size():
    """Return the number of processes of this run (1 without torchrun)."""
    return dist.get_world_size() if dist.is_available() and dist.is_initialized() else 1


def rank():
    """Return this process' rank (0 without torchrun)."""
    return dist.get_rank() if dist.is_available() and dist.is_initialized() else 0


def is_main():
    """Return True in the process that logs, evaluates and writes checkpoints."""
    return rank() == 0


def init_distributed(device):
    """Join the process group when started by torchrun; return the device of this process.

    ``device`` is the resolved torch.device; on CUDA each process takes GPU LOCAL_RANK.
    """
    if int(os.environ.get('WORLD_SIZE', '1')) <= 1 or not dist.is_available():
        return device
    if dist.is_initialized():
        return device
    if device.type == 'cuda':
        local = int(os.environ.get('LOCAL_RANK', '0'))
        torch.cuda.set_device(local)
        device = torch.device('cuda', local)
        dist.init_process_group('nccl')
    else:
        dist.init_process_group('gloo')
    return device


def barrier():
    """Wait for every process (no-op for one process)."""
    if world_size() > 1:
        dist.barrier()


def all_reduce_mean(values, device):
    """Return the mean over processes of a list of floats."""
    if world_size() == 1:
        return list(values)
    tensor = torch.tensor(list(values), dtype=torch.float64, device=device)
    dist.all_reduce(tensor)
    return (tensor / world_size()).tolist()


def broadcast_flag(flag, device):
    """Return rank 0's boolean ``flag`` in every process (e.g. stop now)."""
    if world_size() == 1:
        return bool(flag)
    tensor = torch.tensor([1 if flag else 0], dtype=torch.int32, device=device)
    dist.broadcast(tensor, 0)
    return bool(tensor.item())


def cleanup():
    """Leave the process group."""
    if dist.is_available() and dist.is_initialized():
        dist.destroy_process_group()


def unwrap(model):
    """Return the module inside a DistributedDataParallel wrapper (or the model itself)."""
    return model.module if hasattr(model, 'module') else model


__all__ = ['all_reduce_mean', 'barrier', 'broadcast_flag', 'cleanup', 'init_distributed',
           'is_main', 'rank', 'unwrap', 'world_size']
