"""Age/gender estimation for the face graph: ROS-free cores plus a thin rclpy node."""
