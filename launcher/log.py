"""Log records in the toolkit's shape, to stderr, without the cost of importing logging."""

import sys
import time

DEBUG, INFO, WARNING, ERROR = 10, 20, 30, 40
_NAMES = {DEBUG: "DEBUG", INFO: "INFO", WARNING: "WARNING", ERROR: "ERROR"}
_LEVELS = {"DEBUG": DEBUG, "INFO": INFO, "WARNING": WARNING, "WARN": WARNING, "ERROR": ERROR,
           "CRITICAL": 50, "FATAL": 50, "NOTSET": 0}

threshold = INFO
clear_line = None  # set while a status line (a download's progress) is on the terminal: it clears it first


def set_level(value):
    """sagemaker_container_log_level: an int as the toolkit takes it (true and false as 1 and 0, as logging
    does). The toolkit fails on anything else; sm-train also takes a level name in any case ("DEBUG"), a
    deliberate difference, and keeps INFO for any other value (20.0, null, a list)."""
    global threshold
    if isinstance(value, int):
        threshold = int(value)
    elif isinstance(value, str) and value.upper() in _LEVELS:
        threshold = _LEVELS[value.upper()]


def log(level, message):
    if level < threshold:
        return
    now = time.time()
    stamp = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(now))
    line = "%s,%03d sm-train %-8s %s\n" % (stamp, int(now * 1000) % 1000, _NAMES[level], message)
    try:
        if clear_line is not None:
            clear_line()
        sys.stderr.write(line)
        sys.stderr.flush()
    except (OSError, ValueError):
        pass


def debug(message):
    log(DEBUG, message)


def info(message):
    log(INFO, message)


def warning(message):
    log(WARNING, message)


def error(message):
    log(ERROR, message)
