"""tfvidinterp: train video classifiers and explain where and when they look."""

__version__ = "0.1.0"
