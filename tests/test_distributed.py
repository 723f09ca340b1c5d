"""Distributed training: parity of the dry run with the recorded toolkit (tests/golden_distributed), the
selection rules and their errors, the bounded waits, and the master/worker hand-over, black-box against the
built pyz. Fakes (sshd, mpirun, torchrun) are small scripts on PATH; the real engines are in
test_distributed_engines.py."""

import json
import os
import signal
import socket
import stat
import subprocess
import sys
import threading
import time

import pytest
from conftest import clean_env, make_tree, print_env, run_pyz
from distributed_cases import CASES, FAKE_NVIDIA_SMI, FAKE_SMDDPRUN, cpus_of_this_machine, hps, normalize

from launcher.cluster import node, waits
from launcher.errors import JobError, Stopped

HERE = os.path.dirname(os.path.abspath(__file__))
GOLDEN = os.path.join(HERE, "golden_distributed")
WAIT = 120  # seconds; generous for a loaded 2-core machine, and only reached when something is broken
SYSTEM_PATH = "/usr/bin:/bin"


def fake_bin(folder, files):
    os.makedirs(folder, exist_ok=True)
    for name, body in files.items():
        path = os.path.join(folder, name)
        with open(path, "w") as f:
            f.write(body)
        os.chmod(path, 0o755)
    return folder


def golden(name):
    with open(os.path.join(GOLDEN, name + ".json")) as f:
        return json.load(f)


@pytest.mark.parametrize("name", sorted(CASES))
def test_print_env_matches_the_toolkit(pyz, tmp_path, name):
    spec = CASES[name]
    root = make_tree(tmp_path / "ml", spec["hyperparameters"], {}, spec["resourceconfig"], spec["code"])
    fakes = {"nvidia-smi": FAKE_NVIDIA_SMI} if spec["gpus"] else {}
    for tool in ("smddprun", "smddpmprun"):
        if spec[tool]:
            fakes[tool] = FAKE_SMDDPRUN
    env = clean_env(PATH=fake_bin(str(tmp_path / "bin"), fakes) + os.pathsep + SYSTEM_PATH, **spec["env"])
    env["SAGEMAKER_BASE_DIR"] = root  # as recorded: the toolkit found its tree through this variable
    status, doc, err = print_env(pyz, root, env=env)
    assert status == 0, err
    recorded = golden(name)
    theirs = normalize(recorded, recorded["base"], recorded["python"])
    theirs["env"] = cpus_of_this_machine(theirs["env"], recorded["cpus"])
    ours = normalize(doc, root, sys.executable)
    if json.loads(spec["hyperparameters"]["sagemaker_program"]).endswith(".py"):
        # sm-train's documented addition for a Python program, whichever launcher (or sshd) starts it
        assert ours["env"].pop("PYTHONUNBUFFERED") == "1"
    assert ours["argv"] == theirs["argv"]
    assert ours["env"] == theirs["env"]
    if theirs["cwd"] is None:
        # A worker's command is sshd, which the toolkit and sm-train both start in their own cwd; sm-train's plan
        # names the code dir, where the worker's install steps run.
        assert recorded["runner"] == "WorkerRunner" and ours["argv"][0] == "/usr/sbin/sshd"
        assert ours["cwd"] == "<BASE>/code"
    else:
        assert ours["cwd"] == theirs["cwd"]


def dry(pyz, tmp_path, hyperparameters, rc, fakes=None, env=None, code=None):
    root = make_tree(tmp_path / "ml", hyperparameters, {}, rc, code or {"train.py": "print(1)\n"})
    path = fake_bin(str(tmp_path / "bin"), fakes or {}) + os.pathsep + SYSTEM_PATH
    return print_env(pyz, root, env=clean_env(PATH=path, **(env or {})))


def hosts_rc(current, hosts, nic="eth0"):
    return {"current_host": current, "hosts": hosts, "network_interface_name": nic}


