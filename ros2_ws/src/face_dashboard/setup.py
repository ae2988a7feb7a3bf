from setuptools import find_packages, setup

PACKAGE = "face_dashboard"

setup(
    name=PACKAGE,
    version="0.1.0",
    packages=find_packages(exclude=["test"]),
    package_data={PACKAGE: ["static/*"]},
    data_files=[
        ("share/ament_index/resource_index/packages", [f"resource/{PACKAGE}"]),
        (f"share/{PACKAGE}", ["package.xml"]),
    ],
    install_requires=["setuptools"],
    zip_safe=False,
    description="Store dashboard and signage page: the report's numbers in a browser, live, with a JSON API.",
    license="Apache-2.0",
    entry_points={
        "console_scripts": [
            "face_dashboard = face_dashboard.main:main",
        ],
    },
)
