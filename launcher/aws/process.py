"""credential_process as botocore 1.44 runs it (ProcessProvider): the command split as a POSIX shell
would, run without a shell, its stdout the JSON document {"Version": 1, "AccessKeyId", "SecretAccessKey",
"SessionToken", "Expiration"}; a non-zero status is an error with its stderr. Unlike botocore, a command
still running after 60 s is an error rather than a hung start."""

import json
import shlex
import subprocess

from ..errors import JobError

PROCESS_TIMEOUT = 60.0


def run(command, environ, where):
    """The credentials dict the command prints (Version 1 JSON); a JobError naming ``where`` otherwise."""
    try:
        argv = shlex.split(command)
        if not argv:
            raise JobError("%s: the command is empty" % where)
        done = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=dict(environ),
                              timeout=PROCESS_TIMEOUT)
    except ValueError as e:
        raise JobError("%s: cannot split the command: %s" % (where, e))
    except OSError as e:
        raise JobError("%s: cannot run %s: %s" % (where, argv[0] if argv else "''", e.strerror or e))
    except subprocess.TimeoutExpired:
        raise JobError("%s: still running after %.0f s" % (where, PROCESS_TIMEOUT))
    if done.returncode != 0:
        lines = done.stderr.decode("utf-8", "replace").strip().splitlines()
        raise JobError("%s: exited with status %d: %s" % (where, done.returncode, lines[-1][:200] if lines else
                                                           "(nothing on stderr)"))
    try:
        doc = json.loads(done.stdout.decode("utf-8"))
    except (ValueError, RecursionError):
        raise JobError("%s: its output is not JSON" % where)
    if not isinstance(doc, dict) or doc.get("Version") != 1:
        raise JobError("%s: unsupported Version %s, only 1 is" % (where, doc.get("Version", "(none)")
                                                                   if isinstance(doc, dict) else "(none)"))
    for key in ("AccessKeyId", "SecretAccessKey"):
        if not isinstance(doc.get(key), str):
            raise JobError("%s: its output has no %s" % (where, key))
    for key in ("SessionToken", "Expiration"):
        if not isinstance(doc.get(key, ""), str):
            raise JobError("%s: its output's %s is not a string" % (where, key))
    return {"access_key": doc["AccessKeyId"], "secret_key": doc["SecretAccessKey"],
            "token": doc.get("SessionToken"), "expiry": doc.get("Expiration")}
