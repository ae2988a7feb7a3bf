from setuptools import find_packages, setup

PACKAGE = "kafka_bridge"

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
    description="Relays camera frames and face events between ROS 2 and Apache Kafka.",
    license="Apache-2.0",
    entry_points={
        "console_scripts": [
            "frames_out = kafka_bridge.frames_out_node:main",
            "frames_in = kafka_bridge.frames_in_node:main",
            "events_out = kafka_bridge.events_out_node:main",
        ],
    },
)
