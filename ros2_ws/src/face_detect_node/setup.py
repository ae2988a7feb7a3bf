from setuptools import find_packages, setup

PACKAGE = "face_detect_node"

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
    description="Face detection (RetinaFace, Haar, dlib HOG/CNN) and tracking; the annotated image.",
    license="Apache-2.0",
    entry_points={
        "console_scripts": [
            f"face_detect_node = {PACKAGE}.face_detect_node:main",
            f"face_annotator = {PACKAGE}.annotator_node:main",
        ],
    },
)
