"""Imports tfvidinterp first, so its TensorFlow settings precede TF's import."""

import tfvidinterp  # noqa: F401
