"""Parse the text label files of ICVL, HANDS 2017 and K2HPD: an image name, then numbers."""
import re

import numpy as np

from a2j_ros.core.datasets.base import require_file
from a2j_ros.core.errors import DatasetError

_SPLIT = re.compile(r'[\s,]+')


def read_labelled_lines(path, values_per_line, what):
    """Return (names list, values (N, values_per_line) float32) from a label text file.

    Each non-empty line is an image name followed by ``values_per_line`` numbers separated by
    spaces, tabs or commas. A line with another count or a non-number raises DatasetError
    naming the file and line.
    """
    require_file(path, what)
    names, rows = [], []
    try:
        with open(path, encoding='utf-8') as f:
            for number, line in enumerate(f, 1):
                tokens = [t for t in _SPLIT.split(line.strip()) if t]
                if not tokens:
                    continue
                if len(tokens) != values_per_line + 1:
                    raise DatasetError(f'{path}:{number}: expected an image name and '
                                       f'{values_per_line} numbers, got {len(tokens)} fields')
                try:
                    rows.append([float(t) for t in tokens[1:]])
                except ValueError:
                    raise DatasetError(f'{path}:{number}: non-numeric label value') from None
                names.append(tokens[0])
    except UnicodeDecodeError:
        raise DatasetError(f'{path}: not a text label file') from None
    if not names:
        raise DatasetError(f'{path}: no labelled frames')
    return names, np.asarray(rows, dtype=np.float32)


__all__ = ['read_labelled_lines']
