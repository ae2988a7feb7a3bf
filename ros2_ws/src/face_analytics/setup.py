from setuptools import find_packages, setup

PACKAGE = "face_analytics"

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
    description="Store report (tables and plots) and offline processing of videos/image folders.",
    license="Apache-2.0",
    entry_points={
        "console_scripts": [
            "face_report = face_analytics.report:main",
            "face_offline = face_analytics.offline:main",
            "face_erase = face_analytics.erase:main",
            "face_visits = face_analytics.visits:main",
            "face_merge = face_analytics.merge:main",
            "face_heatmap = face_analytics.heatmap:main",
            # Command-line tools of kafka_bridge: kept on PATH (bin/), unlike its nodes in lib/kafka_bridge.
            "events_to_db = kafka_bridge.events_to_db:main",
            "local_kafka_broker = kafka_bridge.local_broker:main",
        ],
    },
)
