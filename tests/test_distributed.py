"""Distributed training: parity of the dry run with the recorded toolkit (tests/golden_distributed), the
selection rules and their errors, the bounded waits, and the master/worker hand-over, black-box against the
built pyz. Fakes (sshd, mpirun, torchrun) are small scripts on PATH; the real engines are in
test_distributed_engines.py."""

import json
import os
import socket
import subprocess
import sys
import time

import pytest
from conftest import clean_env, make_tree, print_env, run_pyz
from distributed_cases import CASES, FAKE_NVIDIA_SMI, FAKE_SMDDPRUN, hps, normalize

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
    if spec["smddprun"]:
        fakes["smddprun"] = FAKE_SMDDPRUN
    env = clean_env(PATH=fake_bin(str(tmp_path / "bin"), fakes) + os.pathsep + SYSTEM_PATH, **spec["env"])
    status, doc, err = print_env(pyz, root, env=env)
    assert status == 0, err
    recorded = golden(name)
    theirs = normalize(recorded, recorded["base"], recorded["python"])
    ours = normalize(doc, root, sys.executable)
    assert ours["argv"] == theirs["argv"]
    assert ours["env"] == theirs["env"]
    if theirs["cwd"]:
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
    root = make_tree(tmp_path / "ml", hps(sagemaker_torch_distributed_enabled=True),
                     {}, hosts_rc("algo-2", ["algo-1", "algo-2"]), {})
    status, doc, _ = print_env(pyz, root, "--", "echo", "hi", env=clean_env(PATH=SYSTEM_PATH))
    assert status == 0
    assert doc["argv"] == ["torchrun", "--nnodes", "2", "--nproc_per_node", "1", "--master_addr", "algo-1",
                           "--master_port", "7777", "--node_rank", "1", "--no-python", "echo", "hi"]


def test_custom_mpi_options_without_a_value_are_one_clear_error(pyz, tmp_path):
    bad = hps(sagemaker_program="train.py", sagemaker_mpi_enabled=True,
              sagemaker_mpi_custom_mpi_options="-x A=1 --NCCL_DEBUG")
    status, doc, _ = dry(pyz, tmp_path, bad, hosts_rc("algo-1", ["algo-1", "algo-2"]))
    assert status == 1 and "sagemaker_mpi_custom_mpi_options" in doc["error"] and "NCCL_DEBUG" in doc["error"]


def test_mpi_model_parallel_takes_the_torch_version_from_the_image(pyz, tmp_path):
    on = hps(sagemaker_program="train.py", sagemaker_mpi_enabled=True, mp_parameters={"partitions": 2})
    status, doc, _ = dry(pyz, tmp_path, on, hosts_rc("algo-1", ["algo-1", "algo-2"]),
                         fakes={"smddpmprun": FAKE_SMDDPRUN}, env={"SM_DLC_TORCH_VERSION": "2.3.0"})
    assert status == 0
    tail = doc["argv"][doc["argv"].index("SM_HP_MP_PARAMETERS"):]
    assert tail[1:11] == ["-x", "PYTHONPATH", "-x", "NCCL_PROTO=simple", "-x", "NCCL_ALGO=ring", "smddpmprun", "-i",
                          "local", "--allow-bypass"]


def test_print_env_neither_waits_nor_starts_anything(pyz, tmp_path):
    """Unresolvable hosts and no sshd: the dry run still answers at once."""
    on = hps(sagemaker_program="train.py", sagemaker_mpi_enabled=True)
    env = {"SM_TRAIN_SSHD": str(tmp_path / "no-sshd"), "SM_TRAIN_DNS_TIMEOUT": "600"}
    start = time.monotonic()
    status, doc, _ = dry(pyz, tmp_path, on, hosts_rc("algo-2", ["algo-1.invalid", "algo-2"]), env=env)
    assert status == 0 and doc["argv"] == [str(tmp_path / "no-sshd"), "-D"]
    assert time.monotonic() - start < 60


# -- real runs with fakes -----------------------------------------------------------------------------------

