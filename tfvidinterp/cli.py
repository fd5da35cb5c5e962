"""Runs absl binaries so that bad input ends in one line and exit status 2."""

import os
import sys

from absl import app
from absl import flags

from tfvidinterp import errors
from tfvidinterp import precision

USAGE_EXIT_CODE = 2


def _fail(message):
    prog = os.path.basename(sys.argv[0]) if sys.argv else "tfvidinterp"
    first_line = str(message).strip().splitlines()[0] if message else "error"
    sys.stderr.write(f"{prog}: error: {first_line}\n")
    sys.exit(USAGE_EXIT_CODE)


def _parse_flags(argv):
    # absl's own parser exits with status 1 and a multi-line banner.
    try:
        return flags.FLAGS(argv)
    except flags.Error as error:
        _fail(error)


def run(main):
    """Runs `main(argv)` under absl with the project's error contract.

    A flag that does not parse, a missing required flag, extra positional
    arguments, or an `errors.InputError` raised by the library print
    `<binary>: error: <one line>` and exit with status 2.

    Args:
        main: The binary's `main(argv)`.
    """

    def guarded(argv):
        if len(argv) > 1:
            _fail(f"unexpected arguments: {' '.join(argv[1:])}")
        try:
            return main(argv)
        except errors.InputError as error:
            _fail(error)

    app.run(guarded, flags_parser=_parse_flags)


def define_precision():
    """Defines `--precision`, the flag of every binary that reads a run's
    model (`precision.of_run`), and returns its holder."""
    return flags.DEFINE_enum(
        "precision",
        precision.RUN,
        list(precision.CHOICES),
        "Compute dtypes of a run's model: run (as it trained: its "
        "train.mixed_precision on this machine) or a Keras policy.",
    )
