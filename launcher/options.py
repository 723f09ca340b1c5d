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


def host(environ, twin):
    """An environment twin naming a host or host:port (an IPv6 address in brackets); None when unset or empty."""
    text = environ.get(twin, "")
    if not text:
        return None
    from urllib.parse import urlsplit  # only when it is set: a plain start never pays for it

    try:
        parts = urlsplit("//" + text)
        good = parts.netloc == text and bool(parts.hostname) and "@" not in text and (parts.port or 0) >= 0
    except ValueError:  # a port that is not a number
        good = False
    if not good or not text.isprintable() or " " in text:
        raise UsageError("%s must be a host or host:port (such as 127.0.0.1:8080), not %r" % (twin, text))
    return text


class Settings(object):
    """Every SM_TRAIN_* value that has no command-line option, read and checked with the options, so that a bad
    one is a UsageError before anything starts (in --print-env too), and carried from here to where it is used.
    Reading them costs a plain start a few dictionary look-ups: every one is cheap to check."""

    def __init__(self, environ):
        # the whole code fetch from S3: a bundle of a few GB
        self.fetch_timeout = seconds(None, environ, "SM_TRAIN_FETCH_TIMEOUT", "1800")
        # intermediate output: poll every so many seconds instead of inotify (a filesystem whose writes it misses)
        poll = environ.get("SM_TRAIN_INTERMEDIATE_POLL")
        self.intermediate_poll = seconds(None, environ, "SM_TRAIN_INTERMEDIATE_POLL", "1") if poll else None
        # intermediate output: a copy goes up once its file had no write for this long (0: at once)
        self.intermediate_settle = seconds(None, environ, "SM_TRAIN_INTERMEDIATE_SETTLE", "0.5", allow_zero=True)
        # the replacement of the credential container endpoint's 169.254.170.2 (tests point it at a stub)
        self.container_credentials_host = host(environ, "SM_TRAIN_CONTAINER_CREDENTIALS_HOST")
        # distributed jobs: every host name resolves (the toolkit: 15 minutes)
        self.dns_timeout = seconds(None, environ, "SM_TRAIN_DNS_TIMEOUT", 900)
        # the MPI master sees every worker's sshd (the toolkit: 1 hour)
        self.worker_timeout = seconds(None, environ, "SM_TRAIN_WORKER_TIMEOUT", 3600)
        # an MPI worker gets the master's first answer
        self.master_timeout = seconds(None, environ, "SM_TRAIN_MASTER_TIMEOUT", 3600)
        # an MPI worker hears again from a master that went silent
        self.master_lost_timeout = seconds(None, environ, "SM_TRAIN_MASTER_LOST_TIMEOUT", 300)
        self.status_port = integer(environ, "SM_TRAIN_STATUS_PORT", 7791, 1, 65535)
        self.ssh_port = integer(environ, "SM_TRAIN_SSH_PORT", 22, 1, 65535)
        # paths, any value: a missing sshd is named where it is started; an empty environment file writes none
        self.ssh_environment = environ.get("SM_TRAIN_SSH_ENVIRONMENT", "/etc/environment")
        self.sshd = environ.get("SM_TRAIN_SSHD") or "/usr/sbin/sshd"
