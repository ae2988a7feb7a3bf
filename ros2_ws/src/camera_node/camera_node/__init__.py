"""Camera node: publishes frames from cameras, files, streams or rosbag2 bags; plus a bag recorder."""
