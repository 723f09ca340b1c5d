"""Read and validate the job: the three JSON files under input/config and the variables read from the
environment. Nothing is created or changed; an absent file means its empty default."""

import os
import stat

from .. import jsonc, log
from ..errors import JobError
from . import awsfiles
from .layout import Layout

HYPERPARAMETERS = "hyperparameters.json"
INPUT_DATA_CONFIG = "inputdataconfig.json"
RESOURCE_CONFIG = "resourceconfig.json"

# SageMaker writes these files from API objects capped at a few hundred KB; anything this large is not
# a job description, and reading it whole would cost the start-up time we exist to save.
MAX_CONFIG_BYTES = 4 * 1024 * 1024


class Job(object):
    """What the job asks for, as read: raw file contents plus the variables the toolkit reads."""

    def __init__(self, hyperparameters, input_data_config, resource_config, environ):
        self.hyperparameters = hyperparameters
        self.input_data_config = input_data_config
        self.resource_config = resource_config
        self.program_env = environ.get("SAGEMAKER_PROGRAM")
        self.framework_module = environ.get("SAGEMAKER_TRAINING_MODULE")
        self.training_job_name = environ.get("TRAINING_JOB_NAME")
        self.mp_parameters = environ.get("SM_HP_MP_PARAMETERS")
        self.pythonpath = environ.get("PYTHONPATH")
        self.default_region = awsfiles.region(environ)


def find_job(layout):
    """Refuse a base dir with no job in it (a laptop's missing /opt/ml, or the top of a tree that
    `local --hosts N --keep DIR` wrote, whose jobs are in DIR/algo-K) with one line that says where to look."""
    if _has_job(layout):
        return
    from ..errors import NoJob

    where = "%s does not exist" % layout.base if not os.path.isdir(layout.base) else (
        "%s holds neither input/config/*.json nor code/" % layout.base)
    first = os.path.join(layout.base, "algo-1")
    if _has_job(Layout(first)):
        raise NoJob("no SageMaker job here: %s; it holds one tree per host, as `local --hosts N --keep DIR` "
                    "writes them: give --root %s" % (where, first))
    raise NoJob("no SageMaker job here: %s; give the job's tree with --root DIR (DIR/algo-1 for a tree kept "
                "by `local --hosts N --keep DIR`), or run it on this machine with `python3 sm-train.pyz local`"
                % where)


def _has_job(layout):
    """Any of the config files, or the code dir: what SageMaker or `local` puts in every job's tree."""
    if any(os.path.lexists(layout.config_file(name)) for name in (HYPERPARAMETERS, INPUT_DATA_CONFIG,
                                                                   RESOURCE_CONFIG)):
        return True
    return os.path.isdir(layout.code)


def read_job(layout, environ):
    hyperparameters = _read_object(layout, HYPERPARAMETERS, {})
    input_data_config = _read_object(layout, INPUT_DATA_CONFIG, {})
    resource_config = _read_object(layout, RESOURCE_CONFIG, {"current_host": "algo-1", "hosts": ["algo-1"]})
    _check_resource_config(layout.config_file(RESOURCE_CONFIG), resource_config)
    return Job(hyperparameters, input_data_config, resource_config, environ)


def _read_object(layout, name, default):
    path = layout.config_file(name)
    try:
        return read_json_object(path, path)
    except FileNotFoundError:
        log.warning("%s not found; using %s" % (path, jsonc.dumps(default)))
        return dict(default)


def read_json_object(path, label, limit=MAX_CONFIG_BYTES):
    """The JSON object in the file at ``path``; every failure a JobError starting with ``label``, but for
    FileNotFoundError, which the caller turns into a default or an error of its own."""
    try:
        # O_NONBLOCK: a FIFO in the file's place must not hang the start.
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    except FileNotFoundError:
        if os.path.lexists(path):
            raise JobError("%s: a broken symbolic link" % label)
        raise
    except OSError as e:
        raise JobError("%s: cannot be read: %s" % (label, e.strerror or e))
    info = os.fstat(fd)
    if not stat.S_ISREG(info.st_mode):
        os.close(fd)
        raise JobError("%s: %s" % (label, "is a directory, not a file" if stat.S_ISDIR(info.st_mode) else
                                   "not a regular file"))
    chunks, size = [], 0
    try:
        while size <= limit:  # os.read, not a file object: a start reads three small files
            # the size the file has (and one byte more, to see the end), not a buffer of the limit's size
            chunk = os.read(fd, min(limit + 1 - size, max(info.st_size + 1 - size, 65536)))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
    except OSError as e:
        raise JobError("%s: cannot be read: %s" % (label, e.strerror or e))
    finally:
        os.close(fd)
    data = b"".join(chunks)
    if len(data) > limit:
        raise JobError("%s: larger than the %d MiB limit for a configuration file" % (label, limit // (1024 * 1024)))
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise JobError("%s: not valid UTF-8 (byte 0x%02x at offset %d)" % (label, data[e.start], e.start))
    try:
        value = jsonc.loads(text)
    except ValueError as e:
        raise JobError("%s: malformed JSON: %s" % (label, e))
    except RecursionError as e:
        raise JobError("%s: JSON %s" % (label, e))
    if not isinstance(value, dict):
        raise JobError("%s: must hold a JSON object, not %s" % (label, _kind(value)))
    return value


def _check_resource_config(path, rc):
    for key in ("current_host", "hosts"):
        if key not in rc:
            raise JobError("%s: the key '%s' is missing" % (path, key))
    hosts = rc["hosts"]
    if not _is_str_list(hosts) or not hosts:
        raise JobError("%s: 'hosts' must be a non-empty list of strings, not %s" % (path, jsonc.short(hosts)))
    for key in ("current_host", "current_instance_type", "current_group_name", "network_interface_name"):
        if key in rc and not isinstance(rc[key], str):
            raise JobError("%s: '%s' must be a string, not %s" % (path, key, jsonc.short(rc[key])))
    for host in hosts:
        if not host or "\0" in host or any(c.isspace() for c in host):
            raise JobError("%s: host name %s is empty or holds a NUL or a space" % (path, jsonc.quote(host)))
    if rc["current_host"] not in hosts:
        raise JobError("%s: current_host %s is not among hosts %s"
                       % (path, jsonc.quote(rc["current_host"]), jsonc.short(hosts)))
    groups = rc.get("instance_groups", [])
    if not isinstance(groups, list):
        raise JobError("%s: 'instance_groups' must be a list, not %s" % (path, jsonc.short(groups)))
    for i, group in enumerate(groups):
        where = "%s: instance_groups[%d]" % (path, i)
        if not isinstance(group, dict):
            raise JobError("%s must be an object, not %s" % (where, jsonc.short(group)))
        if not isinstance(group.get("instance_group_name"), str):
            raise JobError("%s: 'instance_group_name' must be a string" % where)
        if not _is_str_list(group.get("hosts")):
            raise JobError("%s: 'hosts' must be a list of strings" % where)


def _is_str_list(value):
    return isinstance(value, list) and all(isinstance(item, str) for item in value)


def _kind(value):
    return {list: "a list", str: "a string", bool: "a boolean", int: "a number", float: "a number",
            type(None): "null"}.get(type(value), type(value).__name__)
