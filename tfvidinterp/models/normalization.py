"""Batch normalization with one fused op under mixed precision.

Keras's `BatchNormalization` computes in float32 under `mixed_bfloat16`: it
casts the bfloat16 input up, normalises with a dozen elementwise float32 ops
and casts the result back, and the gradient does the same in reverse. On a
CPU that made an I3D's batch norm slower in bfloat16 than in float32 (the
casts are extra work on the largest tensors of the step). TensorFlow's
`FusedBatchNormV3` takes a bfloat16 input with float32 statistics and
parameters and computes in float32 inside one kernel, forward and backward
(docs/experiments/2026-12-03-bf16.md).
"""

import keras
import tensorflow as tf

# The input dtypes that take the fused op; float32 keeps Keras's exact ops, so
# float32 models compute what `keras.layers.BatchNormalization` computes.
_FUSED_DTYPES = ("bfloat16", "float16")
# `FusedBatchNormV3`'s name for channels-last 5D and 4D inputs.
_FORMATS = {5: "NDHWC", 4: "NHWC"}


@keras.saving.register_keras_serializable(package="tfvidinterp")
class BatchNormalization(keras.layers.BatchNormalization):
    """`keras.layers.BatchNormalization`, fused for 16-bit inputs.

    Same variables, arguments and float32 results as the Keras layer; with a
    bfloat16 or float16 input (a mixed-precision policy), channels last, no
    mask and no renorm, one `FusedBatchNormV3` computes the output and, in
    training, the batch statistics (float32 inside), and the moving
    statistics take the biased batch variance as Keras's do.
    """

    def call(self, inputs, training=None, mask=None):
        if not self._fusable(inputs, mask):
            return super().call(inputs, training=training, mask=mask)
        training = bool(training) and self.trainable
        mean, variance = self.moving_mean, self.moving_variance
        outputs, batch_mean, batch_variance = tf.compat.v1.nn.fused_batch_norm(
            inputs,
            _parameter(self.gamma, self.scale, 1.0, mean),
            _parameter(self.beta, self.center, 0.0, mean),
            mean=None if training else tf.convert_to_tensor(mean),
            variance=None if training else tf.convert_to_tensor(variance),
            epsilon=self.epsilon,
            data_format=_FORMATS[len(inputs.shape)],
            is_training=training,
        )
        if training:
            # The fused op returns the unbiased variance (n / (n - 1) times
            # the batch's); Keras's moving variance averages the biased one.
            count = tf.cast(tf.size(inputs) // tf.shape(inputs)[-1], "float32")
            biased = batch_variance * (count - 1.0) / count
            mean.assign(mean * self.momentum + batch_mean * (1 - self.momentum))
            variance.assign(
                variance * self.momentum + biased * (1.0 - self.momentum)
            )
        return outputs

    def _fusable(self, inputs, mask):
        return (
            keras.backend.standardize_dtype(inputs.dtype) in _FUSED_DTYPES
            and mask is None
            and not self.renorm
            and not self.synchronized
            and len(inputs.shape) in _FORMATS
            and self.axis in (-1, len(inputs.shape) - 1)
        )


def _parameter(variable, enabled, default, like):
    """`variable` as a float32 tensor, or `default` everywhere when the
    layer has no such parameter (`scale=False`, `center=False`)."""
    if enabled:
        return tf.convert_to_tensor(variable)
    return tf.fill(tf.shape(like), default)