def test_mpi_wins_over_torchrun_as_in_the_container(pyz, tmp_path):
    both = hps(sagemaker_program="train.py", sagemaker_mpi_enabled=True, sagemaker_torch_distributed_enabled=True)
    status, doc, _ = dry(pyz, tmp_path, both, hosts_rc("algo-1", ["algo-1", "algo-2"]))
    assert status == 0 and doc["argv"][0] == "mpirun"


def test_pytorch_ddp_wins_over_torchrun_as_in_the_container(pyz, tmp_path):
    both = hps(sagemaker_program="train.py", sagemaker_pytorch_ddp_enabled=True,
               sagemaker_torch_distributed_enabled=True)
    status, doc, _ = dry(pyz, tmp_path, both, hosts_rc("algo-1", ["algo-1", "algo-2"]),
                         fakes={"smddprun": FAKE_SMDDPRUN})
    assert status == 0 and doc["argv"][0] == "mpirun" and "smddprun" in doc["argv"]


def test_smddp_without_smddprun_is_one_clear_error(pyz, tmp_path):
    on = hps(sagemaker_program="train.py", sagemaker_distributed_dataparallel_enabled=True)
    for current in ("algo-1", "algo-2"):  # the master and a worker both refuse, so neither waits for the other
        status, doc, err = dry(pyz, tmp_path / current, on, hosts_rc(current, ["algo-1", "algo-2"]))
        assert status == 127
        assert "needs smddprun on PATH" in doc["error"] and "\n" not in doc["error"]
        assert "Traceback" not in err


def test_a_parameter_server_switch_leaves_the_plain_single_process(pyz, tmp_path):
    status, doc, _ = dry(pyz, tmp_path, hps(sagemaker_program="train.py", sagemaker_parameter_server_enabled=True),
                         hosts_rc("algo-1", ["algo-1", "algo-2"]))
    assert status == 0 and doc["argv"][1:3] == ["--", "train.py"] and "MASTER_ADDR" not in doc["env"]


@pytest.mark.parametrize("files, message", [
    ({"train.sh": "#!/bin/sh\n"}, "Unsupported entry point type for torch_distributed"),
    ({"train.py": "", "setup.py": ""}, "Python packages are not supported for torch_distributed"),
])
def test_torchrun_refuses_what_the_toolkit_refuses(pyz, tmp_path, files, message):
    name = [n for n in files if n.startswith("train")][0]
    status, doc, _ = dry(pyz, tmp_path, hps(sagemaker_program=name, sagemaker_torch_distributed_enabled=True),
                         hosts_rc("algo-1", ["algo-1", "algo-2"]), code=files)
    assert status == 1 and message in doc["error"]


def test_explicit_command_runs_under_torchrun_without_python(pyz, tmp_path):
    """The toolkit has no explicit command; sm-train's `-- CMD` under torchrun is the recorded torchrun command
    (torchrun_2nodes_rank1) with the program replaced by torchrun's own --no-python form, documented by torchrun
    ("--no-python: skip prepending the training script with 'python'"). Only that tail is written here."""
    spec = CASES["torchrun_2nodes_rank1"]
    root = make_tree(tmp_path / "ml", spec["hyperparameters"], {}, spec["resourceconfig"], {})
    env = clean_env(PATH=fake_bin(str(tmp_path / "bin"), {"nvidia-smi": FAKE_NVIDIA_SMI}) + os.pathsep + SYSTEM_PATH,
                    **spec["env"])
    status, doc, err = print_env(pyz, root, "--", "echo", "hi", env=env)
    assert status == 0, err
    recorded = golden("torchrun_2nodes_rank1")["argv"]
    assert doc["argv"] == recorded[:recorded.index("train.py")] + ["--no-python", "echo", "hi"]