FAKE_SSHD = """#!%s
import os, signal, socket, sys, time
signal.signal(signal.SIGTERM, lambda *a: sys.exit(0))
with open(os.environ["FAKE_SSHD_LOG"], "a") as f:
    f.write("%%d %%s\\n" %% (os.getpid(), " ".join(sys.argv[1:])))
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
""" % sys.executable

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
        bin_dir = fake_bin(str(tmp_path / "bin"), {"sshd": FAKE_SSHD, "mpirun": FAKE_MPIRUN})
        self.sshd_log = str(tmp_path / "sshd.log")
        self.mpirun_args = str(tmp_path / "mpirun.args")
        self.ssh_port = free_port()
        self.env = clean_env(PATH=bin_dir + os.pathsep + os.environ.get("PATH", SYSTEM_PATH),
                             SM_TRAIN_SSHD=os.path.join(bin_dir, "sshd"), SM_TRAIN_SSH_PORT=str(self.ssh_port),
                             SM_TRAIN_STATUS_PORT=str(free_port()), FAKE_SSHD_LOG=self.sshd_log,
                             FAKE_MPIRUN_ARGS=self.mpirun_args, FAKE_MPIRUN_STATUS=str(mpirun_status),
                             **dict({"SM_TRAIN_WORKER_TIMEOUT": "60", "SM_TRAIN_MASTER_TIMEOUT": "60",
                                     "SM_TRAIN_MASTER_LOST_TIMEOUT": "30"}, **settings))

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
    with open(str(tmp_path / "127.0.0.1.environment")) as f:  # what the worker's ssh sessions will see
        assert "CURRENT_HOST=127.0.0.1\n" in f.read()
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
    for pid in cluster.sshd_pids():
        assert_gone(pid)


def test_master_gives_up_on_a_worker_that_never_appears(pyz, tmp_path):
    cluster = Cluster(pyz, tmp_path, SM_TRAIN_WORKER_TIMEOUT="2")
    master = cluster.start("localhost")
    status, err = finish(master)
    assert status != 0
    assert "SM_TRAIN_WORKER_TIMEOUT" in failure(master)
    assert not os.path.exists(cluster.mpirun_args)


def test_a_name_that_never_resolves_ends_the_start(pyz, tmp_path):
    on = hps(sagemaker_program="train.py", sagemaker_torch_distributed_enabled=True)
    root = make_tree(tmp_path / "ml", on, {}, hosts_rc("localhost", ["localhost", "no-such-host.invalid"]),
                     {"train.py": ""})
    path = fake_bin(str(tmp_path / "bin"), {"torchrun": FAKE_TORCHRUN}) + os.pathsep + SYSTEM_PATH
    env = clean_env(PATH=path, SM_TRAIN_DNS_TIMEOUT="1", FAKE_TORCHRUN_ARGS=str(tmp_path / "torchrun.args"))
    result = run_pyz(pyz, "--root", root, env=env, timeout=WAIT)
    assert result.returncode == 1
    with open(os.path.join(root, "output", "failure")) as f:
        text = f.read()
    assert "no-such-host.invalid" in text and "SM_TRAIN_DNS_TIMEOUT" in text
    errors = [line for line in result.stderr.decode().splitlines() if " ERROR " in line]
    assert len(errors) == 1 and "Traceback" not in result.stderr.decode()
    assert not os.path.exists(str(tmp_path / "torchrun.args"))


def test_studio_local_mode_skips_the_name_wait_and_execs_torchrun(pyz, tmp_path):
    on = hps(sagemaker_program="train.py", sagemaker_torch_distributed_enabled=True)
    root = make_tree(tmp_path / "ml", on, {}, hosts_rc("localhost", ["localhost", "no-such-host.invalid"]),
                     {"train.py": ""})
    args = str(tmp_path / "torchrun.args")
    path = fake_bin(str(tmp_path / "bin"), {"torchrun": FAKE_TORCHRUN}) + os.pathsep + SYSTEM_PATH
    env = clean_env(PATH=path, SM_STUDIO_LOCAL_MODE="true", FAKE_TORCHRUN_ARGS=args)
    result = run_pyz(pyz, "--root", root, env=env, timeout=WAIT)
    assert result.returncode == 0, result.stderr.decode()
    assert "Bypass DNS check" in result.stderr.decode()
    with open(args) as f:
        assert f.read().splitlines() == ["--nnodes", "2", "--nproc_per_node", "1", "--master_addr", "localhost",
                                         "--master_port", "7777", "--node_rank", "0", "train.py"]


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
    worker.terminate()
    status, err = finish(worker)
    assert status == 128 + 15, err
    assert failure(worker) == "stopped by signal 15 while waiting"
    for pid in cluster.sshd_pids():
        assert_gone(pid)


def test_a_bad_wait_setting_is_named(pyz, tmp_path):
    cluster = Cluster(pyz, tmp_path, SM_TRAIN_MASTER_TIMEOUT="soon")
    status, err = finish(cluster.start("127.0.0.1"))
    assert status == 1
    assert "SM_TRAIN_MASTER_TIMEOUT must be a positive number of seconds, not 'soon'" in err
    assert cluster.sshd_pids() == []
