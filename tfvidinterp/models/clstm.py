"""Convolutional LSTM video classifier (C-LSTM).

Shi et al., "Convolutional LSTM Network: A Machine Learning Approach for
Precipitation Nowcasting", NeurIPS 2015, https://arxiv.org/abs/1506.04214;
configured as in Mänttäri et al., "Interpreting Video Features: A Comparison
of 3D Convolutional Networks and Convolutional LSTM Networks", ACCV 2020,
https://arxiv.org/abs/2002.00367.

Each layer `clstm_<i>` (i = 1 .. num_layers) is a `ConvLSTM2D` returning the
whole sequence, whose input convolution has stride `strides` (the recurrent
one has stride 1), followed by dropout, 2x2 max pooling per time step and
batch normalisation. The last `clstm_<i>` is the default Grad-CAM layer.
"""

import functools

import keras

from tfvidinterp import errors
from tfvidinterp.data import video_ops

# "sequence" flattens all time steps into the classifier (SSv2 in the
# paper); "last" classifies the last time step only.
HEADS = ("sequence", "last")
# "batch" normalises with batch statistics in training and moving ones in
# inference; "frozen" always uses the initial statistics (mean 0, variance
# 1) and learns only scale and offset, as the reference TF code did. Same
# variables either way.
BATCH_NORMS = ("batch", "frozen")


@keras.saving.register_keras_serializable(package="tfvidinterp")
class FrozenBatchNormalization(keras.layers.BatchNormalization):
    """Batch normalisation that always runs in inference mode.

    Its moving statistics stay at their initial 0 and 1 and only the scale
    and offset learn, so it is a per-channel affine map with BN's variables.
    This is what the reference TF C-LSTM did, which probably produced the
    paper's C-LSTM results: `tf.layers.batch_normalization` was called
    without `training`.
    """

    def call(self, inputs, training=None, mask=None):
        del training
        return super().call(inputs, training=False, mask=mask)


def build(
    num_classes: int,
    num_frames: int | None = 16,
    image_size: int | tuple[int, int] = 224,
    filters: int = 32,
    kernel_size: int | tuple[int, int] = 5,
    num_layers: int = 3,
    strides: int = 2,
    padding: str = "same",
    dropout: float = 0.0,
    head: str = "sequence",
    batch_norm: str = "batch",
    recurrent_activation: str = "sigmoid",
    name: str = "clstm",
) -> keras.Model:
    """Builds a stack of `ConvLSTM2D` layers with a dense classifier.

    Args:
        num_classes: Number of output logits.
        num_frames: Static clip length T; None is allowed only with
            `head="last"`.
        image_size: Frame size, an int (square) or (height, width).
        filters: Channels of every ConvLSTM layer (32 in the paper).
        kernel_size: ConvLSTM kernel size, int or (kh, kw).
        num_layers: Number of ConvLSTM layers (3 for SSv2, 2 for KTH).
        strides: Spatial stride of each layer's input convolution.
        padding: The input convolution's, "same" or "valid" (the reference's).
        dropout: Dropout rate after each ConvLSTM layer.
        head: One of `HEADS`: "sequence" (all time steps) or "last".
        batch_norm: One of `BATCH_NORMS`: "batch" or "frozen" (the
            reference's, see `FrozenBatchNormalization`).
        recurrent_activation: Gate activation, always set (Keras 3's
            "hard_sigmoid", clip(x / 6 + 0.5, 0, 1), is not the reference's
            Keras 2 one, clip(0.2 x + 0.5, 0, 1)).
        name: Model name.

    Returns:
        A `keras.Model` with one input named "frames", float32 RGB videos
        `(batch, T, height, width, 3)` in [0, 255] (rescaled to [-1, 1]
        inside), and float32 logits `(batch, num_classes)` from the layer
        named "Logits". The module docstring names the other layers.

    Raises:
        errors.InputError: Options no model can be built from (`_check_args`)
            or frames too small for `num_layers`.
    """
    _check_args(num_frames, image_size, head, batch_norm)
    inputs, x = _rescaled_input(num_frames, image_size)
    conv_lstm = functools.partial(
        keras.layers.ConvLSTM2D,
        filters,
        kernel_size,
        strides=strides,
        padding=padding,
        recurrent_activation=recurrent_activation,
        return_sequences=True,
    )
    x = _stack(x, conv_lstm, num_layers, dropout, _NORMS[batch_norm])
    logits = _classifier(x, num_classes, head)
    return keras.Model(inputs, logits, name=name)


def _check_args(num_frames, image_size, head, batch_norm):
    """Raises `errors.InputError` for options no model can be built from."""
    if head not in HEADS:
        raise errors.InputError(
            f"Unknown C-LSTM head {head!r}; known: {list(HEADS)}"
        )
    if batch_norm not in BATCH_NORMS:
        raise errors.InputError(
            f"Unknown C-LSTM batch_norm {batch_norm!r}; known: "
            f"{list(BATCH_NORMS)}"
        )
    # Flattening every time step into the classifier needs their count.
    if head == "sequence" and num_frames is None:
        raise errors.InputError(
            "C-LSTM head 'sequence' needs a static num_frames"
        )
    if image_size is None:
        raise errors.InputError("C-LSTM needs a static image_size")


def _rescaled_input(num_frames, image_size):
    """Returns the "frames" input and its frames rescaled to [-1, 1].

    Both are `(batch, T, height, width, 3)`; the input takes float32 RGB in
    [0, 255].
    """
    height, width = video_ops.height_width(image_size)
    inputs = keras.Input((num_frames, height, width, 3), name="frames")
    x = keras.layers.Rescaling(1.0 / 127.5, offset=-1.0, name="rescale")(inputs)
    return inputs, x


def _stack(x, conv_lstm, num_layers, dropout, norm):
    """Applies the layers `clstm_1` .. `clstm_<num_layers>` and their blocks.

    Args:
        x: `(batch, T, H, W, 3)` rescaled frames.
        conv_lstm: Makes the `ConvLSTM2D` layer of the given name.
        num_layers: Number of ConvLSTM layers.
        dropout: Dropout rate after each ConvLSTM layer.
        norm: The normalisation layer class, from `_NORMS`.

    Returns:
        The last block's output, `(batch, T, h, w, filters)`: each block
        divides the frame size by about `2 * strides`.

    Raises:
        errors.InputError: A ConvLSTM layer's output is under 2 pixels high
            or wide, so pooling would leave nothing.
    """
    height, width = x.shape[2:4]
    for i in range(1, num_layers + 1):
        x = conv_lstm(name=f"clstm_{i}")(x)
        if min(x.shape[2:4]) < 2:
            raise errors.InputError(
                f"Frames of {height}x{width} are too small for {num_layers} "
                "C-LSTM layers"
            )
        x = keras.layers.Dropout(dropout, name=f"clstm_{i}_dropout")(x)
        x = keras.layers.MaxPooling3D((1, 2, 2), name=f"clstm_{i}_pool")(x)
        x = norm(name=f"clstm_{i}_bn")(x)
    return x


def _classifier(x, num_classes, head):
    """Classifies the last block's output `(batch, T, h, w, C)`.

    Returns `(batch, num_classes)` float32 logits from the layer "Logits";
    `head` (see `HEADS`) picks the time steps they see.
    """
    if head == "last":
        x = x[:, -1]
    x = keras.layers.Flatten(name="Logits_flatten")(x)
    # float32 so that mixed precision still yields float32 logits.
    return keras.layers.Dense(num_classes, dtype="float32", name="Logits")(x)


_NORMS = {
    "batch": keras.layers.BatchNormalization,
    "frozen": FrozenBatchNormalization,
}
