"""``--print-env``: the plan as a shell script that ``sh`` can eval, or as JSON."""

import json
import re

_SHELL_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")


def show(plan, fmt):
    if fmt == "json":
        return json.dumps({"env": plan.env, "argv": plan.argv, "cwd": plan.cwd, "error": None}, indent=2) + "\n"
    lines = []
    for name, value in plan.env.items():
        if _SHELL_NAME.match(name):
            lines.append("export %s=%s" % (name, _quote(value)))
        else:  # still shown, as a comment a shell skips: sh cannot hold this name
            lines.append("# not a shell name: %s=%s" % (name, json.dumps(value)))
    for step in plan.install:
        lines.append("# before: %s" % json.dumps(step))
    lines.append("# cwd: %s" % json.dumps(plan.cwd))
    lines.append("# argv: %s" % json.dumps(plan.argv))
    return "\n".join(lines) + "\n"


def show_error(message, fmt):
    if fmt == "json":
        return json.dumps({"env": {}, "argv": [], "cwd": None, "error": message}, indent=2) + "\n"
    return "# error: %s\n" % json.dumps(message)


def _quote(value):
    return "'" + value.replace("'", "'\"'\"'") + "'"
