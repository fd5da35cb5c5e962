import os
import shutil
import tempfile
from unittest import mock

import keras
from absl.testing import absltest

from tests import testing
from tfvidinterp import precision
from tfvidinterp.jobs import train

# Two processors' worth of /proc/cpuinfo, trimmed.
CPUINFO = """processor\t: 0
vendor_id\t: AuthenticAMD
flags\t\t: fpu sse2 avx2 avx512f {extra}

processor\t: 1
flags\t\t: fpu sse2 avx2 avx512f {extra}
"""


class PrecisionTest(absltest.TestCase):
    def cpuinfo(self, extra):
        directory = tempfile.mkdtemp()
        self.addCleanup(shutil.rmtree, directory)
        path = os.path.join(directory, "cpuinfo")
        with open(path, "w") as f:
            f.write(CPUINFO.format(extra=extra))
        return path

    def test_reads_the_flags(self):
        flags = precision.cpu_flags(self.cpuinfo("avx512_bf16"))
        self.assertEqual(
            flags, {"fpu", "sse2", "avx2", "avx512f", "avx512_bf16"}
        )

    def test_no_cpuinfo_no_flags(self):
        self.assertEqual(precision.cpu_flags("/nonexistent/cpuinfo"), set())

    def test_auto_is_bfloat16_with_avx512_bf16_or_amx(self):
        for extra in ("avx512_bf16", "amx_bf16 amx_tile"):
            flags = precision.cpu_flags(self.cpuinfo(extra))
            self.assertEqual(
                precision.resolve("auto", flags, gpus=[]), "mixed_bfloat16"
            )

    def test_auto_is_float32_without_them(self):
        flags = precision.cpu_flags(self.cpuinfo("avx512_vnni"))
        self.assertEqual(precision.resolve("auto", flags, gpus=[]), "")

    def test_auto_is_float32_with_a_gpu(self):
        flags = {"avx512_bf16"}
        self.assertEqual(precision.resolve("auto", flags, gpus=["gpu:0"]), "")

    def test_other_policies_pass_through(self):
        for policy in ("", "float32", "mixed_bfloat16", "mixed_float16"):
            self.assertEqual(
                precision.resolve(policy, {"avx512_bf16"}, gpus=[]), policy
            )

    def test_this_machine(self):
        # Resolves without arguments: the real /proc/cpuinfo and devices.
        self.assertIn(precision.resolve("auto"), ("", "mixed_bfloat16"))

    def test_training_takes_the_resolved_policy_and_restores_it(self):
        config = testing.load_config("configs/i3d_synthetic.py", "smoke")
        config.train.mixed_precision = "auto"
        seen = []

        def train_body(config, workdir):
            seen.append(keras.mixed_precision.global_policy().name)

        with mock.patch.object(train, "_train", train_body):
            train.run(config, "unused: the body is replaced")
        self.assertEqual(seen, [precision.resolve("auto") or "float32"])
        self.assertEqual(keras.mixed_precision.global_policy().name, "float32")


if __name__ == "__main__":
    absltest.main()
