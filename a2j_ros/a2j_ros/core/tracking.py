"""Multi-instance tracking of skeletons over time: stable ids, birth, confirmation, death.

One ``Track`` per hand or body. Each frame, the frame's skeletons (detections, (K, 3) mm)
are associated with the tracks by 3D distance: the cost of a (detection, track) pair is
the mean over joints of the distance between the detection's joints and the track's joints
predicted to the frame's stamp (constant velocity of the skeleton's centre). Pairs above
``gate_mm`` are forbidden; the assignment minimising the summed cost is found by
``scipy.optimize.linear_sum_assignment``. Then:

* a matched track takes the detection (hits + 1) and is confirmed after ``min_hits``
  consecutive hits; its joints are smoothed by its own One Euro filter (core.one_euro);
* an unmatched detection starts a tentative track, unless it lies within the gate of a
  track matched in this frame (a second crop of the same instance: a duplicate);
* two tracks matched in this frame whose skeletons lie within half the gate of each other
  follow one instance: the one with the larger running association cost is deleted;
* a tentative track that misses a frame is dropped (it never got an id the user saw);
* a confirmed track that gets no detection for more than ``timeout_s`` of stamp time (not
  frames: dropped frames and a variable rate do not change how long a track survives) is
  deleted, and its id is reported as lost.

Ids come from a counter that starts at 1 and is never reset, so an id is never reused in a
run (a hand that leaves and comes back after the timeout gets a new id). A stamp that goes
back by more than the timeout (a bag restarted, simulated time reset) ends every track.
ROS-free: numpy and scipy.
"""
from dataclasses import dataclass, field

import numpy as np
from scipy.optimize import linear_sum_assignment

from a2j_ros.core.errors import InputError
from a2j_ros.core.one_euro import OneEuroFilter

FORBIDDEN = 1e9         # cost of a pair outside the gate (finite: the solver needs one)


@dataclass
class SmoothingSettings:
    """One Euro parameters (Hz, 1/mm); ``enabled = False`` or min_cutoff 0 turns it off."""

    enabled: bool = True
    min_cutoff: float = 1.0
    beta: float = 0.05
    d_cutoff: float = 1.0


@dataclass
class TrackerSettings:
    """How detections become tracks (millimetres, seconds)."""

    gate_mm: float = 80.0           # mean joint distance above which a pair cannot match
    min_hits: int = 3               # consecutive hits before a track is confirmed (shown)
    timeout_s: float = 0.5          # stamp time without a detection before a track is deleted
    min_confidence: float = 0.0     # detections with a lower mean confidence are ignored
    velocity_smoothing: float = 0.5     # weight of the newest centre velocity (0..1]
    max_prediction_s: float = 0.2   # constant-velocity prediction reaches at most this far
    smoothing: SmoothingSettings = field(default_factory=SmoothingSettings)

    def check(self):
        """Raise InputError naming the first setting out of range."""
        if not self.gate_mm > 0:
            raise InputError(f'tracking gate must be > 0 mm, got {self.gate_mm}')
        if int(self.min_hits) < 1:
            raise InputError(f'min_hits must be >= 1, got {self.min_hits}')
        if not self.timeout_s > 0:
            raise InputError(f'track timeout must be > 0 s, got {self.timeout_s}')
        if not 0.0 < self.velocity_smoothing <= 1.0:
            raise InputError(f'velocity_smoothing must be in (0, 1], got '
                             f'{self.velocity_smoothing}')
        s = self.smoothing
        if min(s.min_cutoff, s.beta, s.d_cutoff) < 0:
            raise InputError('One Euro min_cutoff, beta and d_cutoff must be >= 0')
        return self


def skeleton_centre(joints):
    """Return the mean of the finite joints (3,), NaN if none is finite."""
    joints = np.asarray(joints, dtype=np.float64).reshape(-1, 3)
    centre = joints.mean(axis=0)
    if np.isfinite(centre).all():
        return centre
    finite = np.all(np.isfinite(joints), axis=1)
    return joints[finite].mean(axis=0) if finite.any() else np.full(3, np.nan)


