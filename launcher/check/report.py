"""The findings as text for a person (one line each, and the line to change under each that is not ok) or as JSON
for CI; the summary line says whether the image will start, and how long the check took."""

from .. import jsonc
from .findings import ERROR, WARNING


def render(findings, ctx, seconds, fmt):
    errors = sum(1 for f in findings if f.level == ERROR)
    warnings = sum(1 for f in findings if f.level == WARNING)
    if fmt == "json":
        return jsonc.pretty({
            "findings": [f.as_dict() for f in findings],
            "errors": errors,
            "warnings": warnings,
            "seconds": round(seconds, 3),
            "status": 1 if errors else 0,
            "checked": {"root": ctx.layout.base, "python": ctx.python, "python_version": ctx.version,
                        "distribution": ctx.distribution, "hosts": ctx.hosts, "gpus": ctx.gpus},
        }) + "\n"
    width = max(len(f.topic) for f in findings) if findings else 0
    lines = ["sm-train check of %s: Python %s (%s), %s, %d host(s), %d GPU(s) (%s)" % (
        ctx.layout.base, ctx.version, ctx.python, ctx.distribution or "no distribution", ctx.hosts, ctx.gpus,
        ctx.gpus_from), ""]
    for f in findings:
        lines.append("%-8s %-*s  %s" % (f.level, width, f.topic, f.message))
        if f.fix:
            lines.append("%-8s %-*s  fix: %s" % ("", width, "", f.fix))
    verdict = "a job on this image would fail as it is" if errors else "a job on this image will start"
    lines += ["", "%s, %s: %s (checked in %.3f s)" % (_count(errors, "error"), _count(warnings, "warning"),
                                                     verdict, seconds)]
    return "\n".join(lines) + "\n"


def _count(n, word):
    return "%d %s%s" % (n, word, "" if n == 1 else "s")
