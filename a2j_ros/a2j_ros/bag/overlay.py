"""Overlay images: a colour-mapped depth frame with predicted and ground-truth skeletons."""
import numpy as np

PRED_COLOUR = '#ff2d2d'     # predictions: red
GT_COLOUR = '#00e05a'       # ground truth: green
ROI_COLOUR = '#ffd60a'      # ROI boxes: yellow


def colourise_depth(depth_mm, cmap='bone', near_far_mm=None):
    """Return an (H, W, 3) float RGB image; near is bright, invalid pixels are black.

    ``near_far_mm`` = (near, far) is the depth range spread over the colour map (depths
    outside it get the end colours); by default the 2nd to 98th percentile of valid depths.
    """
    from matplotlib import colormaps
    depth = np.asarray(depth_mm, dtype=np.float32)
    valid = np.isfinite(depth) & (depth > 0)
    rgb = np.zeros(depth.shape + (3,), dtype=np.float32)
    if not valid.any():
        return rgb
    lo, hi = near_far_mm or np.percentile(depth[valid], [2.0, 98.0])
    # 0.2 .. 1: the far end stays grey, so it differs from invalid (black) pixels.
    scaled = 0.2 + 0.8 * np.clip((hi - depth) / max(hi - lo, 1e-6), 0.0, 1.0)
    rgb[valid] = colormaps[cmap](scaled[valid])[:, :3]
    return rgb


def skeleton_depth_range(*uvd_sets):
    """Return (near, far) mm around the joints' depths (a margin of 30% + 50 mm), or None."""
    depths = [np.asarray(u, dtype=np.float64).reshape(-1, 3)[:, 2] for s in uvd_sets for u in s]
    depths = np.concatenate(depths) if depths else np.zeros(0)
    depths = depths[np.isfinite(depths) & (depths > 0)]
    if depths.size == 0:
        return None
    margin = 0.3 * (depths.max() - depths.min()) + 50.0
    return float(depths.min() - margin), float(depths.max() + margin)


def _draw_skeleton(ax, uvd, bones, colour, label):
    uvd = np.asarray(uvd, dtype=np.float64).reshape(-1, 3)
    finite = np.isfinite(uvd[:, :2]).all(axis=1)
    for a, b in bones:
        if finite[a] and finite[b]:
            ax.plot(uvd[[a, b], 0], uvd[[a, b], 1], '-', color=colour, linewidth=1.5)
    ax.plot(uvd[finite, 0], uvd[finite, 1], 'o', color=colour, markersize=3, label=label)


def save_overlay(path, depth_mm, bones, pred_uvd=(), gt_uvd=(), rois=(), title=''):
    """Write a PNG of the depth frame with skeletons drawn in full-image pixels.

    ``pred_uvd`` and ``gt_uvd`` are sequences of (K, 3) arrays (one per instance); the
    grey levels span the skeletons' depth range (the scene behind them is dark); ``rois``
    (M, 4) x, y, width, height boxes are drawn as dashed yellow rectangles.
    """
    from matplotlib.figure import Figure
    from matplotlib.patches import Rectangle

    height, width = np.asarray(depth_mm).shape
    scale = max(1.0, 480.0 / max(height, 1))
    fig = Figure(figsize=(width * scale / 100.0, height * scale / 100.0), dpi=100)
    ax = fig.add_axes([0, 0, 1, 1])
    near_far = skeleton_depth_range(pred_uvd, gt_uvd)
    ax.imshow(colourise_depth(depth_mm, near_far_mm=near_far), interpolation='nearest')
    for x, y, w, h in np.asarray(rois, dtype=np.float64).reshape(-1, 4):
        ax.add_patch(Rectangle((x - 0.5, y - 0.5), w, h, fill=False, edgecolor=ROI_COLOUR,
                               linewidth=1.0, linestyle='--'))
    for i, uvd in enumerate(gt_uvd):
        _draw_skeleton(ax, uvd, bones, GT_COLOUR, 'ground truth' if i == 0 else None)
    for i, uvd in enumerate(pred_uvd):
        _draw_skeleton(ax, uvd, bones, PRED_COLOUR, 'A2J' if i == 0 else None)
    ax.set_xlim(-0.5, width - 0.5)
    ax.set_ylim(height - 0.5, -0.5)
    ax.axis('off')
    if len(pred_uvd) or len(gt_uvd):
        ax.legend(loc='lower right', fontsize=8, framealpha=0.6)
    if title:
        ax.text(4, 4, title, color='white', fontsize=8, va='top',
                bbox={'facecolor': 'black', 'alpha': 0.5, 'pad': 2})
    fig.savefig(path)
    return path


__all__ = ['GT_COLOUR', 'PRED_COLOUR', 'colourise_depth', 'save_overlay',
           'skeleton_depth_range']
