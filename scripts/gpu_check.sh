#!/usr/bin/env bash
# One-command GPU check, under 5 minutes: the CUDA tests, then `a2j bench --device cuda` for
# each CUDA backend (eager, fp16, onnx with the CUDA provider and IO binding, tensorrt, compile
# with CUDA graphs, auto) on ResNet-50 176 hand crops, with joint parity against eager fp32 on
# the CPU, two instances per frame against one, and the node's frame path on CUDA.
# Fails soft per backend: a missing provider or a failing build is reported, not fatal.
#
#   bash scripts/gpu_check.sh [OUT_DIR]          (default: $OUT if set, else gpu_check_out/)
#
# Needs a set-up checkout (make setup, or env.sh with torch + onnxruntime-gpu for the onnx and
# tensorrt rows). Exit 0: CUDA tests passed and every backend that ran is within 0.5 mm;
# 1: a test failed or a backend missed parity; 2: no CUDA device here.
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
OUTDIR=${1:-${OUT:-gpu_check_out}}
BUDGET_S=${GPU_CHECK_BUDGET_S:-285}       # whole script, seconds
BACKBONE=${GPU_CHECK_BACKBONE:-resnet50}
SIZE=${GPU_CHECK_SIZE:-176}
DEVICE=${GPU_CHECK_DEVICE:-cuda}          # cpu: a dry run of this script's own logic
mkdir -p "$OUTDIR"
if [ -f env.sh ]; then
    # shellcheck disable=SC1091
    source env.sh >/dev/null 2>&1 || true
fi
export ROS_AUTOMATIC_DISCOVERY_RANGE=LOCALHOST ROS_DOMAIN_ID=${ROS_DOMAIN_ID:-77}

remaining() { echo $(( BUDGET_S - SECONDS )); }

# step LIMIT_S NAME COMMAND...: run with a timeout capped by the remaining budget; echo its rc
step() {
    local limit=$1 name=$2
    shift 2
    local left
    left=$(remaining)
    if [ "$left" -lt 15 ]; then
        echo "[gpu_check] $name: skipped (the ${BUDGET_S} s budget is spent)" | tee -a "$OUTDIR/summary.txt"
        return 125
    fi
    [ "$limit" -gt "$left" ] && limit=$left
    echo "[gpu_check] $name (limit ${limit} s)"
    timeout --kill-after=10 "$limit" "$@" >"$OUTDIR/$name.log" 2>&1
    local rc=$?
    tail -n 25 "$OUTDIR/$name.log"
    return $rc
}

: > "$OUTDIR/summary.txt"
python - >"$OUTDIR/card.txt" 2>&1 <<'EOF'
import sys
import torch
if not torch.cuda.is_available():
    print('[gpu_check] no CUDA device here (torch.cuda.is_available() is False)')
    sys.exit(2)
props = torch.cuda.get_device_properties(0)
try:
    import onnxruntime
    providers = ', '.join(onnxruntime.get_available_providers())
except ImportError:
    providers = 'onnxruntime not installed'
print(f'[gpu_check] card: {torch.cuda.get_device_name(0)} ({props.total_memory / 2**30:.0f} GiB), '
      f'torch {torch.__version__} CUDA {torch.version.cuda}; onnxruntime providers: {providers}')
EOF
rc=$?
tee -a "$OUTDIR/summary.txt" <"$OUTDIR/card.txt"
if [ "$DEVICE" = cpu ]; then
    echo "[gpu_check] GPU_CHECK_DEVICE=cpu: dry run of the steps on the CPU" | tee -a "$OUTDIR/summary.txt"
elif [ $rc -ne 0 ]; then
    exit 2
fi

status=0
# the CUDA tests (they skip without CUDA); not the tests of this script itself
step 90 cuda_tests python -m pytest -q -p no:cacheprovider a2j_ros/test/test_backends.py \
    a2j_ros/test/test_checkpoint.py -k 'cuda and not without_cuda and not cpu_only'
rc=$?
if [ $rc -eq 0 ]; then
    echo "cuda tests: passed" | tee -a "$OUTDIR/summary.txt"
elif [ $rc -eq 5 ]; then
    echo "cuda tests: none collected" | tee -a "$OUTDIR/summary.txt"
else
    echo "cuda tests: FAILED (rc $rc, see $OUTDIR/cuda_tests.log)" | tee -a "$OUTDIR/summary.txt"
    status=1
fi

# backend, time limit, extra bench options
for spec in "eager 40" "fp16 40" "onnx 50" "tensorrt 100" "compile 90 --compile-mode reduce-overhead" "auto 60"; do
    set -- $spec
    backend=$1 limit=$2
    shift 2
    step "$limit" "bench_$backend" a2j bench --device "$DEVICE" --backend "$backend" \
        --backbone "$BACKBONE" --size "$SIZE" --iters 30 --warmup 5 --instances 2 \
        --json "$OUTDIR/bench_$backend.json" "$@"
    rc=$?
    case $rc in
        0) echo "$backend: ran" >>"$OUTDIR/summary.txt" ;;
        2) echo "$backend: unavailable: $(grep -m1 'error' "$OUTDIR/bench_$backend.log")" \
               | tee -a "$OUTDIR/summary.txt" ;;
        124|137) echo "$backend: timed out" | tee -a "$OUTDIR/summary.txt" ;;
        125) ;;
        *) echo "$backend: FAILED (rc $rc, see $OUTDIR/bench_$backend.log)" \
               | tee -a "$OUTDIR/summary.txt" ;;
    esac
done

step 60 node_frame_path python -m a2j_ros.ros.bench_node --device "$DEVICE" --frames 20 --roi-source topic
rc=$?
if [ $rc -eq 0 ]; then
    echo "node frame path on $DEVICE: ran (see $OUTDIR/node_frame_path.log)" >>"$OUTDIR/summary.txt"
else
    echo "node frame path on $DEVICE: rc $rc" | tee -a "$OUTDIR/summary.txt"
fi

python - "$OUTDIR" <<'EOF' | tee -a "$OUTDIR/summary.txt"
import glob, json, os, sys
out = sys.argv[1]
bad = False
print(f'{"backend":14s} {"ms/frame":>9s} {"FPS":>8s} {"diff mm":>8s} {"2 inst/1":>9s}  parity')
for path in sorted(glob.glob(os.path.join(out, 'bench_*.json'))):
    for row in json.load(open(path))['rows']:
        if row.get('skipped'):
            continue
        ok = row['diff_mm'] <= 0.5
        bad |= not ok
        print(f'{row["backend"]:14s} {row["ms"]:9.2f} {row["fps"]:8.1f} {row["diff_mm"]:8.3f} '
              f'{row.get("ratio", float("nan")):9.2f}  {"ok" if ok else "OVER 0.5 mm"}')
sys.exit(1 if bad else 0)
EOF
[ "${PIPESTATUS[0]}" -ne 0 ] && status=1
echo "[gpu_check] done in ${SECONDS} s; summary in $OUTDIR/summary.txt"
exit $status
