"""Record what sagemaker-training 5.1.4 with the PyTorch framework container's toolkit does for each case of
tests/support/distributed_cases.py: which runner it picks, the command it would start (argv, cwd) and the variables it
sets or changes. Output: tests/golden_distributed/<case>.json.

Usage:
    python3 -m venv /tmp/tk && /tmp/tk/bin/pip install sagemaker-training==5.1.4
    python3 -m venv /tmp/pttk && /tmp/pttk/bin/pip install --no-deps sagemaker-pytorch-training==3.0.0
    python3 tests/recorders/record_distributed_golden.py /tmp/tk/bin/python /tmp/pttk/lib/python3.11/site-packages

The toolkit runs its real `train` path (trainer.train -> sagemaker_pytorch_container.training.main ->
entry_point.run -> the runner's run) inside that venv, with only the actions patched: process.check_error and
process.create record the command and os.environ instead of starting anything; sshd, the SSH probes, the status
files, the DNS lookups, /etc/environment and time.sleep are stubbed. Nothing is launched. The tests never import
the toolkit; they read the JSON files.
"""

import json
import os
import shutil
import subprocess
import sys
import tempfile

TESTS = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(TESTS, "support"))

from distributed_cases import CASES, FAKE_NVIDIA_SMI, FAKE_SMDDPRUN  # noqa: E402

GOLDEN = os.path.join(TESTS, "golden_distributed")

RECORDER = r'''
import json, os, sys, time
sys.path.insert(0, sys.argv[2])
out = {"runner": None, "argv": None, "env": None, "cwd": None}
baseline = dict(os.environ)

def changed():
    return {k: v for k, v in os.environ.items() if baseline.get(k) != v}

def record(cmd, cwd=None):
    if out["argv"] is None:
        out["argv"], out["env"], out["cwd"] = list(cmd), changed(), cwd

from sagemaker_training import entry_point, mpi, process, pytorch_xla, runner, smdataparallel, trainer
import sagemaker_pytorch_container.training as pytorch_training

time.sleep = lambda seconds: None
process.check_error = lambda cmd, *a, **k: record(cmd, k.get("cwd"))
process.create = lambda cmd, *a, **k: (record(cmd, k.get("cwd")), [], None)
entry_point._dns_lookup = pytorch_training._dns_lookup = lambda host: "127.0.0.1"
for module in (mpi, smdataparallel):
    module._start_sshd_daemon = lambda: out.update(sshd=["/usr/sbin/sshd", "-D"], sshd_env=changed())
    module._can_connect = lambda host, port=22: True
    module._write_status_file = lambda host, status_file: True
mpi._write_env_vars_to_file = lambda: None
mpi._wait_orted_process_to_finish = lambda: ([], [])
mpi.WorkerRunner._wait_for_status_file = lambda self, status_file: True
pytorch_xla.PyTorchXLARunner._check_compatibility = lambda self: None  # torch_xla is not installed here

get = runner._get_by_runner_type
def traced(*args, **kwargs):
    chosen = get(*args, **kwargs)
    out["runner"] = type(chosen).__name__
    return chosen
runner._get_by_runner_type = traced

try:
    trainer.train()
except SystemExit as e:
    out["exit"] = e.code
if out["argv"] is None and "sshd" in out:  # a worker starts no program: its command is sshd's
    out["argv"], out["env"], out["cwd"] = out["sshd"], out["sshd_env"], None
with open(sys.argv[1], "w") as f:
    json.dump(out, f)
'''


def write_tree(root, spec):
    config = os.path.join(root, "input", "config")
    os.makedirs(config)
    os.makedirs(os.path.join(root, "code"))
    for name, value in (("hyperparameters.json", spec["hyperparameters"]), ("inputdataconfig.json", {}),
                        ("resourceconfig.json", spec["resourceconfig"])):
        with open(os.path.join(config, name), "w") as f:
            json.dump(value, f)
    for name, body in spec["code"].items():
        with open(os.path.join(root, "code", name), "w") as f:
            f.write(body)


def fake_bin(folder, spec):
    os.makedirs(folder)
    for name, body, wanted in (("nvidia-smi", FAKE_NVIDIA_SMI, spec["gpus"]),
                               ("smddprun", FAKE_SMDDPRUN, spec["smddprun"]),
                               ("smddpmprun", FAKE_SMDDPRUN, spec["smddpmprun"])):
        if wanted:
            path = os.path.join(folder, name)
            with open(path, "w") as f:
                f.write(body)
            os.chmod(path, 0o755)
    return folder


def record(python, pttk_site, name, spec, tmp):
    base = os.path.join(tmp, name, "opt", "ml")
    write_tree(base, spec)
    bin_dir = fake_bin(os.path.join(tmp, name, "bin"), spec)
    env = {"PATH": bin_dir + os.pathsep + "/usr/local/bin:/usr/bin:/bin", "HOME": tmp, "LANG": "C.UTF-8",
           "SAGEMAKER_BASE_DIR": base}
    env.update(spec["env"])
    result = os.path.join(tmp, name + ".json")
    proc = subprocess.run([python, "-c", RECORDER, result, pttk_site], env=env, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, timeout=120)
    if not os.path.exists(result):
        sys.exit("%s: the recorder failed:\n%s" % (name, proc.stdout.decode()))
    with open(result) as f:
        out = json.load(f)
    if out.get("exit") not in (0, None) or out["argv"] is None:
        sys.exit("%s: the toolkit did not get to a command:\n%s" % (name, proc.stdout.decode()))
    version = subprocess.run([python, "-c", "import importlib.metadata as m; print(m.version('sagemaker-training'))"],
                             stdout=subprocess.PIPE).stdout.decode().strip()
    toolkit = "sagemaker-training " + version
    if "SAGEMAKER_TRAINING_MODULE" in spec["env"]:
        toolkit += " + sagemaker-pytorch-training 3.0.0 (" + spec["env"]["SAGEMAKER_TRAINING_MODULE"] + ")"
    return {"case": name, "toolkit": toolkit,
            "base": base, "python": python, "runner": out["runner"], "argv": out["argv"], "env": out["env"],
            "cwd": out["cwd"], "sshd": out.get("sshd"), "cpus": os.cpu_count()}


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    python, pttk_site = sys.argv[1:]
    os.makedirs(GOLDEN, exist_ok=True)
    tmp = tempfile.mkdtemp(prefix="sm-dist-golden-")
    try:
        for name, spec in sorted(CASES.items()):
            doc = record(python, pttk_site, name, spec, tmp)
            with open(os.path.join(GOLDEN, name + ".json"), "w") as f:
                json.dump(doc, f, indent=1, sort_keys=True)
                f.write("\n")
            print("%-24s %-22s %s" % (name, doc["runner"], " ".join(doc["argv"][:4])))
    finally:
        shutil.rmtree(tmp)


if __name__ == "__main__":
    main()
