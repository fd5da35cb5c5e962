"""Training under MirroredStrategy and a real 2-worker run on loopback."""

import json
import os
import socket
import subprocess
import sys
import tempfile
import textwrap

import pytest
import tensorflow as tf

from tests import testing
from tfvidinterp import distribute
from tfvidinterp import errors
from tfvidinterp.jobs import rundir

_MIRRORED = textwrap.dedent("""
    import sys
    import tfvidinterp  # Sets TensorFlow's CPU options before its import.
    import numpy as np
    import tensorflow as tf
    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(
        cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
    from tests import testing
    from tfvidinterp.jobs import train
    config = testing.load_config("configs/clstm_synthetic.py", "smoke")
    config.strategy = "mirrored"
    config.input.data_dir = sys.argv[1]
    config.train.steps_per_epoch = 3
    result = train.run(config, sys.argv[2])
    # Keras 3 variables wrap the strategy's MirroredVariable in `.value`.
    variables = [v.value for v in result["model"].trainable_variables]
    assert all(len(v.values) == 2 for v in variables), "not mirrored"
    gap = max(float(np.max(np.abs(v.values[0].numpy() - v.values[1].numpy())))
              for v in variables)
    print("REPLICAS", len(variables[0].values), "GAP", gap,
          "STEP", result["final_step"])
""")


def _free_ports(count):
    sockets = [socket.socket() for _ in range(count)]
    for s in sockets:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in sockets]
    for s in sockets:
        s.close()
    return ports


class DistributeTest(testing.SyntheticDataTestCase):
    def test_unknown_strategy_is_an_input_error(self):
        with self.assertRaisesRegex(errors.InputError, "Unknown strategy"):
            distribute.get_strategy("tpu")

    @pytest.mark.slow
    def test_mirrored_on_two_logical_cpus_keeps_replicas_equal(self):
        workdir = tempfile.mkdtemp(dir=self.get_temp_dir())
        done = subprocess.run(
            [sys.executable, "-c", _MIRRORED, self.data_dir, workdir],
            cwd=testing.REPO,
            capture_output=True,
            text=True,
            timeout=300,
            env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2"),
        )
        self.assertEqual(done.returncode, 0, done.stderr[-3000:])
        line = [x for x in done.stdout.splitlines() if x.startswith("REPL")]
        _, replicas, _, gap, _, step = line[0].split()
        self.assertEqual((int(replicas), int(step)), (2, 3))
        self.assertEqual(float(gap), 0.0)

    @pytest.mark.slow
    def test_two_workers_on_loopback_agree_on_weights(self):
        workdir = tempfile.mkdtemp(dir=self.get_temp_dir())
        ports = _free_ports(2)
        cluster = {"worker": [f"127.0.0.1:{p}" for p in ports]}
        processes = []
        for index in range(2):
            env = dict(
                os.environ,
                TF_CPP_MIN_LOG_LEVEL="2",
                TF_CONFIG=json.dumps(
                    {
                        "cluster": cluster,
                        "task": {"type": "worker", "index": index},
                    }
                ),
            )
            processes.append(
                subprocess.Popen(
                    [
                        sys.executable,
                        "-m",
                        "binaries.train",
                        "--config=configs/clstm_synthetic.py:smoke",
                        f"--workdir={workdir}",
                        f"--config.input.data_dir={self.data_dir}",
                        "--config.strategy=multi_worker_mirrored",
                        "--config.train.steps_per_epoch=4",
                        "--config.train.checkpoint_every_steps=2",
                        # Only the chief evaluates; both still stop at once.
                        "--config.train.eval_every_steps=2",
                        "--config.train.target_accuracy=1e-9",
                    ],
                    cwd=testing.REPO,
                    env=env,
                    stdout=subprocess.PIPE,
                    stderr=subprocess.PIPE,
                    text=True,
                )
            )
        outputs = [p.communicate(timeout=400) for p in processes]
        for p, (_, err) in zip(processes, outputs):
            self.assertEqual(p.returncode, 0, err[-3000:])
        chief = tf.train.load_checkpoint(
            rundir.path(workdir, rundir.CHECKPOINTS)
        )
        worker = tf.train.load_checkpoint(
            rundir.path(workdir, rundir.CHECKPOINTS + "_worker1")
        )
        # The checkpoint files the trainable weights under the optimizer,
        # with its Adam moments: all computed from all-reduced gradients.
        # Batch-norm moving statistics (under `model/`) are each worker's
        # own, as without sync BN, and are not compared.
        names = [
            n
            for n in chief.get_variable_to_shape_map()
            if n.startswith("optimizer/")
        ]
        trainable = [n for n in names if "_trainable_variables" in n]
        self.assertGreater(len(trainable), 4)
        for name in names:
            self.assertAllClose(
                chief.get_tensor(name), worker.get_tensor(name), atol=1e-6
            )
        # Accuracy above 0 at step 2 stops both workers there, else at 4.
        step = int(
            chief.get_tensor("optimizer/_iterations/.ATTRIBUTES/VARIABLE_VALUE")
        )
        self.assertIn(step, (2, 4))
        stopped = "Stopped at step 2" in outputs[0][0]
        self.assertEqual(step, 2 if stopped else 4)
        self.assertEqual(
            int(worker.get_tensor("stopped_at/.ATTRIBUTES/VARIABLE_VALUE")),
            2 if stopped else 0,
        )
        self.assertTrue(os.path.exists(rundir.path(workdir, rundir.MODEL)))


if __name__ == "__main__":
    tf.test.main()
