"""A dataset directory's summary files, which `prepare.run` writes over its
shards' records: `dataset_info.json` (source, classes, per-split counts,
options), which every job reads (`read_info`), and `rejected.txt`, one
`<split>\\t<path or id>\\t<reason>` line per video that could not be made a
clip."""

import collections
import json
import os

from absl import logging

from tfvidinterp import errors
from tfvidinterp import files

INFO_FILE = "dataset_info.json"
REJECTED_FILE = "rejected.txt"


def read_info(data_dir: str) -> dict:
    """Returns the `dataset_info.json` of a dataset directory.

    Raises:
        errors.InputError: The directory or its info file is missing.
    """
    if not os.path.isdir(data_dir):
        raise errors.InputError(f"No such dataset directory: {data_dir}")
    path = os.path.join(data_dir, INFO_FILE)
    if not os.path.isfile(path):
        raise errors.InputError(
            f"No {INFO_FILE} in {data_dir}; run prepare_data first"
        )
    with open(path) as f:
        return json.load(f)


def split_counts(records):
    """`(clips, rejected, Counter of reasons)` of a split's records."""
    reasons = collections.Counter(
        reason for record in records for _, reason in record["rejected"]
    )
    clips = sum(record["num_clips"] for record in records)
    return clips, sum(reasons.values()), reasons


def write_summary(output_dir, described, records, options, empty):
    """Writes dataset_info.json and rejected.txt over the complete splits.

    `rejected.txt` lists every complete split's rejections; the info file
    leaves out the splits in `empty`, which are not a dataset.
    """
    source = options["source"]
    info = dict(
        source=source,
        classes=list(described.classes),
        splits={},
        options=options,
    )
    lines = []
    for split, split_records in records.items():
        clips, rejected, _ = split_counts(split_records)
        if split not in empty:
            info["splits"][split] = dict(
                num_clips=clips,
                num_shards=len(split_records),
                num_rejected=rejected,
            )
        lines += [
            f"{split}\t{what}\t{reason}\n"
            for record in split_records
            for what, reason in record["rejected"]
        ]
    files.write_atomic(os.path.join(output_dir, REJECTED_FILE), "".join(lines))
    files.write_atomic(
        os.path.join(output_dir, INFO_FILE), json.dumps(info, indent=2) + "\n"
    )
    logging.info("Prepared %s in %s: %s", source, output_dir, info["splits"])
    return info
