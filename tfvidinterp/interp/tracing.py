"""Compiled functions with one trace for every batch size."""

import tensorflow as tf


class BatchFunction:
    """`tf.function(function)`, traced with the batch dimension unknown.

    Every batch size (a full batch, a last short one, a single clip) runs
    the same trace: tracing a model's forward and backward pass is most of a
    small batch's cost on a CPU. Arguments are tensors whose first axis is
    the batch, or scalars; a new shape of the other axes traces anew.

    Args:
        function: The Python function to compile.
    """

    def __init__(self, function):
        self._function = tf.function(function, reduce_retracing=True)

    def __call__(self, *args):
        args = [tf.convert_to_tensor(arg) for arg in args]
        # Traced once per signature; a call of any batch size then dispatches
        # to this trace, the most specific one that fits.
        self._function.get_concrete_function(*map(_any_batch, args))
        return self._function(*args)

    def experimental_get_tracing_count(self) -> int:
        """How many times the function was traced."""
        return self._function.experimental_get_tracing_count()


def _any_batch(tensor):
    """`tensor`'s spec with the first axis unknown (a scalar's as it is)."""
    shape = tensor.shape
    if shape.rank:
        shape = [None, *shape[1:]]
    return tf.TensorSpec(shape, tensor.dtype)
