"""Sphinx configuration for govpost's documentation."""

from __future__ import annotations

from importlib.metadata import version as _version

project = "govpost"
author = "govpost contributors"
copyright = "2026, govpost contributors"
release = _version("govpost")
version = ".".join(release.split(".")[:2])

extensions = [
    "myst_parser",
    "sphinx.ext.autodoc",
    "sphinx.ext.napoleon",
    "sphinx.ext.viewcode",
]
source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
exclude_patterns = ["_build"]
language = "en"

myst_enable_extensions = ["colon_fence", "deflist"]
myst_heading_anchors = 3

autodoc_member_order = "bysource"
autodoc_typehints = "description"
autodoc_default_options = {"members": True, "show-inheritance": True}
napoleon_google_docstring = True
napoleon_numpy_docstring = False

# The docs build offline (no intersphinx inventories to fetch).
nitpicky = False

html_theme = "furo"
html_title = "govpost"
