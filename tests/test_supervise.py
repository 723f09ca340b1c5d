"""--supervise, black-box in the style of dumb-init's tests: the built pyz runs as a subprocess, the program
records what it sees in files, and readiness files (never sleeps) say when to signal it."""

import hashlib
import os
import signal
import subprocess
import sys
import time

import pytest
from conftest import clean_env, make_tree, print_env

RC = {"current_host": "algo-1", "hosts": ["algo-1"]}
QUIET = {"sagemaker_container_log_level": "40"}  # only errors: the launcher adds nothing to a passing run's stderr
WAIT = 120  # seconds; generous for a loaded 2-core machine, and only reached when something is broken
FORWARDED = ["SIGTERM", "SIGINT", "SIGHUP", "SIGQUIT", "SIGUSR1", "SIGUSR2"]

# Installs a recording handler for every forwarded signal, says it is ready, ends once it got one.
RECORDER = """
import os, signal, sys, time
got = []
for name in %r:
    signal.signal(getattr(signal, name), lambda signum, frame: got.append(signum))
with open("pid", "w") as f:
    f.write(str(os.getpid()))
open(sys.argv[1], "w").close()
deadline = time.time() + %d
while not got and time.time() < deadline:
    time.sleep(0.01)
with open(sys.argv[2], "w") as f:
    f.write(" ".join(str(s) for s in got))
sys.exit(0 if got else 5)
""" % (FORWARDED, WAIT)

# Signal dispositions left at their defaults (SIGINT too), ready, then waits to be signalled.
SLEEPER = """
import signal, sys, time
signal.signal(signal.SIGINT, signal.SIG_DFL)
if len(sys.argv) > 2:
    signal.signal(getattr(signal, sys.argv[2]), signal.SIG_IGN)
open(sys.argv[1], "w").close()
time.sleep(%d)
sys.exit(6)
""" % WAIT


def job(tmp_path, code=None, hps=None):
    root = make_tree(tmp_path / "ml", QUIET if hps is None else hps, {}, RC, code or {})
    os.makedirs(os.path.join(root, "output"))
    return root


def start(pyz, root, command, supervise=True, options=(), env=None, stdout=subprocess.PIPE,
          stderr=subprocess.PIPE):
    argv = [sys.executable, pyz, "--root", root] + (["--supervise"] if supervise else []) + list(options)
    return subprocess.Popen(argv + ["--"] + command, env=env if env is not None else clean_env(),
                            stdout=stdout, stderr=stderr, preexec_fn=default_signals)


def default_signals():
    """The launcher keeps an ignored signal ignored for the program, as a shell does; a test run under nohup
    (SIGHUP ignored) must not pass that on to the launchers it starts."""
    for name in FORWARDED:
        signal.signal(getattr(signal, name), signal.SIG_DFL)


def python(*args):
    """A command line for the Python that runs the launcher, so the plan sees a Python program."""
    return [sys.executable] + list(args)


def finish(proc):
    """(status, stdout, stderr), never hanging: a launcher still running after WAIT is killed with its tree."""
    try:
        out, err = proc.communicate(timeout=WAIT)
    except subprocess.TimeoutExpired:
        kill_tree(proc.pid)
        out, err = proc.communicate()
        pytest.fail("the launcher hung; stderr:\n%s" % err.decode("utf-8", "replace")[-3000:])
    return proc.returncode, out, err


def kill_tree(pid):
    for child in children(pid):
        kill_tree(child)
    try:
        os.kill(pid, signal.SIGKILL)
    except OSError:
        pass


def children(pid):
    try:
        with open("/proc/%d/task/%d/children" % (pid, pid)) as f:
            return [int(p) for p in f.read().split()]
    except OSError:
        return []


def wait_for(path, proc):
    deadline = time.time() + WAIT
    while not os.path.exists(path):
        if proc.poll() is not None or time.time() > deadline:
            status, _, err = finish(proc)
            pytest.fail("%s never appeared (status %s); stderr:\n%s" % (path, status, err.decode()[-3000:]))
        time.sleep(0.01)


