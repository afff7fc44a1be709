"""Package layout: the code lives in renderer/, while templates/ and schemas/ stay at the top of the
repository (where reviewers find them) and are installed as renderer.templates / renderer.schemas."""

from setuptools import find_packages, setup

setup(
    packages=[*find_packages(include=["renderer", "renderer.*"]), "renderer.templates", "renderer.templates.as3",
              "renderer.schemas"],
    package_dir={"renderer.templates": "templates", "renderer.templates.as3": "templates/as3",
                 "renderer.schemas": "schemas"},
)
