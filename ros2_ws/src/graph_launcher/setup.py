from setuptools import find_packages, setup

PACKAGE = "graph_launcher"

setup(
    name=PACKAGE,
    version="0.1.0",
    packages=find_packages(exclude=["test"]),
    data_files=[
        ("share/ament_index/resource_index/packages", [f"resource/{PACKAGE}"]),
        (f"share/{PACKAGE}", ["package.xml"]),
    ],
    install_requires=["setuptools", "pyyaml"],
    zip_safe=True,
    description="Runs ROS 2 launch-YAML graphs without ros2 launch: one process per node, clean shutdown.",
    license="Apache-2.0",
    entry_points={
        "console_scripts": [
            f"graph_launch = {PACKAGE}.cli:main",
            f"graph_run = {PACKAGE}.run_cli:main",
            f"graph_params = {PACKAGE}.params_files:main",
            f"graph_diagnostics = {PACKAGE}.diagnostics_cli:main",
        ],
    },
)
