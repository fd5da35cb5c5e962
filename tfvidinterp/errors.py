"""The one exception type that means "the user's input is wrong"."""


class InputError(ValueError):
    """Bad user input: a missing or corrupt file, an unknown name, a bad value.

    Library code raises it with a message that names the problem in one line;
    `tfvidinterp.cli.run` turns it into that line on stderr and exit status 2,
    where any other exception stays a traceback (a bug, not a user error).
    """
