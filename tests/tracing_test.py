import numpy as np
import tensorflow as tf

from tfvidinterp.interp import tracing


class BatchFunctionTest(tf.test.TestCase):
    def test_one_trace_for_every_batch_size(self):
        traced = []

        def scale(videos, factor):
            traced.append(videos.shape.as_list())
            return tf.reduce_sum(videos, axis=[1, 2]) * factor

        function = tracing.BatchFunction(scale)
        for batch in (3, 1, 2):
            videos = np.arange(batch * 6, dtype="f4").reshape(batch, 2, 3)
            self.assertAllClose(
                function(videos, 2.0), 2.0 * videos.sum(axis=(1, 2))
            )
        self.assertEqual(traced, [[None, 2, 3]])
        self.assertEqual(function.experimental_get_tracing_count(), 1)
        function(np.ones((2, 4, 3), "f4"), 2.0)  # Another clip shape.
        self.assertEqual(function.experimental_get_tracing_count(), 2)
