"""Sphinx configuration: ``sphinx-build -W -q -b html docs docs/_build/html``
(CI's "docs" step).  Needs dicomfast installed (autodoc imports it) and
``pip install 'dicomfast[docs]'``; no third-party Sphinx extension."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent / "_ext"))

import dicomfast  # noqa: E402

project = "dicomfast"
author = "the dicomfast authors"
copyright = "the dicomfast authors"  # noqa: A001
release = version = dicomfast.__version__

extensions = ["sphinx.ext.autodoc", "cli_reference"]
exclude_patterns = ["_build"]
html_theme = "alabaster"
html_static_path: list[str] = []

autodoc_member_order = "bysource"
autodoc_typehints = "none"
autodoc_default_options = {"members": True, "undoc-members": False}
# The docstrings are written for readers, not for Sphinx's cross-reference checker.
nitpicky = False
suppress_warnings = ["ref.python"]