def test_custom_mpi_options_without_a_value_are_one_clear_error(pyz, tmp_path):
    bad = hps(sagemaker_program="train.py", sagemaker_mpi_enabled=True,
              sagemaker_mpi_custom_mpi_options="-x A=1 --NCCL_DEBUG")
    status, doc, _ = dry(pyz, tmp_path, bad, hosts_rc("algo-1", ["algo-1", "algo-2"]))
    assert status == 1 and "sagemaker_mpi_custom_mpi_options" in doc["error"] and "NCCL_DEBUG" in doc["error"]


def test_print_env_neither_waits_nor_starts_anything(pyz, tmp_path):
    """Unresolvable hosts and no sshd: the dry run still answers at once."""
    on = hps(sagemaker_program="train.py", sagemaker_mpi_enabled=True)
    env = {"SM_TRAIN_SSHD": str(tmp_path / "no-sshd"), "SM_TRAIN_DNS_TIMEOUT": "600"}
    start = time.monotonic()
    status, doc, _ = dry(pyz, tmp_path, on, hosts_rc("algo-2", ["algo-1.invalid", "algo-2"]), env=env)
    assert status == 0 and doc["argv"] == [str(tmp_path / "no-sshd"), "-D"]
    assert time.monotonic() - start < 60


# -- real runs with fakes -----------------------------------------------------------------------------------

# The shell part logs the pid first, so that an sshd stopped the moment it starts is still in the log.
FAKE_SSHD = """#!/bin/sh
echo "$$ $*" >> "$FAKE_SSHD_LOG"
exec %s "$0.py"
""" % sys.executable

FAKE_SSHD_PY = """
import os, signal, socket, sys, time
signal.signal(signal.SIGTERM, lambda *a: sys.exit(0))
port = os.environ.get("FAKE_SSHD_PORT")
if not port:
    while True:
        time.sleep(60)
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(port)))
s.listen(16)
while True:
    c, _ = s.accept()
    c.sendall(b"SSH-2.0-fake\\r\\n")
    c.close()
"""

FAKE_MPIRUN = """#!/bin/sh
i=0  # until both fake sshds have logged their start (they take a moment to write it), at most 60 s
while [ "$(wc -l < "$FAKE_SSHD_LOG" 2>/dev/null || echo 0)" -lt "${FAKE_SSHDS:-0}" ] && [ $i -lt 600 ]; do
    sleep 0.1; i=$((i + 1))
done
printf '%s\\n' "$@" > "$FAKE_MPIRUN_ARGS"
exit "${FAKE_MPIRUN_STATUS:-0}"
"""

FAKE_TORCHRUN = """#!/bin/sh
printf '%s\\n' "$@" > "$FAKE_TORCHRUN_ARGS"
exit 0
"""


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Cluster(object):
    """Two launchers on this machine: the master "localhost" and the worker "127.0.0.1", each with its tree."""

    def __init__(self, pyz, tmp_path, mpirun_status=0, **settings):
        self.pyz = pyz
        self.tmp = tmp_path
        bin_dir = fake_bin(str(tmp_path / "bin"), {"sshd": FAKE_SSHD, "sshd.py": FAKE_SSHD_PY, "mpirun": FAKE_MPIRUN})
        self.sshd_log = str(tmp_path / "sshd.log")
        self.mpirun_args = str(tmp_path / "mpirun.args")
        self.ssh_port = free_port()
        self.env = clean_env(PATH=bin_dir + os.pathsep + os.environ.get("PATH", SYSTEM_PATH),
                             SM_TRAIN_SSHD=os.path.join(bin_dir, "sshd"), SM_TRAIN_SSH_PORT=str(self.ssh_port),
                             SM_TRAIN_STATUS_PORT=str(free_port()), FAKE_SSHD_LOG=self.sshd_log,
                             FAKE_MPIRUN_ARGS=self.mpirun_args, FAKE_MPIRUN_STATUS=str(mpirun_status),
                             SM_TRAIN_WORKER_TIMEOUT="60", SM_TRAIN_MASTER_TIMEOUT="60",
                             SM_TRAIN_MASTER_LOST_TIMEOUT="30")
        self.env.update(settings)

    def start(self, host):
        rc = {"current_host": host, "hosts": ["localhost", "127.0.0.1"], "network_interface_name": "lo"}
        on = hps(sagemaker_program="train.py", sagemaker_mpi_enabled=True)
        root = make_tree(self.tmp / host, on, {}, rc, {"train.py": "print(1)\n"})
        env = dict(self.env, SM_TRAIN_SSH_ENVIRONMENT=str(self.tmp / (host + ".environment")))
        if host != "localhost":
            env["FAKE_SSHD_PORT"] = str(self.ssh_port)  # only the worker's sshd is reached
        proc = subprocess.Popen([sys.executable, self.pyz, "--root", root], env=env, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE)
        proc.root = root
        return proc

    def sshd_pids(self):
        if not os.path.exists(self.sshd_log):
            return []
        with open(self.sshd_log) as f:
            return [int(line.split()[0]) for line in f if line.strip()]


