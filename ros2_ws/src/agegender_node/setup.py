from setuptools import find_packages, setup

PACKAGE = "agegender_node"

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
    description="Age and gender of each face: dlib-models, face-api.js or WideResNet (IMDB-WIKI), in ONNX.",
    license="Apache-2.0",
    entry_points={
        "console_scripts": [
            f"agegender_node = {PACKAGE}.agegender_node:main",
            f"agegender_fetch_models = {PACKAGE}.model_files:main",
        ],
    },
)