def failure(root):
    with open(os.path.join(root, "output", "failure"), "rb") as f:
        return f.read().decode("utf-8")  # strict: the file must be valid UTF-8


@pytest.fixture(params=[False, True], ids=["exec", "supervise"])
def supervise(request):
    return request.param


@pytest.mark.parametrize("status", [0, 1, 2, 3, 64, 127, 137, 255])
def test_exit_status_propagates(pyz, tmp_path, supervise, status):
    root = job(tmp_path)
    code, _, err = finish(start(pyz, root, python("-c", "import sys; sys.exit(%d)" % status), supervise))
    assert code == status, err.decode()
    outputs = sorted(os.listdir(os.path.join(root, "output")))  # data/: a real start provides it
    if supervise:
        assert outputs == (["data", "success"] if status == 0 else ["data", "failure"])
        if status:
            assert failure(root).splitlines()[0] == "exit status %d" % status
    else:
        assert outputs == ["data"]


@pytest.mark.parametrize("name", FORWARDED)
def test_signal_reaches_the_program(pyz, tmp_path, name):
    root = job(tmp_path, {"record.py": RECORDER})
    ready, record = str(tmp_path / "ready"), str(tmp_path / "record")
    proc = start(pyz, root, python("record.py", ready, record))
    wait_for(ready, proc)
    proc.send_signal(getattr(signal, name))
    code, _, err = finish(proc)
    assert code == 0, err.decode()
    with open(record) as f:
        assert f.read() == str(int(getattr(signal, name)))


@pytest.mark.parametrize("name", FORWARDED)
def test_death_by_forwarded_signal_gives_128_plus_n(pyz, tmp_path, name):
    root = job(tmp_path, {"sleep.py": SLEEPER})
    ready = str(tmp_path / "ready")
    proc = start(pyz, root, python("sleep.py", ready))
    wait_for(ready, proc)
    proc.send_signal(getattr(signal, name))
    code, _, err = finish(proc)
    assert code == 128 + getattr(signal, name), err.decode()
    assert failure(root).splitlines()[0] == "killed by %s (signal %d)" % (name, getattr(signal, name))


@pytest.mark.parametrize("name", ["SIGKILL", "SIGSEGV", "SIGABRT", "SIGTERM", "SIGUSR1"])
def test_program_killed_by_signal(pyz, tmp_path, name):
    root = job(tmp_path)
    number = int(getattr(signal, name))
    command = python("-c", "import os; os.kill(os.getpid(), %d); import time; time.sleep(%d)" % (number, WAIT))
    code, _, err = finish(start(pyz, root, command))
    assert code == 128 + number, err.decode()
    assert "killed by %s (signal %d)" % (name, number) in failure(root)
    assert ("Reporting training FAILURE: killed by %s" % name).encode() in err


@pytest.mark.parametrize("twin", [False, True], ids=["option", "environment"])
def test_sigterm_ignored_means_sigkill_after_grace(pyz, tmp_path, twin):
    root = job(tmp_path, {"sleep.py": SLEEPER})
    ready = str(tmp_path / "ready")
    if twin:
        env = clean_env(SM_TRAIN_SUPERVISE="yes", SM_TRAIN_GRACE_PERIOD="1")
        proc = start(pyz, root, python("sleep.py", ready, "SIGTERM"), supervise=False, env=env)
    else:
        proc = start(pyz, root, python("sleep.py", ready, "SIGTERM"), options=["--grace-period", "1"])
    wait_for(ready, proc)
    proc.send_signal(signal.SIGTERM)
    code, _, err = finish(proc)
    assert code == 137, err.decode()
    assert failure(root).splitlines()[0] == "killed by SIGKILL (signal 9) after ignoring SIGTERM for 1 s"


