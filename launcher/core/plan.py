"""The plan: the variables to set, the argv, the cwd and the steps before exec, checked so that the exec
itself cannot fail on them."""

import os
import sys

from ..errors import JobError
from . import environment, hyperparameters, program

# Linux refuses (E2BIG) any single "NAME=value" or argument longer than this (MAX_ARG_STRLEN).
_MAX_STRING = 32 * 4096


class Plan(object):
    def __init__(self, env, argv, cwd, install, chmod, rendered, cluster=None, fetch=None, intermediate=None):
        self.env = env              # what sm-train sets or changes, in order
        self.argv = argv
        self.cwd = cwd
        self.install = install
        self.chmod = chmod
        self.rendered = rendered
        self.cluster = cluster      # a distributed job's part for this node (cluster.engines), else None
        self.fetch = fetch          # sagemaker_submit_directory, when it is still to fill the empty code dir
        self.intermediate = intermediate  # an Intermediate: output/intermediate goes to S3 while the program runs

    def full_env(self, environ):
        merged = dict(environ)
        merged.update(self.env)
        return merged


def build(job, decoded, resources, layout, environ, command=None, args_renderer=hyperparameters.to_args,
          fetched=None):
    rendered = environment.render(job, decoded, resources, layout, args_renderer)
    python = sys.executable
    if not python:
        raise JobError("cannot tell which Python runs sm-train (sys.executable is empty)")
    source = rendered.training_env["module_dir"]
    fetch = None
    if "sagemaker_submit_directory" in decoded and fetched is None and code_awaited(layout.code):
        # The toolkit's download_and_extract, a no-op but for the code dir when source is it; for `-- PROGRAM`
        # too, which runs in the code dir and so needs the code the job's program would have had.
        fetch = source
    if command:
        prog = program.explicit_program(command, layout.code, environ.get("PATH", os.defpath), python,
                                        arriving=fetch is not None)
    else:
        prog = program.entry_program(rendered.entry_point, layout.code, rendered.user_args, python, source,
                                     arriving=fetch is not None,
                                     fetched=fetched is not None and fetched != layout.code)
    env = rendered.env
    if prog.argv[0] == python and "PYTHONUNBUFFERED" not in environ:
        # A deliberate difference from the toolkit: a Python program's logs reach CloudWatch as written.
        env = dict(env, PYTHONUNBUFFERED="1")
    if (environ.get("SAGEMAKER_BASE_DIR") or "/opt/ml") != layout.base:
        env = dict(env, SAGEMAKER_BASE_DIR=layout.base)  # --root: the program's toolkit-based code finds it too
    return Plan(env, prog.argv, prog.cwd, prog.install, prog.chmod, rendered, fetch=fetch,
                intermediate=intermediate_output(decoded, layout, environ))


def with_index(plan, index):
    """The plan with pip's index (-i) on each step that installs requirements.txt, where 5.1.4 adds the
    CodeArtifact index; ``plan`` itself when no step does or ``index`` is None."""
    if index is None:
        return plan
    install = [step + ["-i", index] if "requirements.txt" in step else step for step in plan.install]
    if install == plan.install:
        return plan
    return Plan(plan.env, plan.argv, plan.cwd, install, plan.chmod, plan.rendered, plan.cluster, plan.fetch,
                plan.intermediate)


class Intermediate(object):
    """Where the files closed under output/intermediate go while the program runs (sagemaker_s3_output)."""

    def __init__(self, uri, directory, bucket, prefix):
        self.uri, self.directory, self.bucket, self.prefix = uri, directory, bucket, prefix

    def url(self):
        return "s3://%s/%s/" % (self.bucket, self.prefix)


def intermediate_output(decoded, layout, environ):
    """The toolkit's start_sync decision: an Intermediate when sagemaker_s3_output names an s3:// location and
    output/intermediate does not exist yet (an existing one is the platform's to sync); None for no value, an
    existing directory or a file:// location; a JobError for any other scheme."""
    location = decoded.get("sagemaker_s3_output")
    if not location or os.path.exists(layout.output_intermediate):
        return None
    if not isinstance(location, str):
        raise JobError("hyperparameter sagemaker_s3_output=%s: expecting an s3:// URI" % (location,))
    import posixpath
    from urllib.parse import urlparse  # only for a job with the hyperparameter: a plain start never pays for it

    url = urlparse(location)
    if url.scheme == "file":
        return None
    if url.scheme != "s3":
        raise JobError("hyperparameter sagemaker_s3_output=%s: Expecting 's3' scheme, got: %s"
                       % (location, url.scheme or "none"))
    if not url.netloc:
        raise JobError("hyperparameter sagemaker_s3_output=%s: the URI names no bucket" % location)
    # the toolkit's os.path.join: empty parts vanish, a job name starting with "/" starts the key over
    prefix = posixpath.join(url.path.lstrip("/"), environ.get("TRAINING_JOB_NAME", ""), "output", "intermediate")
    return Intermediate(location, layout.output_intermediate, url.netloc, prefix)


def code_awaited(path):
    """Whether the code dir waits for sagemaker_submit_directory: the toolkit fetches only into one that is missing
    or empty."""
    try:
        return not os.listdir(path)
    except FileNotFoundError:
        return True
    except OSError:
        return False  # not a directory, or unreadable: the program lookup names the problem


def check_exec(env, argv):
    """Refuse what execve would refuse, naming the variable or argument instead of failing with E2BIG."""
    total = 0
    for name, value in env.items():
        if not name or "=" in name or "\0" in name:
            raise JobError("variable name %r cannot be set in an environment (it is empty or holds '=' or NUL)"
                           % name)
        if "\0" in value:
            raise JobError("variable %s holds a NUL character, which no environment can carry" % name)
        size = _encoded_size(name, "variable name %r", name) + _encoded_size(value, "variable %s", name) + 2
        if size > _MAX_STRING:
            raise JobError("variable %s is %d bytes; Linux passes at most %d bytes per variable"
                           % (name, size, _MAX_STRING))
        total += size + 8
    for arg in argv:
        if "\0" in arg:
            raise JobError("argument %r holds a NUL character" % arg[:40])
        size = _encoded_size(arg, "argument %r", arg[:40]) + 1
        if size > _MAX_STRING:
            raise JobError("argument %r... is %d bytes; Linux passes at most %d bytes per argument"
                           % (arg[:20], size, _MAX_STRING))
        total += size + 8
    limit = _arg_max()
    if limit and total > limit:
        raise JobError("the environment and arguments come to %d bytes, more than this system's limit of %d"
                       % (total, limit))


def _encoded_size(text, what, name):
    """The size of ``text`` in the system's encoding; a JobError naming it (``what % name``) where it has none."""
    if text.isascii():  # nearly always: no encoding needed to know the size
        return len(text)
    try:
        return len(os.fsencode(text))
    except UnicodeEncodeError:
        raise JobError("%s cannot be encoded for the operating system" % (what % name))


def _arg_max():
    try:
        return os.sysconf("SC_ARG_MAX")
    except (ValueError, OSError, AttributeError):
        return None
