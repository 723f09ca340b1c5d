"""``--print-env``: the plan as a shell script that ``sh`` can eval, or as JSON."""

from .. import jsonc


def show(plan, fmt):
    if fmt == "json":
        shown = {"env": plan.env, "argv": plan.argv, "cwd": plan.cwd, "error": None}
        if plan.fetch is not None:
            shown["fetch"] = {"from": plan.fetch, "into": plan.cwd}
        if plan.intermediate is not None:
            shown["intermediate"] = {"from": plan.intermediate.directory, "to": plan.intermediate.url(),
                                     "supervised": True}
        return jsonc.pretty(shown, 2) + "\n"
    lines = []
    for name, value in plan.env.items():
        if name.isascii() and name.isidentifier():  # [A-Za-z_][A-Za-z0-9_]*, the names sh can hold
            lines.append("export %s=%s" % (name, _quote(value)))
        else:  # still shown, as a comment a shell skips: sh cannot hold this name
            lines.append("# not a shell name: %s=%s" % (name, jsonc.quote(value)))
    if plan.fetch is not None:
        lines.append("# before: fetch %s into %s (the program, setup.py and requirements.txt arrive with it)"
                     % (jsonc.quote(plan.fetch), jsonc.quote(plan.cwd)))
    for step in plan.install:
        lines.append("# before: %s" % jsonc.dumps(step))
    if plan.chmod:
        lines.append("# before: chmod +x %s" % jsonc.quote(plan.chmod))
    if plan.intermediate is not None:
        lines.append("# during: files closed under %s are uploaded to %s; sm-train stays the program's parent "
                     "(supervised) to finish the uploads" % (jsonc.quote(plan.intermediate.directory),
                                                             jsonc.quote(plan.intermediate.url())))
    lines.append("# cwd: %s" % jsonc.quote(plan.cwd))
    lines.append("# argv: %s" % jsonc.dumps(plan.argv))
    return "\n".join(lines) + "\n"


def show_error(message, fmt):
    if fmt == "json":
        return jsonc.pretty({"env": {}, "argv": [], "cwd": None, "error": message}, 2) + "\n"
    return "# error: %s\n" % jsonc.quote(message)


def _quote(value):
    return "'" + value.replace("'", "'\"'\"'") + "'"
