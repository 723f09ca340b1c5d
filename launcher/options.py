"""Reading settings: one scanner for the command lines of `sm-train` and `sm-train local`, and bounded
values for every option and its SM_TRAIN_* environment twin. Bad values are UsageErrors (status 2)."""

from .errors import UsageError

MAX_SECONDS = 10 ** 6  # about 11 days; beyond this select() and friends overflow


def scan(argv, valued, flags, strict=True):
    """Yield (option, value) pairs, then ("--", command) for a command after ``--``, or (None, command)
    for one that starts at the first word that is not an option. ``valued`` options take
    ``--name=value`` or ``--name value``. With ``strict`` False, unknown options and missing values are
    skipped instead of raising: that is how an error is reported in the --format it asked for.
    """
    i = 0
    while i < len(argv):
        arg = argv[i]
        if arg == "--" or not arg.startswith("-"):
            command = argv[i + 1:] if arg == "--" else argv[i:]
            if not command and strict:
                raise UsageError("'--' must be followed by the program to run")
            yield ("--" if arg == "--" else None), command
            return
        name, has_value, value = arg.partition("=")
        if name in valued:
            if not has_value:
                if i + 1 >= len(argv):
                    if strict:
                        raise UsageError("option %s needs a value" % name)
                    return
                i += 1
                value = argv[i]
            if value == "" and strict:
                raise UsageError("option %s needs a value, not an empty string" % name)
            yield name, value
        elif arg in flags:
            yield arg, None
        elif strict:
            close = closest(name, list(valued) + list(flags))
            raise UsageError("unknown option %r%s (see --help)" % (arg, "; did you mean %s?" % close if close else ""))
        i += 1


def closest(word, choices):
    """The known word ``word`` is most likely a typo of, or None (difflib: imported on error paths only)."""
    import difflib

    found = difflib.get_close_matches(word, choices, n=1, cutoff=0.6)
    return found[0] if found else None


def mistyped(word):
    """The command of sm-train that ``word`` (taken for the program to run, as in `sm-train locl`) is most likely a
    typo of, or None: the caller asks only once ``word`` is known not to be a program."""
    close = closest(word, ("local", "train", "check"))
    return close if close != word else None  # `train train`: the second one is a program's name


def seconds(value, environ, twin, default, allow_zero=False, option=None):
    """An option's value, else its environment twin, else ``default``: a bounded number of seconds. An
    error names what the value came from: ``option`` (such as --probe-timeout) or the twin."""
    text = value if value is not None else environ.get(twin, default)
    source = option if value is not None and option else twin
    try:
        number = float(text)
    except (TypeError, ValueError):
        number = -1.0
    if not ((number >= 0 if allow_zero else number > 0) and number <= MAX_SECONDS):
        raise UsageError("%s must be a number of seconds, %s and at most %d, not %r"
                         % (source, "0 or more" if allow_zero else "more than 0", MAX_SECONDS, text))
    return number


def integer(environ, twin, default, low, high):
    """An environment twin holding a whole number from ``low`` to ``high`` (a port, a count)."""
    text = environ.get(twin, str(default))
    try:
        number = int(text)
    except ValueError:
        number = low - 1
    if not low <= number <= high:
        raise UsageError("%s must be a whole number from %d to %d, not %r" % (twin, low, high, text))
    return number


def switch(environ, twin):
    """An on/off environment twin: true/1/yes or false/0/no/empty, in any case."""
    text = environ.get(twin, "").strip().lower()
    if text not in ("true", "1", "yes", "false", "0", "no", ""):
        raise UsageError("%s must be true, 1, yes, false, 0, no or empty, not %r" % (twin, environ[twin]))
    return text in ("true", "1", "yes")
