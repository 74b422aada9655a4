"""Package list for setuptools; everything else is in pyproject.toml.

The Alembic migrations live in alembic/ at the top of the repository (where the
`alembic` command and a reader expect them) and ship inside the wheel as
lowart._migrations, so there is one copy of each. pyproject.toml cannot add a
remapped package next to a `find` directive, hence this file.
"""

from setuptools import find_namespace_packages, setup

setup(
    packages=[
        *find_namespace_packages(include=["lowart*"]),
        "lowart._migrations",
        "lowart._migrations.versions",
    ],
    package_dir={"lowart._migrations": "alembic"},
)
