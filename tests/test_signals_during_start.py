"""A stop while the start is still going (probing, writing the start record), through the built pyz, in exec and
supervise modes, as a child or as PID 1: status 143, one error line, the failure file, no traceback, and the
probe stopped with it."""

import os
import signal
import subprocess
import sys
import time

import pytest
from conftest import clean_env, error_lines, make_tree

PROGRAM = {"sagemaker_program": '"train.py"'}
RC = {"current_host": "algo-1", "hosts": ["algo-1"]}
TRAIN = {"train.py": "print('ran')\n"}


def slow_probe_env(tmp_path):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    marker = tmp_path / "probe.pid"
    fake = bin_dir / "nvidia-smi"
    fake.write_text("#!/bin/sh\necho $$ > %s\nexec sleep 120\n" % marker)
    fake.chmod(0o755)
    return clean_env(PATH="%s:%s" % (bin_dir, os.environ["PATH"]), SM_TRAIN_PROBE_TIMEOUT="60"), marker


def wait_for(path, proc):
    deadline = time.monotonic() + 30
    while not (os.path.exists(str(path)) and os.path.getsize(str(path))):
        assert proc.poll() is None and time.monotonic() < deadline
        time.sleep(0.05)
    return int(path.read_text())


def pid_one_child(unshare):
    """The host pid of the process that `unshare --fork` made PID 1 of its namespace."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        with open("/proc/%d/task/%d/children" % (unshare.pid, unshare.pid)) as f:
            children = f.read().split()
        if children:
            return int(children[0])
        time.sleep(0.02)
    raise AssertionError("unshare started no child")


def can_be_pid_one():
    try:
        return subprocess.run(["unshare", "--pid", "--fork", "true"], stderr=subprocess.DEVNULL,
                              timeout=10).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


@pytest.mark.parametrize("pid_one", [False, True], ids=["child", "pid1"])
@pytest.mark.parametrize("mode", [[], ["--supervise"]], ids=["exec", "supervise"])
def test_sigterm_while_probing_stops_the_start(pyz, tmp_path, mode, pid_one):
    if pid_one and not can_be_pid_one():
        pytest.skip("cannot make a PID namespace here (unshare --pid needs root)")
    root = make_tree(tmp_path / "ml", PROGRAM, {}, RC, TRAIN)
    env, marker = slow_probe_env(tmp_path)
    argv = [sys.executable, pyz, "--root", root] + mode
    proc = subprocess.Popen((["unshare", "--pid", "--fork", "--kill-child"] if pid_one else []) + argv, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        probe = wait_for(marker, proc)
        os.kill(pid_one_child(proc) if pid_one else proc.pid, signal.SIGTERM)
        _, stderr = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    lines = error_lines(stderr.decode())
    assert proc.returncode == 143, stderr.decode()
    assert len(lines) == 1 and "Traceback" not in stderr.decode()
    with open(os.path.join(root, "output", "failure")) as f:
        assert f.read() == "stopped by SIGTERM (signal 15) before the program started"
    assert "ran" not in stderr.decode()
    if not pid_one:  # the probe's own session is killed with it (in a namespace, PID 1's end kills it anyway)
        deadline = time.monotonic() + 10
        while alive(probe):
            assert time.monotonic() < deadline, "the probe outlived the stopped start"
            time.sleep(0.05)


@pytest.mark.parametrize("mode", [[], ["--supervise"]], ids=["exec", "supervise"])
def test_sigterm_while_the_start_record_is_written_stops_the_start(pyz, tmp_path, mode):
    """A stop between the plan and exec (here the start record, held up by a full stderr pipe) ends the start
    as a stop while probing does: 143, one error line, the failure file, no traceback."""
    hps = dict(PROGRAM, **{"hp%d" % i: '"%s"' % ("v" * 40) for i in range(2000)})  # a record of about 400 KB
    root = make_tree(tmp_path / "ml", hps, {}, RC, TRAIN)
    proc = subprocess.Popen([sys.executable, pyz, "--root", root] + mode, env=clean_env(), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 30
        while True:  # until it waits for the pipe (the kernel calls the wait pipe_write or anon_pipe_write)
            with open("/proc/%d/wchan" % proc.pid) as f:
                if "pipe_write" in f.read():
                    break
            assert proc.poll() is None and time.monotonic() < deadline, "the launcher never waited on stderr"
            time.sleep(0.02)
        proc.send_signal(signal.SIGTERM)
        out, stderr = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 143, stderr.decode()[-3000:]
    assert "Traceback" not in stderr.decode() and out == b""
    assert len(error_lines(stderr.decode())) == 1
    with open(os.path.join(root, "output", "failure")) as f:
        assert f.read() == "stopped by SIGTERM (signal 15) before the program started"


def alive(pid):
    """Running, not gone or a zombie waiting for whoever inherited it."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rpartition(")")[2].split()[0] != "Z"
    except FileNotFoundError:
        return False
