#!/usr/bin/env bash
# Runs the test suite (pytest) in the set-up environment. Used by `make test` and CI.
# Arguments go to pytest (default: the a2j_ros/test and tools folders).
set -uo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
# shellcheck disable=SC1091
source env.sh
# A private DDS domain per run, traffic kept on this machine: parallel runs don't cross-talk.
export ROS_DOMAIN_ID=${ROS_DOMAIN_ID:-$(( ($$ % 100) + 100 ))}
export ROS_AUTOMATIC_DISCOVERY_RANGE=${ROS_AUTOMATIC_DISCOVERY_RANGE:-LOCALHOST}
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-2}
export MPLBACKEND=Agg
if [ $# -eq 0 ]; then set -- a2j_ros/test tools; fi
# -rs: the reason of every skip is printed at the end (only CUDA, launch_ros, ruff may skip)
python -m pytest -q -p no:cacheprovider -rs "$@"
rc=$?
if [ $rc -eq 5 ]; then echo "run_tests: pytest collected no tests"; fi
exit $rc
