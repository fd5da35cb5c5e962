"""3D max pooling built from shifted maxima, with a correct gradient on CPU.

TensorFlow's oneDNN CPU kernels (on by default in tfvidinterp, see
`tfvidinterp/__init__.py`) compute a wrong gradient inside `tf.function` when
a `MaxPool3D` reads the output of another `MaxPool3D`, as I3D's pool branches
do after `MaxPool3d_3a`, `_4a` and `_5a` (eager and compiled gradients differ
by ~74 % of their size; with oneDNN off they agree). Taking the maximum of
shifted slices, one axis at a time, gives the same forward values as SAME max
pooling and its gradient flows through elementwise `maximum`, which no oneDNN
pass rewrites.
"""

import math

import keras


@keras.saving.register_keras_serializable(package="tfvidinterp")
class ShiftedMaxPooling3D(keras.layers.Layer):
    """Max pooling over (time, height, width) with "same" padding.

    Equals `keras.layers.MaxPooling3D(pool_size, strides, padding="same")` on
    `(batch, T, H, W, C)` inputs.

    Args:
        pool_size: Window (time, height, width), or one int for all three.
        strides: Strides (time, height, width), or one int for all three.
        **kwargs: Passed to `keras.layers.Layer` (e.g. `name`).
    """

    def __init__(self, pool_size, strides, **kwargs):
        super().__init__(**kwargs)
        self.pool_size = _triple(pool_size)
        self.strides = _triple(strides)

    def call(self, inputs):
        x = inputs
        for axis, (size, stride) in enumerate(
            zip(self.pool_size, self.strides), start=1
        ):
            x = _pool_axis(x, axis, size, stride)
        return x

    def compute_output_shape(self, input_shape):
        shape = list(input_shape)
        for axis, stride in enumerate(self.strides, start=1):
            if shape[axis] is not None:
                shape[axis] = math.ceil(shape[axis] / stride)
        return tuple(shape)

    def get_config(self):
        config = super().get_config()
        config.update(pool_size=self.pool_size, strides=self.strides)
        return config


def _triple(value):
    return tuple(value) if isinstance(value, (tuple, list)) else (value,) * 3


def _pool_axis(x, axis, size, stride):
    if size == 1 and stride == 1:
        return x
    length = keras.ops.shape(x)[axis]
    out = (length + stride - 1) // stride
    # TensorFlow's SAME rule: the padding never wins a maximum.
    pad = keras.ops.maximum((out - 1) * stride + size - length, 0)
    pads = [[0, 0]] * 5
    pads[axis] = [pad // 2, pad - pad // 2]
    x = keras.ops.pad(x, pads, constant_values=float("-inf"))
    span = (out - 1) * stride + 1
    # The maxima at every position, then every stride-th: contiguous slices
    # have a pad for gradient, where strided ones have `StridedSliceGrad`,
    # which took about half of an I3D train step's op time on a CPU (one
    # per offset and axis; docs/experiments/2026-12-03-bf16.md).
    result = None
    for offset in range(size):
        window = _slice_axis(x, axis, offset, span)
        result = window if result is None else keras.ops.maximum(result, window)
    return _every(result, axis, stride, out)


def _slice_axis(x, axis, start, length):
    """`x[start:start + length]` along `axis`, a contiguous slice."""
    starts, sizes = [0] * 5, [-1] * 5
    starts[axis], sizes[axis] = start, length
    return keras.ops.slice(x, starts, sizes)


def _every(x, axis, stride, out):
    """Entries 0, stride, 2 stride, ... (`out` of them) along `axis`, by a
    reshape to `(out, stride)` and a contiguous slice."""
    if stride == 1:
        return x
    pads = [[0, 0]] * 5
    pads[axis] = [0, out * stride - keras.ops.shape(x)[axis]]
    x = keras.ops.pad(x, pads)
    shape = list(keras.ops.shape(x))
    shape[0] = -1
    grouped = keras.ops.reshape(
        x, shape[:axis] + [out, stride] + shape[axis + 1 :]
    )
    first = _slice_axis_6d(grouped, axis + 1)
    return keras.ops.reshape(first, shape[:axis] + [out] + shape[axis + 1 :])


def _slice_axis_6d(x, axis):
    starts, sizes = [0] * 6, [-1] * 6
    sizes[axis] = 1
    return keras.ops.slice(x, starts, sizes)
