r"""Statistics, pictures and the HTML report comparing two explained models.

Command:
    python -m binaries.compare \
        --results=runs/i3d_synthetic/explain/test \
        --results=runs/clstm_synthetic/explain/test \
        --eval=runs/i3d_synthetic/eval/test.json \
        --eval=runs/clstm_synthetic/eval/test.json \
        --output_dir=runs/compare_synthetic

Expected: runs/compare_synthetic/report.html (Tables 1-4, t-tests, Fig. 4
histograms, GIFs), tables/*.csv, stats.json, gifs/*.gif and tb/.
"""

import ml_collections


def get_config(arg=None):
    """The comparison config; `arg="smoke"` writes only 2 GIFs."""
    smoke = arg == "smoke"
    config = ml_collections.ConfigDict()
    # cv2.SimpleBlobDetector_Params, by OpenCV's own names. The paper
    # publishes none; these find every contiguous bright patch of a Grad-CAM
    # frame scaled to 0-255 (OpenCV's default thresholds and spacing).
    config.blobs = dict(
        filterByColor=True,
        blobColor=255,  # Bright blobs: the salient regions.
        minThreshold=50.0,
        maxThreshold=220.0,
        thresholdStep=10.0,
        minRepeatability=2,  # Seen at >= 2 thresholds, so not noise.
        minDistBetweenBlobs=10.0,
        filterByArea=True,
        minArea=25.0,  # A 5x5 patch; smaller ones are up-sampling ripples.
        maxArea=1e9,  # No upper bound: a map may light up a whole frame.
        # "Contiguous patches" of any shape count, as in the paper.
        filterByCircularity=False,
        filterByConvexity=False,
        filterByInertia=False,
    )
    config.drop_filter = 0.001  # Leave out OS-RS or OS-FS <= this (paper).
    config.histogram_bins = 20
    config.max_gifs = 2 if smoke else 16  # The report embeds every GIF.
    config.gif_fps = 4.0
    config.gif_min_height = 192  # Smaller frames are enlarged (nearest).
    return config
