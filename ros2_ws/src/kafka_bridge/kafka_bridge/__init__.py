"""Kafka bridge: camera frames out of and into ROS 2, face events out to Kafka."""
