#!/usr/bin/env bash
# `make demo` (after `make setup`): replay the bundled sample bag through the pose node, live
# over DDS with sim time, using the bundled demo checkpoint; the report goes to demo_out/.
# Options are passed on to `a2j replay` (e.g. `bash scripts/demo.sh --mode offline`).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
# shellcheck disable=SC1091
source env.sh

out="$root/demo_out"
# The installed copies (share/a2j_ros/data) first, then the source tree.
find_data() {  # file name -> path, or nothing
  local name=$1 dir
  for dir in "$root/install/a2j_ros/share/a2j_ros/data" "$root/a2j_ros/data"; do
    if [ -f "$dir/$name" ]; then echo "$dir/$name"; return 0; fi
  done
}
bag=$(find_data sample_hand.mcap || true)
checkpoint=$(find_data demo_hand_r18.pt || true)

missing=0
if [ -z "$bag" ]; then
  echo "make demo: missing the sample bag a2j_ros/data/sample_hand.mcap" >&2
  echo "  make it with: a2j make-bag --dataset synthetic_hand --out a2j_ros/data/sample_hand.mcap" >&2
  missing=1
fi
if [ -z "$checkpoint" ]; then
  echo "make demo: missing the demo checkpoint a2j_ros/data/demo_hand_r18.pt" >&2
  echo "  train it with: a2j train --config a2j_ros/config/train/synthetic_hand.yaml (docs/training.md)" >&2
  missing=1
fi
[ "$missing" = 0 ] || exit 1

rm -rf "$out"
echo "make demo: replaying $bag"
echo "           through the pose node (live, over DDS, sim time) with $checkpoint"
a2j replay "$bag" --checkpoint "$checkpoint" --report "$out" --mode live \
  --roi-source topic --device cpu "$@"
echo
echo "make demo: report $out/report.json, plots in $out/plots/, overlay images in $out/overlays/"
