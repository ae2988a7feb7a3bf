from setuptools import find_packages, setup

PACKAGE = "signage_node"

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
    description="Offer rules (YAML) and the signage node publishing the offer for the person in front.",
    license="Apache-2.0",
    entry_points={
        "console_scripts": [
            "signage_node = signage_node.signage_node:main",
        ],
    },
)