def test_sigterm_right_after_start_is_not_lost(pyz, tmp_path):
    """Whenever SIGTERM lands (Python starting, planning, fork, exec), the job ends by it: the launcher dies
    of it before it supervises, or forwards it. A lost signal would leave the program sleeping."""
    root = job(tmp_path)
    for i in range(24):
        proc = start(pyz, root, python("-c", "import time; time.sleep(%d)" % WAIT),
                     stdout=subprocess.DEVNULL)
        if i:
            time.sleep(i * 0.01)  # spreads the signal over the start; correctness never depends on it
        proc.send_signal(signal.SIGTERM)
        code, _, err = finish(proc)
        assert code in (143, -signal.SIGTERM), err.decode()


@pytest.mark.parametrize("interpreter, status", [("#!/nonexistent/interpreter\n", 127), (None, 126)],
                         ids=["not-found", "not-executable"])
def test_exec_failure_statuses_match_exec_mode(pyz, tmp_path, supervise, interpreter, status):
    root = job(tmp_path)
    path = os.path.join(root, "code", "prog")
    with open(path, "wb") as f:
        f.write(interpreter.encode() if interpreter else b"\x00\x01\x02 not a program\n")
    os.chmod(path, 0o755)
    code, _, err = finish(start(pyz, root, ["./prog"], supervise))
    assert code == status, err.decode()
    assert failure(root).startswith("./prog: ")
    assert b"Traceback" not in err


def test_traceback_gives_the_exception_line_first(pyz, tmp_path):
    program = ("import sys\nfor i in range(2000):\n    print('noise %d' % i, file=sys.stderr)\n"
               "def inner():\n    raise ValueError('bad value')\ninner()\n")
    root = job(tmp_path, {"train.py": program})
    code, _, err = finish(start(pyz, root, python("train.py", "--lr", "0.1")))
    assert code == 1
    lines = failure(root).splitlines()
    assert lines[0] == "ValueError: bad value"
    assert lines[1] == "exit status 1"
    assert lines[2] == "command: %s train.py --lr 0.1" % sys.executable


def test_chained_and_prefixed_tracebacks(pyz, tmp_path):
    """torchrun prefixes each rank's lines; the last traceback's own exception line wins."""
    program = ("import sys\n"
               "w = sys.stderr.write\n"
               "w('[rank1]: Traceback (most recent call last):\\n[rank1]:   File \"t.py\", line 1\\n')\n"
               "w('[rank0]: Traceback (most recent call last):\\n[rank0]:   File \"t.py\", line 2\\n')\n"
               "w('[rank1]: KeyError: 1\\n[rank0]:     x()\\n[rank0]: RuntimeError: NCCL timeout\\n')\n"
               "w('waiting for the other ranks\\n')\nsys.exit(3)\n")
    root = job(tmp_path, {"train.py": program})
    code, _, _ = finish(start(pyz, root, python("train.py")))
    assert code == 3
    assert failure(root).splitlines()[:2] == ["[rank0]: RuntimeError: NCCL timeout", "exit status 3"]


def test_megabyte_of_multibyte_stderr_gives_a_short_valid_failure(pyz, tmp_path):
    program = ("import sys\nout = sys.stderr.buffer\n"
               "for i in range(40000):\n    out.write(('line %d é€😀\\n' % i).encode())\n"
               "out.write(('x' + 'é€😀' * 60000).encode())\nsys.exit(3)\n")
    root = job(tmp_path, {"train.py": program})
    code, _, err = finish(start(pyz, root, python("train.py")))
    assert code == 3
    assert len(err) > 1000000
    text = failure(root)
    assert len(text) <= 1024
    assert set(text.splitlines()[0]) <= set("é€😀\ufffd.")  # a cut character may become U+FFFD, never bad bytes
    assert "\nexit status 3\ncommand: " in text


