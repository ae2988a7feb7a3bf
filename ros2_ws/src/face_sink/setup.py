from setuptools import find_packages, setup

PACKAGE = "face_sink"

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
    description="Face event store (one schema for SQLite and MySQL) and the sink node writing it.",
    license="Apache-2.0",
    entry_points={
        "console_scripts": [
            "face_sink = face_sink.sink_node:main",
        ],
    },
)
