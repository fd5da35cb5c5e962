"""The command-line programs; `python -m binaries.<name> --help` for each.

`python -m binaries.<name>` imports this package first, before TensorFlow:
it hides TensorFlow's C++ INFO and WARNING lines (set TF_CPP_MIN_LOG_LEVEL
to see them; TensorFlow 2.21 prints the few lines of its import anyway).
The library itself leaves the process's logging alone.
"""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
