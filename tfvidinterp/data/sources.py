"""Where videos come from: each source lists its classes, splits and videos.

A source is a pair of functions, `describe(root, **options) -> Description`
and `items(root, split, **options) -> Iterator[VideoItem]`, looked up by name
in `SOURCES`. Listing is cheap (file names and label files); decoding is left
to `prepare`. Each source is a module of its own (`synthetic_source`,
`ssv2_source`, `kth_source`, `folder_source`); what they share is in
`listing`.
"""

from tfvidinterp import errors
from tfvidinterp.data import folder_source
from tfvidinterp.data import kth_source
from tfvidinterp.data import listing
from tfvidinterp.data import ssv2_source
from tfvidinterp.data import synthetic_source

# The names of the sources' modules that callers import from here.
SPLITS = listing.SPLITS
Description = listing.Description
printable = listing.printable
KTH_CLASSES = kth_source.KTH_CLASSES
KTH_SPLITS = kth_source.KTH_SPLITS
read_kth_sequences = kth_source.read_kth_sequences
VALIDATION_FRACTION = folder_source.VALIDATION_FRACTION
TEST_FRACTION = folder_source.TEST_FRACTION
csv_text = folder_source.csv_text

SOURCES = {
    "synthetic": listing.Source(
        synthetic_source.describe, synthetic_source.items
    ),
    "ssv2": listing.Source(ssv2_source.describe, ssv2_source.items),
    "kth": listing.Source(kth_source.describe, kth_source.items),
    "folder": listing.Source(folder_source.describe, folder_source.items),
}


def get(name: str) -> listing.Source:
    """Returns the source called `name`.

    Raises:
        errors.InputError: Unknown name.
    """
    if name not in SOURCES:
        raise errors.InputError(
            f"Unknown source {name!r}; known: {sorted(SOURCES)}"
        )
    return SOURCES[name]
