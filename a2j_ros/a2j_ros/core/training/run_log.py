"""Training logs in the run folder: ``train.log`` (text), ``metrics.csv`` and TensorBoard."""
import csv
import os
import sys
import time

CSV_FIELDS = ('epoch', 'lr', 'loss', 'in_plane', 'depth', 'surround', 'val_metric', 'val_value',
              'samples_per_s', 'epoch_s', 'elapsed_s')


class RunLog:
    """Write one run's logs; only the main process should create one."""

    def __init__(self, out_dir, tensorboard=True):
        self.out_dir = str(out_dir)
        os.makedirs(self.out_dir, exist_ok=True)
        self.text = open(os.path.join(self.out_dir, 'train.log'), 'a', encoding='utf-8')
        self.csv_path = os.path.join(self.out_dir, 'metrics.csv')
        self.writer = None
        if tensorboard:
            try:
                from torch.utils.tensorboard import SummaryWriter
                self.writer = SummaryWriter(os.path.join(self.out_dir, 'tensorboard'))
            except ImportError:             # tensorboard is optional
                self.writer = None

    def info(self, message):
        """Print a line and append it to train.log with a time stamp."""
        print(message, file=sys.stdout, flush=True)
        self.text.write(f'{time.strftime("%Y-%m-%d %H:%M:%S")} {message}\n')
        self.text.flush()

    def scalar(self, tag, value, step):
        """Add one TensorBoard point."""
        if self.writer is not None:
            self.writer.add_scalar(tag, value, step)

    def epoch(self, row):
        """Append one row (dict with CSV_FIELDS keys) to metrics.csv and TensorBoard."""
        new = not os.path.exists(self.csv_path)
        with open(self.csv_path, 'a', newline='', encoding='utf-8') as f:
            writer = csv.DictWriter(f, fieldnames=CSV_FIELDS)
            if new:
                writer.writeheader()
            writer.writerow({k: row.get(k, '') for k in CSV_FIELDS})
        for key in ('lr', 'loss', 'in_plane', 'depth', 'surround', 'samples_per_s'):
            if row.get(key) not in (None, ''):
                self.scalar(f'epoch/{key}', float(row[key]), int(row['epoch']))
        if row.get('val_value') not in (None, ''):
            self.scalar(f'val/{row["val_metric"]}', float(row['val_value']), int(row['epoch']))

    def close(self):
        """Flush and close the files."""
        self.text.close()
        if self.writer is not None:
            self.writer.close()


def read_metrics(path):
    """Return the rows of a metrics.csv as a list of dicts (for tests and tools)."""
    with open(path, newline='', encoding='utf-8') as f:
        return list(csv.DictReader(f))


__all__ = ['CSV_FIELDS', 'RunLog', 'read_metrics']
