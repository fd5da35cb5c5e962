"""Inflated 3D ConvNet (I3D), Inception-v1 inflated to 3-D.

Carreira & Zisserman, "Quo Vadis, Action Recognition? A New Model and the
Kinetics Dataset", CVPR 2017, https://arxiv.org/abs/1705.07750.
Endpoint names follow the reference implementation (deepmind/kinetics-i3d).
By default the temporal strides follow Mänttäri et al., ACCV 2020: stride 1 in
time at `Conv3d_1a_7x7` and `MaxPool3d_4a_3x3`, so `Mixed_5c` keeps T/2 steps.
"""

import functools

import keras

from tfvidinterp.data import video_ops
from tfvidinterp.models import normalization
from tfvidinterp.models import pooling

ENDPOINTS = (
    "Conv3d_1a_7x7",
    "MaxPool3d_2a_3x3",
    "Conv3d_2b_1x1",
    "Conv3d_2c_3x3",
    "MaxPool3d_3a_3x3",
    "Mixed_3b",
    "Mixed_3c",
    "MaxPool3d_4a_3x3",
    "Mixed_4b",
    "Mixed_4c",
    "Mixed_4d",
    "Mixed_4e",
    "Mixed_4f",
    "MaxPool3d_5a_2x2",
    "Mixed_5b",
    "Mixed_5c",
    "Logits",
)

# Inception branch widths: [1x1, 3x3 reduce, 3x3, 3x3 reduce, 3x3, pool proj].
_MIXED = {
    "Mixed_3b": (64, 96, 128, 16, 32, 32),
    "Mixed_3c": (128, 128, 192, 32, 96, 64),
    "Mixed_4b": (192, 96, 208, 16, 48, 64),
    "Mixed_4c": (160, 112, 224, 24, 64, 64),
    "Mixed_4d": (128, 128, 256, 24, 64, 64),
    "Mixed_4e": (112, 144, 288, 32, 64, 64),
    "Mixed_4f": (256, 160, 320, 32, 128, 128),
    "Mixed_5b": (256, 160, 320, 32, 128, 128),
    "Mixed_5c": (384, 192, 384, 48, 128, 128),
}


def build(
    num_classes: int,
    num_frames: int | None = None,
    image_size: int | tuple[int, int] | None = None,
    width: float = 1.0,
    dropout: float = 0.5,
    original_strides: bool = False,
    bn_momentum: float = 0.99,
    name: str = "i3d",
) -> keras.Model:
    """Builds I3D as a flat functional model.

    Args:
        num_classes: Number of output logits.
        num_frames: Static clip length T, or None for any length.
        image_size: Static frame size, an int (square) or (height, width), or
            None for any size.
        width: Channel multiplier; 0.125 gives a CPU-test-sized model.
        dropout: Dropout rate before the logits.
        original_strides: If True, use the original temporal stride 2 in
            `Conv3d_1a_7x7` and `MaxPool3d_4a_3x3` (`Mixed_5c` has T/8
            steps instead of T/2).
        bn_momentum: Momentum of the batch norms' moving statistics. In a
            run of a few hundred steps 0.99 lags behind the weights, and
            validation accuracy with them behind training accuracy.
        name: Model name.

    Returns:
        A `keras.Model` with one input named "frames", float32 RGB videos
        `(batch, frames, height, width, 3)` in [0, 255] (rescaled to [-1, 1]
        inside), and float32 logits `(batch, num_classes)`. Every name in
        `ENDPOINTS` is a layer; `Mixed_5c` outputs
        `(batch, T/2, H/32, W/32, 1024 * width)` (sizes rounded up).
    """
    height, width_px = _pair(image_size)
    inputs = keras.Input((num_frames, height, width_px, 3), name="frames")
    x = keras.layers.Rescaling(1.0 / 127.5, offset=-1.0, name="rescale")(inputs)
    x = _trunk(x, width, 2 if original_strides else 1, bn_momentum)
    logits = _classifier(x, num_classes, dropout)
    return keras.Model(inputs, logits, name=name)


