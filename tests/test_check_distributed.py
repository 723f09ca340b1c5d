"""`sm-train check` of what distributed training and accelerators need, on trees through the built pyz, with the
pieces an image would have stood in for by small files: Open MPI (mpirun, orted), sshd, ssh, the key pair and ssh
config in a HOME, mpi4py and torch as packages on PYTHONPATH, torchrun, nvidia-smi. Each missing piece is its one
error. The pyz runs with -S, so that no package of the tests' own Python (mpi4py, torch) is found."""

import json
import os
import shutil
import struct
import subprocess
import sys

import pytest
from conftest import clean_env, make_tree
from conftest import error_topics as errors
from conftest import finding as found

from launcher.check import pytorch

PROGRAM = {"sagemaker_program": '"train.py"'}
RC2 = {"current_host": "algo-1", "hosts": ["algo-1", "algo-2"]}
TRAIN = {"train.py": "print('ran')\n"}
PUBLIC = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFakeKeyForTheTests root@image\n"
EXT = "MPI.cpython-%d%d-x86_64-linux-gnu.so" % sys.version_info[:2]


def write(path, text, mode=0o644):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write(text)
    os.chmod(path, mode)
    return path


def image(tmp_path, sshd="#!/bin/sh\nexit 0\n"):
    """A stand-in for an MPI image: {PATH, HOME, SM_TRAIN_SSHD, PYTHONPATH} and the files they point at."""
    bin_dir, home, py = tmp_path / "bin", tmp_path / "home", tmp_path / "py"
    for name in ("orterun", "orted", "ssh"):
        write(str(bin_dir / name), "#!/bin/sh\n", 0o755)
    os.symlink("orterun", str(bin_dir / "mpirun"))  # as Debian's alternatives end
    ssh = home / ".ssh"
    write(str(ssh / "id_ed25519"), "-----BEGIN OPENSSH PRIVATE KEY-----\n", 0o600)
    write(str(ssh / "id_ed25519.pub"), PUBLIC)
    write(str(ssh / "authorized_keys"), PUBLIC, 0o600)
    write(str(ssh / "config"), "Host *\n  StrictHostKeyChecking no\n")
    os.chmod(str(ssh), 0o700)
    write(str(py / "mpi4py" / "__init__.py"), "")
    write(str(py / "mpi4py" / EXT), "")
    return {"PATH": str(bin_dir), "HOME": str(home), "SM_TRAIN_SSHD": write(str(tmp_path / "sshd"), sshd, 0o755),
            "PYTHONPATH": str(py)}


def check(pyz, root, env, *args):
    result = subprocess.run([sys.executable, "-S", pyz, "check", "--root", root, "--format", "json"] + list(args),
                            env=clean_env(**env), stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60)
    assert result.returncode in (0, 1) and b"Traceback" not in result.stderr, result.stderr.decode()
    doc = json.loads(result.stdout.decode())
    assert doc["status"] == result.returncode
    return doc


def host_asks_no_prompt():
    """Whether this machine's own ssh config already turns the host-key prompt off (the check reads /etc/ssh)."""
    import glob

    for path in ["/etc/ssh/ssh_config"] + glob.glob("/etc/ssh/ssh_config.d/*.conf"):
        with open(path) as f:
            if any(line.split()[:1] == ["StrictHostKeyChecking"] for line in f):
                return True
    return False


def test_an_mpi_image_with_every_piece_has_no_error(pyz, tmp_path):
    root = make_tree(tmp_path / "ml", dict(PROGRAM, sagemaker_mpi_enabled="true"), {}, RC2, TRAIN)
    doc = check(pyz, root, image(tmp_path))
    assert errors(doc) == [], doc["findings"]
    assert doc["checked"]["distribution"] == "mpi" and doc["checked"]["hosts"] == 2  # from the tree
    assert found(doc, "mpi")["message"].startswith("mpirun is Open MPI's (%s/bin/mpirun -> " % tmp_path)
    assert found(doc, "ssh-key")["message"] == "the key pair %s/home/.ssh/id_ed25519, its public key in " \
        "%s/home/.ssh/authorized_keys" % (tmp_path, tmp_path)
    assert found(doc, "mpi4py")["message"].startswith("mpi4py at %s/py/mpi4py, with its MPI module" % tmp_path)
    assert "an MPI job keeps sm-train as the parent of mpirun" in found(doc, "signals")["message"]


