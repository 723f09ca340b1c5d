"""The tree of a local job: the user's files checked, copied so the program cannot change them, and the
config files written as SageMaker writes them."""

import json
import os
import shutil
import stat

from ..core.config import read_json_object
from ..core.layout import Layout
from ..errors import JobError, UsageError
from ..fetch.channels import parse_uri
from .command_line import is_s3


def lay_out(tree, host, job):
    """One host's /opt/ml tree: code, channels (copies), empty model and output dirs, the three config files."""
    layout = Layout(tree)
    skip = _skipper(job.base)
    for path in (layout.input_config, layout.input_data, layout.model, layout.output_data):
        os.makedirs(path, exist_ok=True)
    if job.opts.code is not None and not is_s3(job.opts.code):
        _copy(job.opts.code, layout.code, skip, "--code")
    elif job.opts.code is not None:  # each host's launcher fetches it, as a real start does
        os.makedirs(layout.code)
    else:
        os.makedirs(layout.code)
        if job.program:  # as the SDK uploads a lone entry_point: just the file, under its base name
            _copy(job.opts.program, os.path.join(layout.code, job.program), skip, "--program")
    for name, folder in job.opts.channels:
        if is_s3(folder):  # filled once every tree is laid out: the objects are fetched once for all hosts
            os.makedirs(layout.channel(name))
        else:
            _copy(folder, layout.channel(name), skip, "channel %s" % name)
    channels = {}
    for name, _ in job.opts.channels:  # a described job's entry, else File mode's
        channels[name] = dict(job.entries.get(name) or {"TrainingInputMode": "File", "RecordWrapperType": "None"})
        channels[name]["S3DistributionType"] = "ShardedByS3Key" if name in job.opts.shards else "FullyReplicated"
    mine = next(g for g in job.groups if host in g[2])
    resources = {"current_host": host, "current_instance_type": mine[1], "current_group_name": mine[0],
                 "hosts": job.hosts,
                 "instance_groups": [{"instance_group_name": name, "instance_type": kind, "hosts": hosts}
                                     for name, kind, hosts in job.groups], "network_interface_name": "eth0"}
    # Written as the SDK's local mode writes them (sagemaker.local.image._write_json_file: json.dump).
    for name, content in (("hyperparameters.json", encoded(job)), ("inputdataconfig.json", channels),
                          ("resourceconfig.json", resources)):
        with open(layout.config_file(name), "w", encoding="utf-8") as f:
            json.dump(content, f)


def encoded(job):
    """hyperparameters.json: a job's values as stored, and over them the command line's, each json.dumps-ed into
    a string as the SDK's EstimatorBase._json_encode_hyperparameters writes them."""
    values = dict(job.described.stored) if job.described else {}
    values.update((key, json.dumps(value)) for key, value in job.overrides.items())
    if job.program:
        values["sagemaker_program"] = json.dumps(job.program)
    from_the_job = job.described is not None and job.opts.code == job.described.code()  # kept as stored
    if job.opts.code is not None and is_s3(job.opts.code) and not from_the_job:
        values["sagemaker_submit_directory"] = json.dumps(job.opts.code)
    if not job.described:  # the SDK's framework estimators write it; a described job has it only if stored
        values.setdefault("sagemaker_job_name", json.dumps(job.job_name))
    return values


def gather(items):
    """--hp and --hps in command-line order, the last value of a key winning."""
    values = {}
    for item in items:
        if item[0] == "hp":
            values[item[1]] = item[2]
        else:
            values.update(read_hps(item[1]))
    return values


def read_hps(path):
    label = "--hps %s" % path
    try:
        return read_json_object(path, label)
    except FileNotFoundError as e:
        raise JobError("%s: cannot be read: %s" % (label, e.strerror))


