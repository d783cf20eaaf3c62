"""Packaging beyond what pyproject.toml can say: the repository's top-level ``geodata/`` and
``static/`` ship inside the wheel as the data packages ``app.geodata`` and ``app.static``
(``app.bundled`` finds them there), together with the page templates in ``app/web/templates``
and the standalone export's script.
Everything else about the package is in pyproject.toml.
"""

from setuptools import find_packages, setup

setup(
    packages=[*find_packages(include=["app", "app.*"]), "app.geodata", "app.static"],
    package_dir={"app.geodata": "geodata", "app.static": "static"},
    package_data={
        "app.web": ["templates/*.html"],
        "app.export": ["standalone.js"],  # the standalone export's script, inlined into the file
        "app.geodata": ["**/*"],
        "app.static": ["**/*"],
    },
    include_package_data=False,
)