def no_key(paths):
    os.remove(os.path.join(paths["HOME"], ".ssh", "id_ed25519"))


def key_not_authorized(paths):
    write(os.path.join(paths["HOME"], ".ssh", "authorized_keys"), "")


def key_readable(paths):
    os.chmod(os.path.join(paths["HOME"], ".ssh", "id_ed25519"), 0o644)


def no_prompt_config(paths):
    if host_asks_no_prompt():
        pytest.skip("/etc/ssh of this machine turns the host-key prompt off already")
    os.remove(os.path.join(paths["HOME"], ".ssh", "config"))


@pytest.mark.parametrize("case,change,topic,fix", [
    ("no mpirun", lambda p: os.remove(os.path.join(p["PATH"], "mpirun")), "mpi", "openmpi-bin"),
    ("MPICH", lambda p: (os.remove(os.path.join(p["PATH"], "mpirun")),
                         write(os.path.join(p["PATH"], "mpiexec.hydra"), "#!/bin/sh\n", 0o755),
                         os.symlink("mpiexec.hydra", os.path.join(p["PATH"], "mpirun"))), "mpi", "update-alternatives"),
    ("no orted", lambda p: os.remove(os.path.join(p["PATH"], "orted")), "mpi", "openmpi-bin"),
    ("no sshd", lambda p: os.remove(p["SM_TRAIN_SSHD"]), "sshd", "openssh-server"),
    ("no host keys", lambda p: write(p["SM_TRAIN_SSHD"], "#!/bin/sh\necho 'sshd: no hostkeys available -- exiting.'"
                                     " >&2\nexit 1\n", 0o755), "sshd", "RUN ssh-keygen -A"),
    ("no ssh", lambda p: os.remove(os.path.join(p["PATH"], "ssh")), "ssh", "openssh-client"),
    ("no key", no_key, "ssh-key", 'ssh-keygen -q -t ed25519 -N ""'),
    ("key not authorized", key_not_authorized, "ssh-key", "RUN cat "),
    ("key readable by others", key_readable, "ssh-key", "RUN chmod 700 "),
    ("host-key prompt", no_prompt_config, "ssh-config", "StrictHostKeyChecking no"),
    ("no mpi4py", lambda p: shutil.rmtree(os.path.join(p["PYTHONPATH"], "mpi4py")), "mpi4py", "python3-mpi4py"),
    ("mpi4py without MPI", lambda p: os.remove(os.path.join(p["PYTHONPATH"], "mpi4py", EXT)), "mpi4py", "python3-"),
])
def test_each_missing_piece_of_mpi_is_its_one_error(pyz, tmp_path, case, change, topic, fix):
    root = make_tree(tmp_path / "ml", PROGRAM, {}, RC2, TRAIN)
    paths = image(tmp_path)
    change(paths)
    doc = check(pyz, root, paths, "--distribution", "mpi")
    assert errors(doc) == [topic], doc["findings"]
    assert fix in found(doc, topic, "error")["fix"], found(doc, topic, "error")


def test_sshd_without_its_privilege_separation_folder_is_fine(pyz, tmp_path):
    """`sshd -t` checks /run/sshd last, and sm-train makes it before it starts sshd."""
    sshd = "#!/bin/sh\necho 'Missing privilege separation directory: /run/sshd' >&2\nexit 255\n"
    root = make_tree(tmp_path / "ml", PROGRAM, {}, RC2, TRAIN)
    doc = check(pyz, root, image(tmp_path, sshd), "--distribution", "mpi")
    assert errors(doc) == [] and "sm-train creates /run/sshd" in found(doc, "sshd")["message"]


def test_mpiruns_ssh_arguments_can_turn_the_prompt_off(pyz, tmp_path):
    paths = image(tmp_path)
    os.remove(os.path.join(paths["HOME"], ".ssh", "config"))
    paths["OMPI_MCA_plm_rsh_args"] = "-o StrictHostKeyChecking=no"
    doc = check(pyz, make_tree(tmp_path / "ml", PROGRAM, {}, RC2, TRAIN), paths, "--distribution", "mpi")
    assert errors(doc) == [], doc["findings"]


