#!/usr/bin/env bash
# One-time (and idempotent) setup on a plain Debian/Python machine: a venv with ROS 2 Kilted
# from PyPI, torch, the pinned Python dependencies, and a colcon build of both packages.
# Run again, every step that is already done is skipped in well under a second.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
venv="$root/.venv"
py=${PYTHON:-python3}

say() { echo "[setup] $*"; }

# 1. The virtual environment.
if [ ! -x "$venv/bin/python" ]; then
  say "creating $venv"
  "$py" -m venv "$venv"
fi
vpy="$venv/bin/python"

# 2. Pinned dependencies (requirements.txt is the one place they are pinned).
req_sum=$(sha256sum requirements.txt | cut -d' ' -f1)
if [ "$(cat "$venv/.a2j_requirements" 2>/dev/null)" != "$req_sum" ]; then
  say "installing requirements.txt (ROS 2 Kilted wheels, colcon, torch, ...); takes minutes once"
  mkdir -p log
  if ! "$vpy" -m pip install -q --disable-pip-version-check -r requirements.txt \
      >log/pip_install.txt 2>&1; then
    grep -v 'is ignored: it is neither' log/pip_install.txt | tail -30
    exit 1
  fi
  echo "$req_sum" > "$venv/.a2j_requirements"
fi

# 3. The ROS 2 wheels' CMake exports name two paths of the machine they were built on.
inc=$("$vpy" -c 'import sysconfig; print(sysconfig.get_paths()["include"])')
npinc=$("$vpy" -c 'import numpy; print(numpy.get_include())')
link_once() {  # target link
  if [ ! -e "$2" ]; then
    if ! mkdir -p "$(dirname "$2")" 2>/dev/null || ! ln -sfn "$1" "$2" 2>/dev/null; then
      echo "[setup] error: cannot create $2 -> $1 (needs write access to /opt)." >&2
      echo "[setup] run once as root: mkdir -p $(dirname "$2") && ln -s $1 $2" >&2
      exit 1
    fi
    say "linked $2 -> $1"
  fi
}
link_once "$inc" /opt/python/cp311-cp311/include/python3.11
link_once "$npinc" /opt/python/cp311-cp311/lib/python3.11/site-packages/numpy/_core/include

# 4. colcon build of a2j_ros_msgs and a2j_ros (symlink install: Python edits need no rebuild).
build_sum=$( { cat a2j_ros_msgs/CMakeLists.txt a2j_ros_msgs/package.xml a2j_ros_msgs/msg/*.msg \
    a2j_ros/setup.py a2j_ros/setup.cfg a2j_ros/package.xml;
  find a2j_ros/launch a2j_ros/config a2j_ros/data a2j_ros/a2j_ros -type f \
    -not -name '*.pyc' 2>/dev/null | sort || true; } | sha256sum | cut -d' ' -f1)
if [ "$(cat install/.a2j_build 2>/dev/null)" != "$build_sum" ]; then
  say "colcon build (a2j_ros_msgs, a2j_ros)"
  mkdir -p log
  (
    export VIRTUAL_ENV="$venv" PATH="$venv/bin:$PATH"
    export AMENT_PREFIX_PATH="$venv" CMAKE_PREFIX_PATH="$venv"
    "$venv/bin/colcon" --log-base log build --base-paths a2j_ros_msgs a2j_ros \
      --symlink-install --event-handlers console_cohesion- \
      --cmake-args -DPython3_EXECUTABLE="$vpy" -DBUILD_TESTING=OFF >log/colcon_build.txt 2>&1 \
      || { tail -40 log/colcon_build.txt; exit 1; }
  )
  echo "$build_sum" > install/.a2j_build
fi
say "ready: source env.sh"
