"""The one compiled module, beside pyproject.toml (which holds everything else).

app/screening/_align.c is the screening matcher's name alignment in C; optional: where it
cannot be built, matcher.best_names scores in Python with the same results, slower."""

from setuptools import Extension, setup

setup(
    ext_modules=[
        Extension(
            "app.screening._align",
            ["app/screening/_align.c"],
            extra_compile_args=["-O2"],
            optional=True,
        )
    ]
)
