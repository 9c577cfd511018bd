# Source this file (bash) after `make setup`: a shell with rclpy, a2j_ros, a2j_ros_msgs,
# the `a2j` command and the package's ROS executables (pose_node, ...) on PATH.
_a2j_root=$(cd "$(dirname "${BASH_SOURCE[0]:-$0}")" && pwd)
if [ ! -f "$_a2j_root/install/setup.sh" ]; then
  echo "env.sh: not set up yet; run 'make setup' in $_a2j_root first" >&2
  return 1 2>/dev/null || exit 1
fi
# colcon's and venv's scripts read unset variables: allow that while sourcing them.
case $- in *u*) _a2j_nounset=1; set +u ;; *) _a2j_nounset= ;; esac
# shellcheck disable=SC1091
source "$_a2j_root/.venv/bin/activate"
export AMENT_PREFIX_PATH="$VIRTUAL_ENV${AMENT_PREFIX_PATH:+:$AMENT_PREFIX_PATH}"
export CMAKE_PREFIX_PATH="$VIRTUAL_ENV${CMAKE_PREFIX_PATH:+:$CMAKE_PREFIX_PATH}"
export COLCON_CURRENT_PREFIX="$_a2j_root/install"
# shellcheck disable=SC1091
. "$_a2j_root/install/setup.sh"
unset COLCON_CURRENT_PREFIX
[ -n "$_a2j_nounset" ] && set -u
unset _a2j_nounset
export PATH="$_a2j_root/install/a2j_ros/lib/a2j_ros:$PATH"
# No DDS/transport variable is set here: those are the user's (the pose node adapts its QoS
# to the camera's publishers; docs/transport.md).
unset _a2j_root
