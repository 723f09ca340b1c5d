"""What the check looks at: the tree (the image's /opt/ml, or --root), the program it names, the distribution,
hosts and GPUs asked for, and the code dir's Python sources, each read once."""

import os
import sys

from ..core import config, hyperparameters, probes
from ..core.layout import Layout
from ..errors import LauncherError

# The first distribution switch that is on picks the engine, as in cluster.engines.RUNNERS.
SWITCHES = (("sagemaker_mpi_enabled", "mpi"), ("sagemaker_pytorch_ddp_enabled", "smddp"),
            ("sagemaker_torch_distributed_enabled", "torchrun"),
            ("sagemaker_distributed_dataparallel_enabled", "smddp"),
            ("sagemaker_pytorch_xla_multi_worker_enabled", "xla"))
# Reading the code dir stays well under a second: beyond these, the rest of it is not compiled or searched.
MAX_SOURCES, MAX_SOURCE_BYTES, MAX_FOLDERS = 300, 2 * 1024 * 1024, 2000
SKIPPED_DIRS = ("__pycache__", "site-packages", "dist-packages", "node_modules")


class Context(object):
    def __init__(self, opts, environ):
        self.environ = environ
        self.path = environ.get("PATH", os.defpath)
        self.python = sys.executable
        self.version = "%d.%d.%d" % tuple(sys.version_info[:3])
        base = opts.root or environ.get("SAGEMAKER_BASE_DIR") or "/opt/ml"
        self.layout = Layout(base if os.path.isabs(base) else os.path.abspath(base))
        self.tree_error = None
        self.decoded, tree_hosts = self._read_tree()
        self.program, self.program_from = self._program()
        self.distribution = opts.distribution or self._distribution()
        self.hosts = opts.hosts or tree_hosts or 1
        self.probe_timeout = opts.probe_timeout
        self.gpus, self.gpus_from = self._gpus(opts.gpus)
        self._sources = None

    def _read_tree(self):
        """(decoded hyperparameters, the number of hosts) of the tree's config files; ({}, None) without any. A
        file the start would refuse is kept in tree_error, and the check goes on as without it."""
        names = (config.HYPERPARAMETERS, config.INPUT_DATA_CONFIG, config.RESOURCE_CONFIG)
        if not any(os.path.lexists(self.layout.config_file(name)) for name in names):
            return {}, None
        try:
            job = config.read_job(self.layout, self.environ)
            decoded = hyperparameters.decode(job.hyperparameters)[0]
        except LauncherError as e:
            self.tree_error = str(e)
            return {}, None
        return decoded, len(job.resource_config["hosts"])

    def _program(self):
        """(the entry point, where it is named): $SAGEMAKER_PROGRAM beats the hyperparameter, as in the toolkit."""
        if self.environ.get("SAGEMAKER_PROGRAM"):
            return self.environ["SAGEMAKER_PROGRAM"], "SAGEMAKER_PROGRAM"
        if self.decoded.get("sagemaker_program"):
            return self.decoded["sagemaker_program"], "the sagemaker_program hyperparameter"
        return None, None

    def _distribution(self):
        for switch, engine in SWITCHES:
            if self.decoded.get(switch):
                return engine
        return None

    def _gpus(self, asked):
        """(GPUs, where the number comes from): --gpus, else nvidia-smi's count where the runtime mounted it."""
        if asked is not None:
            return asked, "--gpus"
        if probes.which("nvidia-smi", self.path) is None:
            return 0, "no nvidia-smi here"
        return probes.count_gpus(self.path, self.probe_timeout), "nvidia-smi here"

    def code_files(self):
        """The names in the code dir, or None when it is missing or cannot be read."""
        try:
            return sorted(os.listdir(self.layout.code))
        except OSError:
            return None

    def submit_directory(self):
        """sagemaker_submit_directory when it will fill the empty code dir at the start (the code arrives then)."""
        source = self.decoded.get("sagemaker_submit_directory")
        return source if source and not self.code_files() else None

    def sources(self):
        """[(path relative to the code dir, bytes)] of the code dir's Python files, the program's first; bounded."""
        if self._sources is None:
            self._sources = list(_read_sources(self.layout.code, self.program))
        return self._sources


def _read_sources(code, program):
    found = []
    for visited, (folder, dirs, names) in enumerate(os.walk(code)):
        # no hidden folders, caches or installed packages; a virtual environment inside the code dir neither
        dirs[:] = sorted(d for d in dirs if not d.startswith(".") and d not in SKIPPED_DIRS
                         and not os.path.exists(os.path.join(folder, d, "pyvenv.cfg")))
        found += [os.path.relpath(os.path.join(folder, n), code) for n in sorted(names) if n.endswith(".py")]
        if len(found) > MAX_SOURCES or visited > MAX_FOLDERS:
            break
    if program in found:
        found.remove(program)
        found.insert(0, program)
    total = 0
    for name in found[:MAX_SOURCES]:
        try:
            with open(os.path.join(code, name), "rb") as f:
                data = f.read(MAX_SOURCE_BYTES - total + 1)
        except OSError:
            continue
        total += len(data)
        if total > MAX_SOURCE_BYTES:
            break
        yield name, data
