r"""Options for a Keras model file of your own (`--model=<name>.keras`).

The model file gives the model and, through its input shape, the clips'
frames and size; `input.num_frames` and `input.image_size` below only fill
in what its input leaves open (None). Its class names are one a line in
`<name>.classes.txt` beside it. Grad-CAM reads `Mixed_5c`, the last
`ConvLSTM2D`, else the last layer with a time axis and spatial extent
(`interp.default_layer`), unless `--config.interp.layer=...` names one. A
softmax head is read before its softmax.

Command:
    python -m binaries.evaluate --model=my_model.keras \
        --config=configs/keras_model.py --data_dir=data/mine --split=test \
        --output_dir=runs/my_model
    python -m binaries.explain --model=my_model.keras \
        --config=configs/keras_model.py --data_dir=data/mine --split=test \
        --output_dir=runs/my_model/explain/test
    python -m binaries.faithfulness --model=my_model.keras \
        --config=configs/keras_model.py --data_dir=data/mine \
        --results_dir=runs/my_model/explain/test

Expected: the model's own accuracy; nothing is trained.
"""

from configs import common


def get_config(arg=None):
    """The options; `arg="smoke"` gives CPU-test-sized clips and masks."""
    return common.training_config(
        data_dir="",  # --data_dir.
        num_frames=16,
        image_size=224,
        batch_size=8,
        model_name="",  # Set to the model file's name.
        model={},
        train={},
        smoke=arg == "smoke",
    )