def test_a_failure_reason_longer_than_1024_characters_is_cut_there(pyz, tmp_path):
    root = job(tmp_path, {"train.py": "raise ValueError('bad')\n"})
    code, _, _ = finish(start(pyz, root, python("train.py", "x" * 2000)))
    assert code == 1
    text = failure(root)
    assert text.startswith("ValueError: bad\nexit status 1\ncommand: ")
    assert len(text) == 1024 and text.endswith("xxxx")


def test_program_failure_file_is_kept(pyz, tmp_path):
    program = ("import os, sys\nwith open(os.path.join(sys.argv[1], 'output', 'failure'), 'w') as f:\n"
               "    f.write('USER REASON')\nsys.exit(2)\n")
    root = job(tmp_path, {"train.py": program}, hps={"sagemaker_container_log_level": "20"})
    code, _, err = finish(start(pyz, root, python("train.py", root)))
    assert code == 2
    assert failure(root) == "USER REASON"
    assert b" ERROR    Reporting training FAILURE: exit status 2\n" in err  # the launcher's reason, logged
    assert b" INFO     Failure file exists. Skipping creation....\n" in err  # and not written over the program's


def test_program_with_failure_file_and_status_0_gets_both(pyz, tmp_path):
    program = ("import os, sys\nwith open(os.path.join(sys.argv[1], 'output', 'failure'), 'w') as f:\n"
               "    f.write('USER REASON')\n")
    root = job(tmp_path, {"train.py": program})
    code, _, _ = finish(start(pyz, root, python("train.py", root)))
    assert code == 0
    assert sorted(os.listdir(os.path.join(root, "output"))) == ["data", "failure", "success"]


# 50 MB in chunks of awkward sizes, both streams, random bytes between text with \r progress lines.
FLOOD = """
import hashlib, os, random, sys
rnd = random.Random(7)
sums = {1: hashlib.sha256(), 2: hashlib.sha256()}
total = 0
i = 0
while total < 50 * 1024 * 1024:
    fd = rnd.choice((1, 2))
    data = (b"epoch %d: %d%%\\r" % (i, i % 100)) + os.urandom(rnd.choice((0, 1, 7, 4095, 4096, 4097, 65536, 300000)))
    if i % 50 == 0:
        data += b"\\n"
    i += 1
    sums[fd].update(data)
    total += len(data)
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]
with open(sys.argv[1], "w") as f:
    f.write("%s %s" % (sums[1].hexdigest(), sums[2].hexdigest()))
"""


def test_output_passes_through_byte_exact(pyz, tmp_path):
    root = job(tmp_path, {"flood.py": FLOOD})
    sums = str(tmp_path / "sums")
    code, out, err = finish(start(pyz, root, python("flood.py", sums)))
    assert code == 0, err[-3000:]
    with open(sums) as f:
        expected_out, expected_err = f.read().split()
    assert len(out) + len(err) >= 50 * 1024 * 1024
    assert hashlib.sha256(out).hexdigest() == expected_out
    assert hashlib.sha256(err).hexdigest() == expected_err


# Leaves behind a process that writes to the inherited stderr forever; exits 3 once it has written.
LEAVER = r"""
import os, subprocess, sys, time
writer = "import os, sys\nwhile True:\n    os.write(2, b'x' * 4095 + b'\\n')\n    open(sys.argv[1], 'w').close()\n"
daemon = subprocess.Popen([sys.executable, "-c", writer, sys.argv[1] + ".wrote"], stdout=subprocess.DEVNULL)
with open(sys.argv[1], "w") as f:
    f.write(str(daemon.pid))
while not os.path.exists(sys.argv[1] + ".wrote"):
    time.sleep(0.01)
sys.exit(3)
"""


