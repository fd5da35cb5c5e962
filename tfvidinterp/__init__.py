"""tfvidinterp: train video classifiers and explain where and when they look."""

import os

# TensorFlow enables its oneDNN CPU kernels by default only on some Intel
# CPUs; elsewhere (AMD EPYC here) Conv3D's gradient runs a reference kernel
# about 100x slower. It must be set before TensorFlow is first imported.
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "1")

__version__ = "0.1.0"
