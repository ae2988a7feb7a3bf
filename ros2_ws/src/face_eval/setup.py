from setuptools import find_packages, setup

PACKAGE = "face_eval"

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
    description="Accuracy evaluation of the face cores, and a store-day scenario video generator.",
    license="Apache-2.0",
    entry_points={
        "console_scripts": [
            "face_predict = face_eval.predict:main",
            "face_metrics = face_eval.scoring:main",
            "face_scenario = face_eval.scenario:main",
            "face_accuracy_gate = face_eval.accuracy_gate:main",
        ],
    },
)
