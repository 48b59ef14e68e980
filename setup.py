"""Builds both native parts of dicomfast into one wheel.

* ``dicomfast._core``: the PyO3 crate ``rust/dicomfast-py`` (cargo, release profile).
* ``dicomfast._display``: the Cython pixel kernels in ``cython/``.

setuptools + setuptools-rust is the route because one short file drives both
cargo and Cython, and ``pip install .`` / ``pip install -e .`` work unchanged
(see README, "Development").
"""

import os

import numpy
from Cython.Build import cythonize
from setuptools import Extension, setup
from setuptools_rust import Binding, RustExtension

cython_kernels = [
    Extension(
        "dicomfast._display",
        ["cython/_display.pyx"],
        include_dirs=[numpy.get_include()],
        define_macros=[("NPY_NO_DEPRECATED_API", "NPY_1_7_API_VERSION")],
        extra_compile_args=["-O3", "-ffp-contract=off"],  # no FMA: bit-identical to numpy
    )
]

setup(
    rust_extensions=[
        RustExtension(
            "dicomfast._core",
            path="rust/dicomfast-py/Cargo.toml",
            binding=Binding.PyO3,
            py_limited_api="auto",
            debug=os.environ.get("DICOMFAST_DEBUG_BUILD") == "1",
            args=["--locked"] if os.environ.get("DICOMFAST_LOCKED", "0") == "1" else [],
        )
    ],
    ext_modules=cythonize(
        cython_kernels,
        compiler_directives={"language_level": 3},
    ),
    zip_safe=False,
)
