"""Face detection for the storefront graph: ROS-free detectors and crops, plus the rclpy node."""
