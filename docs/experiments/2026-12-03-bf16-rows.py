"""The benchmark's `precision` rows at the representative size: 174 classes,
16x112^2, I3D width 1.0 with the paper's strides, C-LSTM 32 filters, b=4.

Run from the repository root:
    flock /tmp/tfvidinterp_bench.lock nice -n 5 python \
        docs/experiments/2026-12-03-bf16-rows.py [REPEATS]
"""

import sys

sys.path.insert(0, ".")
# tfvidinterp first: it turns oneDNN on before TensorFlow loads.
import tfvidinterp  # noqa: E402, F401, I001

from benchmarks import suite  # noqa: E402
from configs import benchmark  # noqa: E402

config = benchmark.get_config()
config.sections = ("precision",)
config.num_classes = 174
config.image_size = 112
config.i3d = dict(width=1.0, original_strides=True)
config.clstm.filters = 32
config.repeats = int(sys.argv[1]) if len(sys.argv) > 1 else 3
result = suite.run(config)
for row in result["rows"]:
    print(row)
for line in result.get("context", []):
    print(line)
