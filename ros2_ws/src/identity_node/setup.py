from setuptools import find_packages, setup

PACKAGE = "identity_node"

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
    description="Anonymous persistent face IDs: dlib 128-D face descriptor and a SQLite-backed gallery.",
    license="Apache-2.0",
    entry_points={
        "console_scripts": [
            f"identity_node = {PACKAGE}.identity_node:main",
            f"identity_fetch_models = {PACKAGE}.model_files:main",
        ],
    },
)