def finish(proc):
    out, err = proc.communicate(timeout=WAIT)
    return proc.returncode, err.decode()


def failure(proc):
    path = os.path.join(proc.root, "output", "failure")
    if not os.path.exists(path):
        return None
    with open(path) as f:
        return f.read()


def assert_gone(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            assert f.read().split(") ")[1][0] == "Z", "sshd %d still runs" % pid
    except FileNotFoundError:
        pass


def test_worker_exits_0_when_the_master_succeeds(pyz, tmp_path):
    cluster = Cluster(pyz, tmp_path, FAKE_SSHDS="2")
    environment = str(tmp_path / "127.0.0.1.environment")
    with open(environment, "w") as f:  # as /etc/environment usually is: world-readable, with lines of its own
        f.write("LANG=C.UTF-8\n")
    os.chmod(environment, 0o644)
    worker = cluster.start("127.0.0.1")
    master = cluster.start("localhost")
    (m_status, m_err), (w_status, w_err) = finish(master), finish(worker)
    assert m_status == 0, m_err
    assert w_status == 0, w_err
    assert "The MPI job on master localhost succeeded" in w_err
    with open(cluster.mpirun_args) as f:
        argv = f.read().splitlines()
    assert argv[:4] == ["--host", "localhost,127.0.0.1", "-np", "2"]
    assert argv[-4:] == [sys.executable, "-m", "mpi4py", "train.py"]
    with open(environment) as f:  # what the worker's ssh sessions will see
        text = f.read()
    assert text.startswith("LANG=C.UTF-8\n") and "CURRENT_HOST=127.0.0.1\n" in text
    assert stat.S_IMODE(os.stat(environment).st_mode) == 0o600  # it now holds the job's secrets too
    assert not os.path.exists(str(tmp_path / "localhost.environment"))
    pids = cluster.sshd_pids()
    assert len(pids) == 2
    for pid in pids:
        assert_gone(pid)


def test_worker_fails_when_the_master_fails(pyz, tmp_path):
    cluster = Cluster(pyz, tmp_path, mpirun_status=3)
    worker = cluster.start("127.0.0.1")
    master = cluster.start("localhost")
    (m_status, m_err), (w_status, w_err) = finish(master), finish(worker)
    assert m_status == 3, m_err
    assert failure(master) == "mpirun exited with status 3"
    assert w_status == 3, w_err
    assert failure(worker) == "the MPI job on master localhost failed with status 3"


def test_worker_gives_up_on_a_master_that_never_appears(pyz, tmp_path):
    cluster = Cluster(pyz, tmp_path, SM_TRAIN_MASTER_TIMEOUT="2")
    start = time.monotonic()
    status, err = finish(cluster.start("127.0.0.1"))
    assert status != 0
    assert "did not answer" in err and "SM_TRAIN_MASTER_TIMEOUT" in err
    assert time.monotonic() - start < WAIT
    pids = cluster.sshd_pids()
    assert len(pids) == 1, "the worker's sshd never started"
    for pid in pids:
        assert_gone(pid)


def test_master_gives_up_on_a_worker_that_never_appears(pyz, tmp_path):
    cluster = Cluster(pyz, tmp_path, SM_TRAIN_WORKER_TIMEOUT="2")
    master = cluster.start("localhost")
    status, err = finish(master)
    assert status != 0
    assert "SM_TRAIN_WORKER_TIMEOUT" in failure(master)
    assert not os.path.exists(cluster.mpirun_args)


def torchrun_node(tmp_path, other_host, **env):
    """Node 0 of a two-node torchrun job whose other host is ``other_host``, with a fake torchrun that writes
    its arguments to the returned ``args`` file: (root, args, environment)."""
    on = hps(sagemaker_program="train.py", sagemaker_torch_distributed_enabled=True)
    root = make_tree(tmp_path / "ml", on, {}, hosts_rc("localhost", ["localhost", other_host]), {"train.py": ""})
    args = str(tmp_path / "torchrun.args")
    path = fake_bin(str(tmp_path / "bin"), {"torchrun": FAKE_TORCHRUN}) + os.pathsep + SYSTEM_PATH
    return root, args, clean_env(PATH=path, FAKE_TORCHRUN_ARGS=args, **env)


def one_error(err):
    errors = [line for line in err.splitlines() if " ERROR " in line]
    return len(errors) == 1 and "Traceback" not in err


def test_a_name_that_never_resolves_ends_the_start(pyz, tmp_path):
    root, args, env = torchrun_node(tmp_path, "no-such-host.invalid", SM_TRAIN_DNS_TIMEOUT="1")
    result = run_pyz(pyz, "--root", root, env=env, timeout=WAIT)
    assert result.returncode == 1
    with open(os.path.join(root, "output", "failure")) as f:
        text = f.read()
    assert "no-such-host.invalid" in text and "SM_TRAIN_DNS_TIMEOUT" in text
    assert one_error(result.stderr.decode())
    assert not os.path.exists(args)


def test_a_host_name_that_cannot_be_looked_up_ends_the_start_at_once(pyz, tmp_path):
    """An over-long label is no DNS lag: it fails before the 600 s wait, naming the host."""
    bad = "x" * 70 + ".example"
    root, args, env = torchrun_node(tmp_path, bad, SM_TRAIN_DNS_TIMEOUT="600")
    result = run_pyz(pyz, "--root", root, env=env, timeout=WAIT)
    assert result.returncode == 1
    with open(os.path.join(root, "output", "failure")) as f:
        assert f.read().startswith('host name "%s" cannot be looked up' % bad)
    assert one_error(result.stderr.decode())
    assert not os.path.exists(args)


@pytest.mark.parametrize("host", ["bad\0host", "x" * 70 + ".example"])
def test_wait_for_names_names_a_host_no_lookup_can_take(host):
    with pytest.raises(JobError, match="cannot be looked up"):
        waits.wait_for_names(["localhost", host], 600, {}, waits.Stop())


def test_studio_local_mode_skips_the_name_wait_and_execs_torchrun(pyz, tmp_path):
    """The SDK's Studio local mode sets SM_STUDIO_LOCAL_MODE; the other host's name never resolves. The torchrun
    command is the recorded one (torchrun_studio_local), the log line the toolkit's (entry_point.run)."""
    spec = CASES["torchrun_studio_local"]
    root = make_tree(tmp_path / "ml", spec["hyperparameters"], {}, spec["resourceconfig"], spec["code"])
    args = str(tmp_path / "torchrun.args")
    path = fake_bin(str(tmp_path / "bin"), {"torchrun": FAKE_TORCHRUN}) + os.pathsep + SYSTEM_PATH
    env = clean_env(PATH=path, FAKE_TORCHRUN_ARGS=args, SM_TRAIN_DNS_TIMEOUT="1", **spec["env"])
    result = run_pyz(pyz, "--root", root, env=env, timeout=WAIT)
    assert result.returncode == 0, result.stderr.decode()
    assert "Bypass DNS check in case of Studio Local Mode execution." in result.stderr.decode()
    recorded = golden("torchrun_studio_local")["argv"]
    assert recorded[0] == "torchrun"
    with open(args) as f:
        assert f.read().splitlines() == recorded[1:]


def test_torchrun_missing_is_named(pyz, tmp_path):
    on = hps(sagemaker_program="train.py", sagemaker_torch_distributed_enabled=True)
    root = make_tree(tmp_path / "ml", on, {}, hosts_rc("localhost", ["localhost"]), {"train.py": ""})
    result = run_pyz(pyz, "--root", root, env=clean_env(PATH=str(tmp_path)), timeout=WAIT)
    assert result.returncode == 127
    with open(os.path.join(root, "output", "failure")) as f:
        assert f.read().startswith("torchrun not found on PATH")


def test_sigterm_ends_a_waiting_worker_and_its_sshd(pyz, tmp_path):
    cluster = Cluster(pyz, tmp_path)
    worker = cluster.start("127.0.0.1")
    deadline = time.monotonic() + WAIT
    while not cluster.sshd_pids() and time.monotonic() < deadline and worker.poll() is None:
        time.sleep(0.05)  # until the worker's sshd has said it runs: the worker is in its wait
    pids = cluster.sshd_pids()
    assert len(pids) == 1, "the worker's sshd never started"
    worker.terminate()
    status, err = finish(worker)
    assert status == 128 + 15, err
    assert failure(worker) == "stopped by SIGTERM (signal 15) while waiting for the MPI master localhost"
    assert cluster.sshd_pids() == pids
    for pid in pids:
        assert_gone(pid)


BAD_SETTINGS = [
    ("SM_TRAIN_DNS_TIMEOUT", "0", "must be a number of seconds"),
    ("SM_TRAIN_WORKER_TIMEOUT", "inf", "must be a number of seconds"),
    ("SM_TRAIN_MASTER_TIMEOUT", "soon", "must be a number of seconds"),
    ("SM_TRAIN_MASTER_LOST_TIMEOUT", "-1", "must be a number of seconds"),
    ("SM_TRAIN_STATUS_PORT", "70000", "must be a whole number from 1 to 65535"),
    ("SM_TRAIN_SSH_PORT", "ssh", "must be a whole number from 1 to 65535"),
]


@pytest.mark.parametrize("name, value, message", BAD_SETTINGS)
def test_a_bad_wait_setting_fails_the_dry_run_as_a_usage_error(pyz, tmp_path, name, value, message):
    on = hps(sagemaker_program="train.py", sagemaker_mpi_enabled=True)
    status, doc, err = dry(pyz, tmp_path, on, hosts_rc("algo-2", ["algo-1", "algo-2"]), env={name: value})
    assert status == 2, err
    assert doc["error"].startswith("%s %s" % (name, message)) and repr(value) in doc["error"]
    assert one_error(err)


@pytest.mark.parametrize("name, value, message", BAD_SETTINGS)
def test_a_bad_wait_setting_stops_a_real_start_before_anything_runs(pyz, tmp_path, name, value, message):
    """A worker with a requirements.txt: neither pip nor sshd is started."""
    cluster = Cluster(pyz, tmp_path, **{name: value})
    on = hps(sagemaker_program="train.py", sagemaker_mpi_enabled=True)
    root = make_tree(tmp_path / "ml", on, {}, hosts_rc("127.0.0.1", ["localhost", "127.0.0.1"], "lo"),
                     {"train.py": "print(1)\n", "requirements.txt": "no-such-package-sm-train\n"})
    result = run_pyz(pyz, "--root", root, env=cluster.env, timeout=WAIT)
    err = result.stderr.decode()
    assert result.returncode == 2, err
    with open(os.path.join(root, "output", "failure")) as f:
        assert f.read().startswith("%s %s" % (name, message))
    assert one_error(err) and "Installing dependencies" not in err
    assert cluster.sshd_pids() == []


def signal_once_waiting(proc, line, sig, ready=lambda: True):
    """Send ``sig`` once ``line`` is in the launcher's stderr and ``ready()``; (status, stderr). Bounded by WAIT
    throughout."""
    lines = []

    def read():
        for chunk in iter(proc.stderr.readline, b""):
            lines.append(chunk.decode())

    reader = threading.Thread(target=read)
    reader.daemon = True
    reader.start()
    deadline = time.monotonic() + WAIT
    try:
        while not (any(line in text for text in lines) and ready()):
            assert proc.poll() is None and time.monotonic() < deadline, "".join(lines)
            time.sleep(0.05)
        proc.send_signal(sig)
        status = proc.wait(WAIT)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    reader.join(WAIT)
    return status, "".join(lines)


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_a_signal_ends_the_name_wait(pyz, tmp_path, sig):
    """The launcher is PID 1 on SageMaker, where a signal without a handler is ignored: the wait has one."""
    root, args, env = torchrun_node(tmp_path, "nonexistent.invalid", SM_TRAIN_DNS_TIMEOUT="600")
    proc = subprocess.Popen([sys.executable, pyz, "--root", root], env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE)
    status, err = signal_once_waiting(proc, "Waiting for host names to resolve: nonexistent.invalid", sig)
    assert status == 128 + sig, err
    with open(os.path.join(root, "output", "failure")) as f:
        assert f.read() == ("stopped by %s (signal %d) while waiting for the host names to resolve"
                            % (signal.Signals(sig).name, sig))
    assert one_error(err)
    assert not os.path.exists(args)


def test_sigterm_ends_a_master_waiting_for_its_workers_and_its_sshd(pyz, tmp_path):
    cluster = Cluster(pyz, tmp_path, SM_TRAIN_WORKER_TIMEOUT="600")
    master = cluster.start("localhost")  # no worker ever comes
    status, err = signal_once_waiting(master, "Waiting for the MPI workers' SSH daemons", signal.SIGTERM,
                                      ready=cluster.sshd_pids)
    assert status == 128 + 15, err
    assert failure(master) == "stopped by SIGTERM (signal 15) while waiting for the MPI workers' SSH daemons"
    assert one_error(err) and not os.path.exists(cluster.mpirun_args)
    pids = cluster.sshd_pids()
    assert len(pids) == 1, "the master's sshd never started"
    for pid in pids:
        assert_gone(pid)


def test_stop_records_a_signal_and_raises_only_when_checked():
    before = signal.getsignal(signal.SIGTERM)
    stop = waits.Stop()
    with stop:
        os.kill(os.getpid(), signal.SIGTERM)  # handled by the time kill returns: the handler must not raise
        assert stop.received == [signal.SIGTERM]
        with pytest.raises(Stopped) as e:
            stop.check("while testing")
    assert e.value.status == 143 and str(e.value) == "stopped by SIGTERM (signal 15) while testing"
    assert signal.getsignal(signal.SIGTERM) == before


def test_a_signal_while_the_child_starts_is_passed_on_once_it_runs(monkeypatch):
    """The forwarding handler is in place before Popen: a SIGTERM that comes while it runs reaches the child."""
    real = subprocess.Popen

    def popen(*args, **kwargs):
        os.kill(os.getpid(), signal.SIGTERM)  # before the child exists
        return real(*args, **kwargs)

    monkeypatch.setattr(subprocess, "Popen", popen)
    before = signal.getsignal(signal.SIGTERM)
    code = node._run_child(["sleep", str(WAIT)], None, dict(os.environ), waits.Stop())
    assert code == -signal.SIGTERM
    assert signal.getsignal(signal.SIGTERM) == before
