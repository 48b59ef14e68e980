"""Builds both native parts of dicomfast into one wheel.

* ``dicomfast._core``: the PyO3 crate ``rust/dicomfast-py`` (cargo, release profile).
* ``dicomfast._display``: the Cython pixel kernels in ``cython/``.

setuptools + setuptools-rust is the route because one short file drives both
cargo and Cython, and ``pip install .`` / ``pip install -e .`` work unchanged
(see README, "Development").
"""

import os
import subprocess
import sys
import sysconfig
import tempfile

import numpy
from Cython.Build import cythonize
from setuptools import Extension, setup
from setuptools_rust import Binding, RustExtension


def openmp_flags() -> list[str]:
    """``["-fopenmp"]`` if the C compiler builds and links an OpenMP program, else ``[]``
    (the Cython ``prange`` loops then run serially).  ``DICOMFAST_OPENMP=0`` turns it off."""
    if os.environ.get("DICOMFAST_OPENMP", "1") == "0" or sys.platform == "win32":
        return []
    cc = (sysconfig.get_config_var("CC") or "cc").split()
    src = "#include <omp.h>\nint main(void) { return omp_get_max_threads() > 0 ? 0 : 1; }\n"
    with tempfile.TemporaryDirectory() as tmp:
        c_file = os.path.join(tmp, "omp.c")
        with open(c_file, "w") as fh:
            fh.write(src)
        try:
            done = subprocess.run(
                [*cc, "-fopenmp", c_file, "-o", os.path.join(tmp, "omp")],
                capture_output=True,
                timeout=60,
            )
        except (OSError, subprocess.TimeoutExpired):
            return []
    return ["-fopenmp"] if done.returncode == 0 else []


OPENMP = openmp_flags()
cython_kernels = [
    Extension(
        "dicomfast._display",
        ["cython/_display.pyx"],
        include_dirs=[numpy.get_include()],
        define_macros=[("NPY_NO_DEPRECATED_API", "NPY_1_7_API_VERSION")],
        # No contraction into FMA: results stay bit-identical to numpy's.  No
        # trapping math: lets the compiler turn the windowing's selects into vector
        # blends (values unchanged; only FP exception flags, which Python ignores).
        extra_compile_args=["-O3", "-ffp-contract=off", "-fno-trapping-math", *OPENMP],
        extra_link_args=OPENMP,
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
            # cargo --locked by default: the build uses Cargo.lock as committed and fails
            # rather than resolving newer crates.  DICOMFAST_LOCKED=0 lets cargo update it.
            args=[] if os.environ.get("DICOMFAST_LOCKED", "1") == "0" else ["--locked"],
        )
    ],
    ext_modules=cythonize(
        cython_kernels,
        compiler_directives={"language_level": 3},
    ),
    zip_safe=False,
)
