from setuptools import find_packages, setup

PACKAGE = "camera_node"

setup(
    name=PACKAGE,
    version="0.1.0",
    packages=find_packages(exclude=["test"]),
    data_files=[
        ("share/ament_index/resource_index/packages", [f"resource/{PACKAGE}"]),
        (f"share/{PACKAGE}", ["package.xml"]),
    ],
    install_requires=["setuptools"],
    zip_safe=True,
    description="Camera/stream/file/folder/rosbag2 frames as sensor_msgs/Image; image bag recorder.",
    license="Apache-2.0",
    entry_points={
        "console_scripts": [
            "camera_node = camera_node.camera_node:main",
            "bag_recorder = camera_node.bag_recorder:main",
        ],
    },
)