def check_inputs(opts, hyperparameters, environ):
    """Every path the command line names, checked before anything is created; the program's name in code/."""
    if opts.code is not None and is_s3(opts.code):
        _check_code_uri(opts.code)
    elif opts.code is not None:
        _check_dir(opts.code, "--code")
    for name, folder in opts.channels:
        if is_s3(folder):
            parse_uri(folder, "--channel %s" % name)
        else:
            _check_dir(folder, "--channel %s" % name)
    if opts.keep is not None and os.path.lexists(opts.keep):
        try:
            empty = os.path.isdir(opts.keep) and not os.listdir(opts.keep)
        except OSError as e:
            raise JobError("--keep %s: cannot be read: %s" % (opts.keep, e.strerror or e))
        if not empty:
            raise JobError("--keep %s: exists and is not an empty directory; name a new or empty one" % opts.keep)
    if opts.program is None:
        if not (opts.command or environ.get("SAGEMAKER_PROGRAM") or "sagemaker_program" in hyperparameters):
            raise UsageError("nothing to run: give --program NAME (with --code DIR), or a command after --")
        return None
    if opts.code is None:
        if not os.path.isfile(opts.program):
            raise JobError("--program %s: no such file (without --code, --program names the one file to run)"
                           % opts.program)
        return os.path.basename(opts.program)
    path = os.path.join(opts.code, opts.program)
    if is_s3(opts.code):  # known once the bundle is fetched; the launcher checks it then
        return opts.program
    if not os.path.exists(path) and not os.path.isfile(os.path.join(opts.code, "setup.py")):
        raise JobError("--program %s: %s does not exist" % (opts.program, path))
    return opts.program


def _check_code_uri(uri):
    if not parse_uri(uri, "--code")[1] or uri.endswith("/"):
        raise JobError("--code %s: name the object, such as s3://bucket/job/source/sourcedir.tar.gz (a gzip tar "
                       "as the SageMaker SDK uploads it)" % uri)


def _check_dir(path, what):
    if not os.path.isdir(path):
        raise JobError("%s: %s %s" % (what, path, "is not a directory" if os.path.exists(path) else "does not exist"))


def _skipper(base):
    """copytree's ignore: leaves out the tree being laid out when it sits inside the copied dir."""
    real = os.path.realpath(base)

    def skip(folder, names):
        if os.path.realpath(folder) != os.path.dirname(real):
            return []
        return [name for name in names if name == os.path.basename(real)]

    return skip


def _copy(src, dst, skip, what):
    """A copy the program may write to, with links followed, so nothing it does reaches the user's files."""
    try:
        if os.path.isdir(src):
            shutil.copytree(src, dst, ignore=skip, copy_function=_copy_file, ignore_dangling_symlinks=True)
            for folder, _, _ in os.walk(dst):
                _writable(folder)
        else:
            _copy_file(src, dst)
    except shutil.Error as e:
        errors = e.args[0] if e.args and isinstance(e.args[0], list) else [(src, dst, str(e))]
        more = " (and %d more)" % (len(errors) - 1) if len(errors) > 1 else ""
        raise JobError("%s: cannot copy %s: %s%s" % (what, errors[0][0], errors[0][2], more))
    except OSError as e:
        raise JobError("%s: cannot copy %s to %s: %s" % (what, src, dst, e.strerror or e))
    except RecursionError:  # copytree recurses once per folder level
        raise JobError("%s: cannot copy %s: its folders nest too deep, or a symbolic link in it leads back up"
                       % (what, src))


def _copy_file(src, dst):
    shutil.copy2(src, dst)
    _writable(dst)
    return dst


def _writable(path):
    mode = os.stat(path).st_mode
    if not mode & stat.S_IWUSR:
        os.chmod(path, stat.S_IMODE(mode) | stat.S_IWUSR)


def rmtree(path):
    """Remove a tree the program may have made read-only (never following a link it left); best effort."""
    _open_up(path)
    try:
        for folder, dirs, _ in os.walk(path):
            for name in dirs:
                _open_up(os.path.join(folder, name))
        shutil.rmtree(path, ignore_errors=True)
    except RecursionError:  # folders nested deeper than os.walk and rmtree recurse (Python < 3.12): left
        pass


def _open_up(folder):
    if not os.path.islink(folder):
        try:
            os.chmod(folder, stat.S_IRWXU)
        except OSError:
            pass


def first_line(path):
    try:
        with open(path, "rb") as f:
            text = f.read(1024).decode("utf-8", "replace")
    except OSError:
        return None
    return next((line.strip() for line in text.splitlines() if line.strip()), None)


def size(path):
    files = total = 0
    for folder, _, names in os.walk(path):
        for name in names:
            try:
                total += os.lstat(os.path.join(folder, name)).st_size
            except OSError:
                continue
            files += 1
    for unit in ("B", "KiB", "MiB", "GiB"):
        if total < 1024 or unit == "GiB":
            break
        total /= 1024.0
    amount = "%d B" % total if unit == "B" else "%.1f %s" % (total, unit)
    return "%d file%s, %s" % (files, "" if files == 1 else "s", amount)