def test_a_writer_left_behind_cannot_hold_the_launcher(pyz, tmp_path):
    """The launcher's stderr is full (its reader stalled) and a process the program left behind writes to
    the program's stderr forever: the launcher still ends, with the program's status, once its drain of
    that stderr runs out of time."""
    root = job(tmp_path, {"leave.py": LEAVER}, hps={"sagemaker_container_log_level": "50"})
    daemon = str(tmp_path / "daemon")
    stalled, err_w = os.pipe()
    os.set_blocking(err_w, False)
    try:
        while True:
            os.write(err_w, b"." * 4096)
    except BlockingIOError:
        pass
    os.set_blocking(err_w, True)
    proc = start(pyz, root, python("leave.py", daemon), stderr=err_w)
    os.close(err_w)
    try:
        code = proc.wait(timeout=WAIT)
    except subprocess.TimeoutExpired:
        code = None
        kill_tree(proc.pid)
    finally:
        if os.path.exists(daemon):
            with open(daemon) as f:
                kill_tree(int(f.read()))
        os.close(stalled)
        proc.communicate()
    assert code == 3, "the launcher hung after the program exited"
    assert "\nexit status 3\ncommand: " in failure(root)


def unshare(*argv):
    return ["unshare", "--pid", "--fork", "--mount-proc"] + list(argv)


@pytest.fixture(scope="module")
def pid_namespace():
    try:
        ok = subprocess.run(unshare("true"), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            timeout=WAIT).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        ok = False
    if not ok:
        pytest.skip("cannot make a PID namespace here (unshare --pid --fork --mount-proc needs root or user "
                    "namespaces)")