def test_one_host_needs_no_ssh_so_its_absence_is_a_warning(pyz, tmp_path):
    paths = image(tmp_path)
    os.remove(paths["SM_TRAIN_SSHD"])
    root = make_tree(tmp_path / "ml", PROGRAM, {}, {"current_host": "algo-1", "hosts": ["algo-1"]}, TRAIN)
    doc = check(pyz, root, paths, "--distribution", "mpi")
    assert errors(doc) == [] and found(doc, "sshd")["level"] == "warning"
    doc = check(pyz, root, paths, "--distribution", "mpi", "--hosts", "2")
    assert errors(doc) == ["sshd"]


def torch_image(tmp_path, cuda=None, runner=True):
    """A stand-in for a torch image: a torch package that is its version.py and the files the check reads."""
    py = tmp_path / "py"
    write(str(py / "torch" / "__init__.py"), "")
    write(str(py / "torch" / "version.py"), "from typing import Optional\n\n__version__ = '2.13.0%s'\n"
          "cuda: Optional[str] = %r\n" % ("+cu128" if cuda else "+cpu", cuda))
    write(str(py / "torch" / "distributed" / "run.py"), "")
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    if runner:
        write(str(bin_dir / "torchrun"), "#!%s\n" % sys.executable, 0o755)
    return {"PATH": str(bin_dir), "PYTHONPATH": str(py)}


def test_a_torchrun_image_with_every_piece_has_no_error(pyz, tmp_path):
    doc = check(pyz, make_tree(tmp_path / "ml", PROGRAM, {}, RC2, TRAIN), torch_image(tmp_path),
                "--distribution", "torchrun")
    assert errors(doc) == [], doc["findings"]
    assert found(doc, "torchrun")["message"] == "torchrun at %s/bin/torchrun (torch 2.13.0+cpu, %s/py/torch)" % (
        tmp_path, tmp_path)
    assert found(doc, "torch")["message"] == "torch 2.13.0+cpu is a CPU build: gloo is its backend, for CPU instances"
    assert found(doc, "cuda")["message"].startswith("torch 2.13.0+cpu at %s/py/torch is a CPU build" % tmp_path)
    assert "torchrun takes sm-train's place as PID 1" in found(doc, "signals")["message"]


@pytest.mark.parametrize("case,topic,said", [
    ("no torchrun", "torchrun", "torchrun is not on PATH, though torch 2.13.0+cpu is installed"),
    ("no torch", "torch", "torch is not installed for"),
    ("a shell script", "torchrun", "torchrun runs a Python script, and train.sh is not one"),
    ("a lost interpreter", "torchrun", "starts with `#!/no/such/python3`, a Python the image lacks"),
])
def test_each_missing_piece_of_torchrun_is_its_one_error(pyz, tmp_path, case, topic, said):
    paths = torch_image(tmp_path, runner=case != "no torchrun")
    program, code = PROGRAM, TRAIN
    if case == "no torch":
        shutil.rmtree(os.path.join(paths["PYTHONPATH"], "torch"))
    elif case == "a shell script":
        program, code = {"sagemaker_program": '"train.sh"'}, {"train.sh": "#!/bin/sh\n"}
    elif case == "a lost interpreter":
        write(os.path.join(paths["PATH"], "torchrun"), "#!/no/such/python3\n", 0o755)
    doc = check(pyz, make_tree(tmp_path / "ml", program, {}, RC2, code), paths, "--distribution", "torchrun")
    assert errors(doc) == [topic], doc["findings"]
    assert said in found(doc, topic, "error")["message"], found(doc, topic, "error")


def test_a_cpu_torch_for_gpus_is_a_warning(pyz, tmp_path):
    doc = check(pyz, make_tree(tmp_path / "ml", PROGRAM, {}, RC2, TRAIN), torch_image(tmp_path),
                "--distribution", "torchrun", "--gpus", "8")
    assert errors(doc) == [] and found(doc, "torch")["level"] == "warning"
    assert "the job's 8 GPU(s) (--gpus) go unused" in found(doc, "torch")["message"]


