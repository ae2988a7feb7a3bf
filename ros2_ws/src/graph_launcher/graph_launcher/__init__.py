"""Runs the project's ROS 2 launch-YAML graphs where ``ros2 launch`` is not installed.

The core (parsing, command lines, environment, process supervision) needs no ROS: nodes are
plain processes started with ``--ros-args``, exactly as ``ros2 launch`` starts them.
"""