class Track:
    """One hand or body followed over time."""

    def __init__(self, track_id, joints, confidence, stamp_s, smoothing):
        self.id = int(track_id)
        self.joints = np.asarray(joints, dtype=np.float64).copy()      # last detection (K, 3)
        self.confidence = np.asarray(confidence, dtype=np.float64).copy()
        self.centre = skeleton_centre(self.joints)
        self.velocity = np.zeros(3)             # centre velocity, mm/s
        self.first_stamp = self.last_stamp = float(stamp_s)
        self.hits = 1
        self.residual_mm = 0.0                  # running mean of its association costs
        self.confirmed = False
        self.filter = OneEuroFilter(smoothing.min_cutoff, smoothing.beta, smoothing.d_cutoff,
                                    smoothing.enabled)
        self.smoothed = self.filter(self.joints, stamp_s)

    def predict(self, stamp_s, max_prediction_s):
        """Return (joints (K, 3), centre (3,)) moved with the centre velocity to ``stamp_s``."""
        dt = min(max(float(stamp_s) - self.last_stamp, 0.0), max_prediction_s)
        shift = self.velocity * dt
        return self.joints + shift, self.centre + shift

    def update(self, joints, confidence, stamp_s, velocity_weight, cost_mm=0.0):
        """Take a detection (``cost_mm`` off the prediction): joints, velocity, smoothing."""
        self.residual_mm = 0.7 * self.residual_mm + 0.3 * float(cost_mm)
        joints = np.asarray(joints, dtype=np.float64)
        centre = skeleton_centre(joints)
        dt = float(stamp_s) - self.last_stamp
        if dt > 0 and np.all(np.isfinite(centre)) and np.all(np.isfinite(self.centre)):
            measured = (centre - self.centre) / dt
            self.velocity = velocity_weight * measured + (1.0 - velocity_weight) * self.velocity
        self.joints, self.centre = joints.copy(), centre
        self.confidence = np.asarray(confidence, dtype=np.float64).copy()
        self.last_stamp = max(self.last_stamp, float(stamp_s))
        self.hits += 1
        self.smoothed = self.filter(joints, stamp_s)


@dataclass
class TrackUpdate:
    """What one ``Tracker.update`` did."""

    assigned: dict = field(default_factory=dict)    # detection index -> Track (confirmed)
    tentative: dict = field(default_factory=dict)   # detection index -> Track (not yet shown)
    duplicates: list = field(default_factory=list)  # detection indices dropped as duplicates
    ignored: list = field(default_factory=list)     # detection indices below min_confidence
    lost: list = field(default_factory=list)        # ids of confirmed tracks deleted now


def association_cost(detections, predicted):
    """Return the (D, T) mean joint distance (mm) between detections and predicted tracks.

    Both are (N, K, 3); joints non-finite in either are left out of a pair's mean; a pair
    with no common finite joint costs FORBIDDEN.
    """
    det = np.asarray(detections, dtype=np.float64)
    trk = np.asarray(predicted, dtype=np.float64)
    if len(det) == 0 or len(trk) == 0:
        return np.zeros((len(det), len(trk)))
    dist = np.linalg.norm(det[:, None] - trk[None], axis=-1)            # (D, T, K)
    finite = np.isfinite(dist)
    count = finite.sum(axis=-1)
    total = np.where(finite, dist, 0.0).sum(axis=-1)
    with np.errstate(invalid='ignore', divide='ignore'):
        cost = total / count
    return np.where(count > 0, cost, FORBIDDEN)


def associate(cost, gate):
    """Return (matches [(row, col)], unmatched rows, unmatched cols) of a gated assignment.

    ``linear_sum_assignment`` on ``cost`` with pairs above ``gate`` forbidden: a pair is
    kept only when its cost is at most the gate.
    """
    rows_n, cols_n = cost.shape
    if rows_n == 0 or cols_n == 0:
        return [], list(range(rows_n)), list(range(cols_n))
    gated = np.where(cost <= gate, cost, FORBIDDEN)
    rows, cols = linear_sum_assignment(gated)
    matches = [(int(r), int(c)) for r, c in zip(rows, cols) if gated[r, c] <= gate]
    used_r = {r for r, _ in matches}
    used_c = {c for _, c in matches}
    return (matches, [r for r in range(rows_n) if r not in used_r],
            [c for c in range(cols_n) if c not in used_c])


