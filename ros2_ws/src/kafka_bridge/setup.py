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
)
