"""GPUs, CPUs and Neuron cores, each probed once per start and each with a bounded wait."""

import os

from .. import jsonc, log


class Resources(object):
    def __init__(self, gpus, cpus, neurons, smddprun, smddpmprun):
        self.gpus = gpus
        self.cpus = cpus
        self.neurons = neurons
        self.smddprun = smddprun
        self.smddpmprun = smddpmprun


def probe(instance_type, path, timeout):
    return Resources(
        gpus=count_gpus(path, timeout),
        cpus=os.cpu_count() or 1,
        neurons=count_neurons(instance_type, path, timeout),
        smddprun=which("smddprun", path) is not None,
        smddpmprun=which("smddpmprun", path) is not None,
    )


def which(name, path, executable=True):
    """The first executable file called ``name`` (a file name, without "/") on ``path``, as ``which`` finds it
    (with ``executable`` False: the first file of that name, executable or not); None when there is none. The
    one PATH lookup."""
    for folder in (path or "").split(os.pathsep):
        # Concatenated: the file os.path.join names, for a name without "/", without its cost on every folder
        # (a quarter of the search). access() first: it answers "no such file" without raising, the common case.
        candidate = (folder or ".") + "/" + name
        if (os.access(candidate, os.X_OK) or not executable) and os.path.isfile(candidate):
            return os.path.join(folder or ".", name)
    return None


def count_gpus(path, timeout):
    out = _run("nvidia-smi", ["--list-gpus"], path, timeout, "No GPUs detected (normal if no gpus installed)")
    return 0 if out is None else sum(1 for line in out.split("\n") if line.startswith("GPU "))


def count_neurons(instance_type, path, timeout):
    if "trn2.48xlarge" in instance_type:
        return 64
    out = _run("neuron-ls", ["-j"], path, timeout, "No Neurons detected (normal if no neurons installed)")
    if out is None:
        return 0
    try:
        cores = sum(item.get("nc_count", 0) for item in jsonc.loads(out))
    except (ValueError, TypeError, AttributeError, RecursionError):
        log.warning("neuron-ls -j printed something that is not its JSON device list; counting 0 Neuron cores")
        return 0
    log.info("Found %d neurons on this instance" % cores)
    return cores


def _run(name, args, path, timeout, absent):
    """The probe's stdout, or None when it is not installed, fails, or outlasts ``timeout`` seconds."""
    found = which(name, path)
    if found is None:
        log.info(absent)  # the toolkit's words: users look for them
        return None
    import subprocess

    try:
        # Its own session, so that a hung probe's children die with it and cannot hold the pipe open.
        child = subprocess.Popen([found] + args, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                 stdin=subprocess.DEVNULL, start_new_session=True)
    except OSError as e:
        log.warning("%s could not be started (%s); counting 0" % (name, e.strerror or e))
        return None
    try:
        out, _ = child.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        _kill_group(child.pid)
        child.stdout.close()
        try:
            child.wait(timeout=1)  # a probe stuck in the driver (state D) outlives even SIGKILL: leave it
        except subprocess.TimeoutExpired:
            pass
        log.warning("%s did not answer within %g s; counting 0 (set SM_TRAIN_PROBE_TIMEOUT to wait longer)"
                    % (name, timeout))
        return None
    except BaseException:  # a stop (SIGTERM, SIGINT) while waiting: the probe, in its own session, goes too
        _kill_group(child.pid)
        raise
    if child.returncode != 0:
        log.warning("%s %s failed with exit status %d; counting 0" % (name, " ".join(args), child.returncode))
        return None
    return out.decode("utf-8", "replace")


def _kill_group(pid):
    import signal

    try:
        os.killpg(pid, signal.SIGKILL)
    except OSError:
        pass