class Tracker:
    """Tracks of one camera stream (see the module docstring)."""

    def __init__(self, settings=None):
        self.settings = (settings or TrackerSettings()).check()
        self.tracks = []
        self._next_id = 1
        self._last_stamp = None

    @property
    def confirmed(self):
        """Return the confirmed tracks."""
        return [t for t in self.tracks if t.confirmed]

    def set_smoothing(self, smoothing):
        """Change the One Euro parameters of every track, now and for new tracks."""
        self.settings.smoothing = smoothing
        for track in self.tracks:
            f = track.filter
            f.min_cutoff, f.beta, f.d_cutoff = (smoothing.min_cutoff, smoothing.beta,
                                                smoothing.d_cutoff)
            f.enabled = smoothing.enabled

    def reset(self):
        """End every track (ids keep counting: none is reused)."""
        lost = [t.id for t in self.tracks if t.confirmed]
        self.tracks = []
        self._last_stamp = None
        return lost

    def _merge_duplicates(self, updated, out):
        """Delete tracks that now follow the same instance as another; return lost ids.

        Two tracks updated in this frame whose joints lie within half the gate (mean joint
        distance) follow one instance (two crops converged on one hand). The one that
        followed it worse (larger running association cost; on a tie the younger) goes.
        """
        if len(updated) < 2:
            return []
        cost = association_cost([t.joints for t in updated], [t.joints for t in updated])
        gone = set()
        limit = 0.5 * self.settings.gate_mm
        for i, j in zip(*np.nonzero(np.triu(cost <= limit, k=1))):
            a, b = updated[i], updated[j]
            if a.id in gone or b.id in gone:
                continue
            worse = max((a, b), key=lambda t: (round(t.residual_mm, 6), t.id))
            gone.add(worse.id)
        if not gone:
            return []
        for key in [k for k, t in out.assigned.items() if t.id in gone]:
            out.duplicates.append(key)
            del out.assigned[key]
        for key in [k for k, t in out.tentative.items() if t.id in gone]:
            out.duplicates.append(key)
            del out.tentative[key]
        lost = [t.id for t in self.tracks if t.id in gone and t.confirmed]
        self.tracks = [t for t in self.tracks if t.id not in gone]
        return lost

    def expire(self, stamp_s):
        """Delete the tracks whose timeout has passed at ``stamp_s``; return the lost ids."""
        stamp_s = float(stamp_s)
        lost = []
        if self._last_stamp is not None and stamp_s < self._last_stamp - self.settings.timeout_s:
            lost = self.reset()
        keep = []
        for track in self.tracks:
            if stamp_s - track.last_stamp > self.settings.timeout_s:
                if track.confirmed:
                    lost.append(track.id)
            else:
                keep.append(track)
        self.tracks = keep
        return lost

    def predicted(self, stamp_s):
        """Return [(track, joints (K, 3), centre (3,))] predicted to ``stamp_s``."""
        return [(t, *t.predict(stamp_s, self.settings.max_prediction_s)) for t in self.tracks]

    def update(self, detections, confidences, stamp_s):
        """Associate a frame's detections (list of (K, 3) mm) with the tracks; a TrackUpdate."""
        s = self.settings
        stamp_s = float(stamp_s)
        out = TrackUpdate(lost=self.expire(stamp_s))
        self._last_stamp = stamp_s if self._last_stamp is None else max(self._last_stamp,
                                                                           stamp_s)
        detections = [np.asarray(d, dtype=np.float64) for d in detections]
        confidences = [np.asarray(c, dtype=np.float64) for c in confidences]
        usable = []
        for i, conf in enumerate(confidences):
            if conf.size and float(np.mean(conf)) < s.min_confidence:
                out.ignored.append(i)
            else:
                usable.append(i)
        predicted = self.predicted(stamp_s)
        cost = association_cost([detections[i] for i in usable], [p[1] for p in predicted])
        cost = cost.reshape(len(usable), len(predicted))
        matches, new_rows, missed_cols = associate(cost, s.gate_mm)
        for r, c in matches:
            track = predicted[c][0]
            track.update(detections[usable[r]], confidences[usable[r]], stamp_s,
                         s.velocity_smoothing, cost[r, c])
            track.confirmed = track.confirmed or track.hits >= s.min_hits
            (out.assigned if track.confirmed else out.tentative)[usable[r]] = track
        matched_cols = [c for _, c in matches]
        for c in missed_cols:            # a tentative track must hit every frame
            track = predicted[c][0]
            if not track.confirmed and stamp_s > track.last_stamp:
                self.tracks.remove(track)
        out.lost += self._merge_duplicates([predicted[c][0] for _, c in matches], out)
        for r in new_rows:
            if matched_cols and np.min(cost[r, matched_cols]) <= s.gate_mm:
                out.duplicates.append(usable[r])
                continue
            index = usable[r]
            track = Track(self._next_id, detections[index], confidences[index], stamp_s,
                          s.smoothing)
            self._next_id += 1
            track.confirmed = s.min_hits <= 1
            self.tracks.append(track)
            (out.assigned if track.confirmed else out.tentative)[index] = track
        return out


__all__ = ['FORBIDDEN', 'SmoothingSettings', 'Track', 'TrackUpdate', 'Tracker',
           'TrackerSettings', 'associate', 'association_cost', 'skeleton_centre']