def write_elf(path, needed, runpath):
    """A 64-bit little-endian ELF shared object with only what the loader reads for its dependencies: one PT_LOAD
    over the file, a PT_DYNAMIC with DT_NEEDED, DT_RUNPATH and DT_STRTAB, and the string table."""
    strings, offsets = b"\0", []
    for text in needed + [runpath]:
        offsets.append(len(strings))
        strings += text.encode() + b"\0"
    base, dyn_at = 0x1000, 64 + 2 * 56
    entries = [(1, at) for at in offsets[:-1]] + [(29, offsets[-1]), (5, 0), (0, 0)]
    str_at = dyn_at + 16 * len(entries)
    entries[-2] = (5, base + str_at)
    dynamic = b"".join(struct.pack("<qQ", tag, value) for tag, value in entries)
    size = str_at + len(strings)
    header = struct.pack("<16sHHIQQQIHHHHHH", b"\x7fELF\x02\x01\x01" + b"\0" * 9, 3, 62, 1, 0, 64, 0, 0, 64, 56, 2,
                         64, 0, 0)
    load = struct.pack("<IIQQQQQQ", 1, 5, 0, base, base, size, size, 0x1000)
    dyn = struct.pack("<IIQQQQQQ", 2, 6, dyn_at, base + dyn_at, base + dyn_at, len(dynamic), len(dynamic), 8)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(header + load + dyn + dynamic + strings)


def test_the_elf_reader_agrees_with_readelf():
    if not shutil.which("readelf"):
        pytest.skip("no readelf (binutils) to compare with")
    library = os.path.realpath(sys.executable)  # a dynamically linked executable has a dynamic section too
    out = subprocess.run(["readelf", "-d", library], stdout=subprocess.PIPE).stdout.decode()
    needed = [line.split("[", 1)[1].rstrip("]") for line in out.splitlines() if "(NEEDED)" in line]
    assert needed and pytorch.dynamic_section(library)[0] == needed


def test_the_cuda_libraries_a_torch_links_against(pyz, tmp_path):
    paths = torch_image(tmp_path, cuda="12.8")
    torch = os.path.join(paths["PYTHONPATH"], "torch")
    write_elf(os.path.join(torch, "lib", "libtorch_cuda.so"), ["libcudart.so.12", "libnccl.so.2", "libcuda.so.1",
                                                                 "libc.so.6"],
              "$ORIGIN/../../nvidia/cuda_runtime/lib:$ORIGIN/../../nvidia/nccl/lib")
    write(os.path.join(paths["PYTHONPATH"], "nvidia", "cuda_runtime", "lib", "libcudart.so.12"), "")
    root = make_tree(tmp_path / "ml", PROGRAM, {}, RC2, TRAIN)
    doc = check(pyz, root, paths)
    assert errors(doc) == ["cuda"], doc["findings"]  # a missing CUDA library fails `import torch`, GPUs or not
    assert "links libnccl.so.2, which the loader finds nowhere in the image" in found(doc, "cuda")["message"]
    doc = check(pyz, root, paths, "--distribution", "torchrun")
    assert errors(doc) == ["cuda", "torch"] and "links NCCL, which is nowhere" in found(doc, "torch")["message"]
    write(os.path.join(paths["PYTHONPATH"], "nvidia", "nccl", "lib", "libnccl.so.2"), "")
    doc = check(pyz, root, paths, "--distribution", "torchrun")
    assert errors(doc) == [], doc["findings"]
    assert found(doc, "cuda")["message"] == ("torch 2.13.0+cu128 (CUDA 12.8) links libcudart.so.12, libnccl.so.2, "
                                             "libcuda.so.1 (the runtime mounts it)")
    assert found(doc, "torch")["message"].startswith("torch 2.13.0+cu128 is a CUDA 12.8 build: NCCL for GPUs")


def test_gpus_and_neuron_cores_as_the_probes_find_them(pyz, tmp_path):
    paths = torch_image(tmp_path)
    write(os.path.join(paths["PATH"], "nvidia-smi"), "#!/bin/sh\necho 'GPU 0: A'\necho 'GPU 1: B'\n", 0o755)
    write(os.path.join(paths["PATH"], "neuron-ls"), "#!/bin/sh\necho '[]'\n", 0o755)
    doc = check(pyz, make_tree(tmp_path / "ml", PROGRAM, {}, RC2, TRAIN), paths)
    assert doc["checked"]["gpus"] == 2 and found(doc, "gpu")["message"].endswith(": 2 GPU(s) here")
    assert found(doc, "neuron")["message"].startswith("neuron-ls at %s/neuron-ls" % paths["PATH"])
    assert found(doc, "probes")["message"] == ("a start runs nvidia-smi and neuron-ls once, waiting at most 10s for "
                                               "each (SM_TRAIN_PROBE_TIMEOUT)")
