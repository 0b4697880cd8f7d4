"""The one compiled module, beside pyproject.toml (which holds everything else).

app/screening/_align.c is the screening matcher's name alignment in C, _blocking.c the index's
candidate search and the token skeletons; both optional: where they cannot be built, the
matcher, the index and normalize.py do the same in Python with the same results, slower."""

from setuptools import Extension, setup

setup(
    ext_modules=[
        Extension(
            "app.screening._align",
            ["app/screening/_align.c"],
            extra_compile_args=["-O2"],
            optional=True,
        ),
        Extension(
            "app.screening._blocking",
            ["app/screening/_blocking.c"],
            extra_compile_args=["-O2"],
            optional=True,
        ),
    ]
)