# Leaves a grandchild that exits once orphaned; only PID 1 can reap it. Ends 0 when it was reaped.
ORPHANER = """
import os, sys, time
assert os.getppid() == 1, "the launcher is not PID 1"
middle = os.fork()
if middle == 0:
    grandchild = os.fork()
    if grandchild == 0:
        while os.getppid() != 1:  # until the middle process is gone
            time.sleep(0.01)
        os._exit(0)
    with open("grandchild", "w") as f:
        f.write(str(grandchild))
    os._exit(0)
os.waitpid(middle, 0)
with open("grandchild") as f:
    grandchild = int(f.read())
deadline = time.time() + %d
while time.time() < deadline:
    if not os.path.exists("/proc/%%d" %% grandchild):
        sys.exit(0)
    time.sleep(0.01)
sys.exit(4)
""" % (WAIT // 2)


def test_orphans_are_reaped_as_pid_1(pyz, tmp_path, pid_namespace):
    root = job(tmp_path, {"orphan.py": ORPHANER})
    argv = unshare(sys.executable, pyz, "--root", root, "--supervise", "--", sys.executable, "orphan.py")
    result = subprocess.run(argv, env=clean_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=WAIT)
    assert result.returncode == 0, result.stderr.decode()


def test_sigterm_to_pid_1_reaches_the_program(pyz, tmp_path, pid_namespace):
    """As docker stop and SageMaker do: SIGTERM from outside the namespace to its PID 1, the launcher."""
    root = job(tmp_path, {"record.py": RECORDER})
    ready, record = str(tmp_path / "ready"), str(tmp_path / "record")
    argv = unshare(sys.executable, pyz, "--root", root, "--supervise", "--", sys.executable, "record.py", ready,
                   record)
    proc = subprocess.Popen(argv, env=clean_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    wait_for(ready, proc)
    launcher = children(proc.pid)
    if not launcher:
        kill_tree(proc.pid)
        proc.communicate()
        pytest.skip("/proc/PID/task/PID/children is not available to find the launcher")
    os.kill(launcher[0], signal.SIGTERM)
    code, _, err = finish(proc)
    assert code == 0, err.decode()
    with open(record) as f:
        assert f.read() == str(int(signal.SIGTERM))


def test_program_runs_in_its_own_process_group(pyz, tmp_path):
    program = "import os\nprint(os.getpid(), os.getpgrp(), os.getppid())\n"
    root = job(tmp_path, {"train.py": program})
    proc = start(pyz, root, python("train.py"))
    code, out, _ = finish(proc)
    pid, group, parent = (int(x) for x in out.split())
    assert code == 0 and pid == group != proc.pid and parent == proc.pid


@pytest.mark.parametrize("value, supervised", [("true", True), ("YES", True), ("1", True), ("no", False),
                                               ("0", False), ("False", False), ("", False)])
def test_environment_switch(pyz, tmp_path, value, supervised):
    root = job(tmp_path, {"train.py": "import os\nprint(os.getpid())\n"})
    proc = start(pyz, root, python("train.py"), supervise=False, env=clean_env(SM_TRAIN_SUPERVISE=value))
    code, out, err = finish(proc)
    assert code == 0, err.decode()
    assert (int(out) != proc.pid) == supervised


@pytest.mark.parametrize("options, env", [([], {"SM_TRAIN_SUPERVISE": "maybe"}),
                                          (["--grace-period", "soon"], {}),
                                          (["--grace-period=-1"], {}),
                                          ([], {"SM_TRAIN_GRACE_PERIOD": "nan"})])
def test_bad_switches_are_usage_errors(pyz, tmp_path, options, env):
    root = job(tmp_path)
    code, _, err = finish(start(pyz, root, python("-c", "pass"), supervise=False, options=options,
                                env=clean_env(**env)))
    assert code == 2
    assert b"Traceback" not in err


def test_pythonunbuffered_for_python_programs(pyz, tmp_path):
    root = job(tmp_path, {"train.py": "pass\n", "train.sh": "#!/bin/sh\n"})
    _, doc, _ = print_env(pyz, root, "--", sys.executable, "train.py")
    assert doc["env"]["PYTHONUNBUFFERED"] == "1"
    _, doc, _ = print_env(pyz, root, "--", "./train.sh")
    assert "PYTHONUNBUFFERED" not in doc["env"]
    _, doc, _ = print_env(pyz, root, "--", sys.executable, "train.py", env=clean_env(PYTHONUNBUFFERED=""))
    assert "PYTHONUNBUFFERED" not in doc["env"]


# -- the status files and what a status says -------------------------------------------------------------

def test_failure_file_off_a_sagemaker_machine_is_skipped_quietly(tmp_path, capsys):
    from launcher.core.layout import Layout
    from launcher.run.launch import write_failure, write_success

    layout = Layout(str(tmp_path / "no-opt-ml"))
    write_failure(layout, "why")
    write_success(layout)
    assert capsys.readouterr().err == ""
    assert not os.path.exists(layout.base)


def test_status_files_are_written_where_the_base_dir_exists(tmp_path):
    from launcher.core.layout import Layout
    from launcher.run.launch import write_failure, write_success

    layout = Layout(str(tmp_path))
    write_failure(layout, "first")
    write_failure(layout, "second")  # the first reason, the program's own as a rule, wins
    write_success(layout)
    with open(layout.failure) as f:
        assert f.read() == "first"
    assert os.path.getsize(layout.success) == 0


@pytest.mark.parametrize("returncode, status, words", [
    (0, 0, "exit status 0"), (3, 3, "exit status 3"), (137, 137, "exit status 137"),
    (-9, 137, "killed by SIGKILL (signal 9)"), (-15, 143, "killed by SIGTERM (signal 15)")])
def test_statuses_follow_the_shell(returncode, status, words):
    from launcher.run import statuses

    assert statuses.from_returncode(returncode) == status
    assert statuses.describe_returncode(returncode) == words


def test_wait_statuses_follow_the_shell():
    from launcher.run import statuses

    for command, status, signum in (("exit 3", 3, None), ("exit 137", 137, None), ("kill -9 $$", 137, 9)):
        # posix_spawnp, not Popen: a Popen object's finaliser may reap the child before waitpid does
        pid = os.posix_spawnp("sh", ["sh", "-c", command], dict(os.environ))
        _, raw = os.waitpid(pid, 0)
        assert statuses.from_waitstatus(raw) == status
        assert statuses.signal_of_waitstatus(raw) == signum
    assert statuses.describe(137) == "exit status 137"
    assert statuses.describe(137, 9) == "killed by SIGKILL (signal 9)"
