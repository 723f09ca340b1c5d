"""The start: sm-train as PID 1 (an exec-form ENTRYPOINT), the Python that runs it and the pyz's bytecode for it,
the folders SageMaker mounts, writable for the image's user, and the SM_TRAIN_* settings every start reads."""

import os
import sys

from .. import options
from ..core.hyperparameters import style as hp_style
from ..errors import UsageError
from .findings import error, ok, warning

EXEC_FORM = 'ENTRYPOINT ["python3", "/sm-train.pyz"] (the exec form, a JSON list: no shell in between)'
SHELLS = ("sh", "bash", "dash", "ash", "zsh", "ksh", "busybox")
INITS = ("tini", "tini-static", "docker-init", "dumb-init", "catatonit")  # they forward SIGTERM to their child
# Each SM_TRAIN_* setting a start reads, what it must be and its default; a bad one fails every start (status 2).
SETTINGS = (("SM_TRAIN_PROBE_TIMEOUT", "10"), ("SM_TRAIN_GRACE_PERIOD", "110"), ("SM_TRAIN_SUPERVISE", "false"),
            ("SM_TRAIN_HP_STYLE", "toolkit"))


def check(ctx):
    return [entrypoint(), python(ctx)] + folders(ctx) + settings(ctx.environ)


def entrypoint():
    """PID 1 must be sm-train: Linux gives PID 1 no default action for SIGTERM, so a shell there drops the stop
    that SageMaker sends, and the job is killed 120 s later without a reason."""
    if os.getpid() == 1:
        return ok("entrypoint", "sm-train is PID 1 (an exec-form ENTRYPOINT): the SIGTERM of a stop reaches it")
    parent, grandparent = os.getppid(), _parent_of(os.getppid())
    command = _cmdline(parent)
    pid1 = command if parent == 1 else _cmdline(1)
    entry = parent == 1 or (grandparent == 1 and pid1 and os.path.basename(pid1[0]) in INITS)
    if not entry:
        return ok("entrypoint", "not started as a container's entry point (by `%s`): `docker run --rm IMAGE check` "
                  "checks the image's ENTRYPOINT" % _shown(command))
    if len(command) >= 3 and command[1] == "-c" and os.path.basename(command[0]) in SHELLS:
        return error("entrypoint", "a shell-form ENTRYPOINT: sm-train runs under `%s`, which drops the SIGTERM of a "
                     "stop (a stop then waits 120 s for SIGKILL, with no failure reason), and Docker drops the "
                     "container's arguments (`train`, ContainerArguments)" % _shown(command), EXEC_FORM)
    if os.path.basename(pid1[0] if pid1 else "") in INITS:
        return ok("entrypoint", "PID 1 is %s, which forwards SIGTERM to sm-train" % _shown(pid1))
    return warning("entrypoint", "PID 1 is `%s`, which started sm-train: the SIGTERM of a stop reaches sm-train only "
                   "if it forwards it" % _shown(pid1), EXEC_FORM)


def _cmdline(pid):
    try:
        with open("/proc/%d/cmdline" % pid, "rb") as f:
            return [w.decode("utf-8", "replace") for w in f.read().split(b"\0")[:-1]]
    except OSError:
        return []


def _parent_of(pid):
    try:
        with open("/proc/%d/stat" % pid, "rb") as f:
            return int(f.read().rsplit(b")", 1)[1].split()[1])
    except (OSError, ValueError, IndexError):
        return None


def _shown(command):
    text = " ".join('"%s"' % w if " " in w else w for w in command) or "an unknown process"
    return text if len(text) <= 120 else text[:117] + "..."


def python(ctx):
    """The Python is 3.7+ (an older one never gets here: the pyz refuses it in one line), and the pyz holds its
    bytecode, without which every start compiles the launcher."""
    version = "%d.%d.%d" % tuple(sys.version_info[:3])
    bundle = getattr(getattr(__spec__, "loader", None), "bundle", None)
    if bundle:
        return ok("python", "Python %s at %s runs the pyz's own bytecode for it (%s)"
                  % (version, ctx.python, bundle))
    minor = "%d.%d" % tuple(sys.version_info[:2])
    return warning("python", "Python %s at %s runs sm-train, but the pyz holds no bytecode for Python %s: every start "
                   "compiles the launcher from its sources (about twice the start-up time)" % (version, ctx.python,
                                                                                              minor),
                   "build the pyz where a python%s is on PATH or in pyenv, or name one: python3 build_pyz.py "
                   "--python /path/to/python%s" % (minor, minor))


def folders(ctx):
    """What the program writes: model/ and output/, which SageMaker mounts from the instance, and the temporary
    folder. Each is checked as it is here; a missing one is SageMaker's to mount (or sm-train's to create)."""
    uid = os.geteuid()
    who = "root" if uid == 0 else "uid %d%s" % (uid, _user_name(uid))
    paths = [ctx.layout.model, ctx.layout.output, ctx.environ.get("TMPDIR") or "/tmp"]
    found = []
    for path in paths:
        if os.path.isdir(path) and not os.access(path, os.W_OK | os.X_OK, effective_ids=True):
            fix = "USER root before the ENTRYPOINT line" if uid else "make %s writable (it is read-only here)" % path
            if uid and path != paths[2]:
                fix += " (SageMaker mounts %s as root's), or RUN chown %d %s" % (path, uid, path)
            found.append(error("folders", "%s cannot write %s, where the program puts its %s" % (
                who, path, ("model", "output and failure reason", "temporary files")[paths.index(path)]), fix))
    if uid:
        found.append(warning("user", "the image runs as %s, not root: SageMaker mounts model/, output/ and the input "
                             "channels from the instance, which may leave them unwritable for it, and MPI's sshd "
                             "needs root" % who, "USER root (or no USER line) before the ENTRYPOINT line"))
    if not any(f.level == "error" for f in found):
        found.insert(0, ok("folders", "%s can write %s" % (who, ", ".join(paths))))
    return found


def _user_name(uid):
    try:
        import pwd

        return " (%s)" % pwd.getpwuid(uid).pw_name
    except (ImportError, KeyError):
        return ""


def settings(environ):
    """The SM_TRAIN_* variables set in the image, read as a start reads them: a bad one fails every start."""
    found = []
    for name, default in SETTINGS:
        if name not in environ:
            continue
        try:
            if name == "SM_TRAIN_SUPERVISE":
                options.switch(environ, name)
            elif name == "SM_TRAIN_HP_STYLE":
                hp_style(None, environ)
            else:
                options.seconds(None, environ, name, default, allow_zero=name == "SM_TRAIN_GRACE_PERIOD")
        except UsageError as e:
            found.append(error("settings", "%s: every start would fail with status 2" % e,
                               "ENV %s=%s (its default), or a valid value" % (name, default)))
    if not found:
        set_here = [name for name, _ in SETTINGS if name in environ]
        found.append(ok("settings", "SM_TRAIN_* settings: %s" % (", ".join(set_here) + " valid" if set_here else
                                                                 "none set, the defaults apply")))
    return found