def _trunk(x, width, stride_t, momentum):
    """Applies the convolutional trunk, `Conv3d_1a_7x7` to `Mixed_5c`.

    Args:
        x: `(batch, T, H, W, 3)` frames rescaled to [-1, 1].
        width: Channel multiplier.
        stride_t: Temporal stride of `Conv3d_1a_7x7` and `MaxPool3d_4a_3x3`
            (2 in the original I3D, 1 by default here).
        momentum: Momentum of the batch norms' moving statistics.

    Returns:
        `Mixed_5c`'s output, `(batch, T / (2 * stride_t**2), H/32, W/32,
        1024 * width)` (sizes rounded up).
    """
    unit = functools.partial(_unit3d, momentum=momentum)
    x = unit(x, _channels(64, width), 7, (stride_t, 2, 2), "Conv3d_1a_7x7")
    x = _max_pool(x, (1, 3, 3), (1, 2, 2), "MaxPool3d_2a_3x3")
    x = unit(x, _channels(64, width), 1, 1, "Conv3d_2b_1x1")
    x = unit(x, _channels(192, width), 3, 1, "Conv3d_2c_3x3")
    x = _max_pool(x, (1, 3, 3), (1, 2, 2), "MaxPool3d_3a_3x3")
    x = _mixed_blocks(unit, x, ("Mixed_3b", "Mixed_3c"), width)
    x = _max_pool(x, 3, (stride_t, 2, 2), "MaxPool3d_4a_3x3")
    x = _mixed_blocks(
        unit,
        x,
        ("Mixed_4b", "Mixed_4c", "Mixed_4d", "Mixed_4e", "Mixed_4f"),
        width,
    )
    x = _max_pool(x, 2, 2, "MaxPool3d_5a_2x2")
    return _mixed_blocks(unit, x, ("Mixed_5b", "Mixed_5c"), width)


def _classifier(x, num_classes, dropout):
    """Pools, drops out and classifies `Mixed_5c`'s output.

    Returns `(batch, num_classes)` float32 logits from the layer "Logits".
    """
    # Averaging over all remaining steps and positions (not a fixed 2x7x7
    # window) lets any clip length and frame size reach the classifier.
    x = keras.layers.GlobalAveragePooling3D(name="Logits_pool")(x)
    x = keras.layers.Dropout(dropout, name="Logits_dropout")(x)
    # float32 so that mixed precision still yields float32 logits.
    return keras.layers.Dense(num_classes, dtype="float32", name="Logits")(x)


def _channels(filters, width):
    """The reference's channel count `filters` scaled by `width`, at least 1."""
    return max(1, round(filters * width))


def _pair(size):
    return (None, None) if size is None else video_ops.height_width(size)


def _unit3d(x, filters, kernel_size, strides, name, momentum):
    x = keras.layers.Conv3D(
        filters,
        kernel_size,
        strides,
        padding="same",
        use_bias=False,
        name=f"{name}_conv",
    )(x)
    x = normalization.BatchNormalization(
        epsilon=1e-3, momentum=momentum, name=f"{name}_bn"
    )(x)
    # The endpoint name goes on the block's last layer.
    return keras.layers.ReLU(name=name)(x)


def _max_pool(x, pool_size, strides, name):
    # Not keras.layers.MaxPooling3D: its gradient is wrong on CPU where one
    # pool reads another's output (see `pooling`).
    return pooling.ShiftedMaxPooling3D(pool_size, strides, name=name)(x)


def _mixed_blocks(unit, x, names, width):
    """Applies the Inception blocks `names` (keys of `_MIXED`) in order."""
    for name in names:
        x = _mixed(unit, x, [_channels(c, width) for c in _MIXED[name]], name)
    return x


def _mixed(unit, x, filters, name):
    b0, b1a, b1b, b2a, b2b, b3b = filters
    branch_0 = unit(x, b0, 1, 1, f"{name}_Branch_0_Conv3d_0a_1x1")
    branch_1 = unit(x, b1a, 1, 1, f"{name}_Branch_1_Conv3d_0a_1x1")
    branch_1 = unit(branch_1, b1b, 3, 1, f"{name}_Branch_1_Conv3d_0b_3x3")
    branch_2 = unit(x, b2a, 1, 1, f"{name}_Branch_2_Conv3d_0a_1x1")
    branch_2 = unit(branch_2, b2b, 3, 1, f"{name}_Branch_2_Conv3d_0b_3x3")
    branch_3 = _max_pool(x, 3, 1, f"{name}_Branch_3_MaxPool3d_0a_3x3")
    branch_3 = unit(branch_3, b3b, 1, 1, f"{name}_Branch_3_Conv3d_0b_1x1")
    return keras.layers.Concatenate(name=name)(
        [branch_0, branch_1, branch_2, branch_3]
    )
