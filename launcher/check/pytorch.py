"""The image's PyTorch, read from its files rather than imported (an import takes seconds and loads CUDA): its version
and build (torch/version.py), and the CUDA libraries its libtorch_cuda.so links against (the ELF file's DT_NEEDED
entries) with where the dynamic loader would find each."""

import glob
import os
import struct

# The libraries of the NVIDIA driver: not in an image, the NVIDIA container runtime mounts them on GPU instances.
DRIVER = ("libcuda.so", "libnvidia-ml.so")
SYSTEM_DIRS = ("/lib", "/usr/lib", "/lib64", "/usr/lib64", "/lib/x86_64-linux-gnu", "/usr/lib/x86_64-linux-gnu",
               "/lib/aarch64-linux-gnu", "/usr/lib/aarch64-linux-gnu", "/usr/local/cuda/lib64")
PT_LOAD, PT_DYNAMIC, DT_NEEDED, DT_STRTAB, DT_RPATH, DT_RUNPATH = 1, 2, 1, 5, 15, 29


class Torch(object):
    def __init__(self, folder, version, cuda):
        self.folder = folder    # the torch package's folder
        self.version = version
        self.cuda = cuda        # the CUDA version it was built for, None for a CPU build


def find():
    """The image's torch for this Python, or None; nothing of it is imported."""
    from importlib.util import find_spec

    spec = find_spec("torch")
    if spec is None or not spec.submodule_search_locations:
        return None
    folder = list(spec.submodule_search_locations)[0]
    values = {}
    try:
        with open(os.path.join(folder, "version.py")) as f:
            for line in f:  # `__version__ = '2.13.0+cpu'`, `cuda: Optional[str] = '12.8'` or `cuda = None`
                name, _, value = line.partition("=")
                name = name.split(":")[0].strip()
                if name in ("__version__", "cuda") and value:
                    values[name] = value.strip().strip("'\"")
    except (OSError, UnicodeDecodeError):
        pass
    cuda = values.get("cuda")
    return Torch(folder, values.get("__version__", "of an unknown version"), None if cuda in (None, "None") else cuda)


def cuda_libraries(torch, environ):
    """[(library, where the loader finds it, or None)] for the libraries libtorch_cuda.so needs; [] without it."""
    path = os.path.join(torch.folder, "lib", "libtorch_cuda.so")
    try:
        needed, runpath = dynamic_section(path)
    except (OSError, ValueError, struct.error):
        return []
    folders = [p.replace("$ORIGIN", os.path.dirname(path)) for p in runpath]
    folders += [p for p in environ.get("LD_LIBRARY_PATH", "").split(":") if p]
    folders += loader_folders() + list(SYSTEM_DIRS)
    # torch's own loader also looks in the nvidia-* wheels beside it (torch/__init__.py, _preload_cuda_deps)
    folders += sorted(glob.glob(os.path.join(os.path.dirname(torch.folder), "nvidia", "*", "lib")))
    found = []
    for name in needed:
        if not name.startswith(("libcu", "libnccl", "libnv", "libcudnn")):
            continue
        where = next((os.path.join(f, name) for f in folders if os.path.exists(os.path.join(f, name))), None)
        found.append((name, where))
    return found


def is_driver(name):
    return name.startswith(DRIVER)


def loader_folders():
    """The folders /etc/ld.so.conf names, with its includes (what ldconfig caches)."""
    folders, pending = [], ["/etc/ld.so.conf"]
    while pending and len(folders) < 200:
        try:
            with open(pending.pop()) as f:
                lines = f.read(65536).splitlines()
        except (OSError, UnicodeDecodeError):
            continue
        for line in lines:
            line = line.split("#")[0].strip()
            if line.startswith("include "):
                pending += sorted(glob.glob(line.split(None, 1)[1]))
            elif line:
                folders.append(line)
    return folders


def dynamic_section(path):
    """(DT_NEEDED names, DT_RUNPATH or DT_RPATH folders) of a 64-bit little-endian ELF shared object: a few reads
    at the offsets its headers give, not the whole file (libtorch_cuda.so is about a gigabyte)."""
    with open(path, "rb") as f:
        head = f.read(64)
        if head[:4] != b"\x7fELF" or head[4] != 2 or head[5] != 1:
            raise ValueError("not a 64-bit little-endian ELF file")
        phoff, = struct.unpack_from("<Q", head, 32)
        phentsize, phnum = struct.unpack_from("<HH", head, 54)
        f.seek(phoff)
        table = f.read(phentsize * phnum)
        loads, dynamic = [], None
        for i in range(phnum):
            kind, _, offset, vaddr, _, filesz = struct.unpack_from("<IIQQQQ", table, i * phentsize)
            if kind == PT_LOAD:
                loads.append((vaddr, offset, filesz))
            elif kind == PT_DYNAMIC:
                dynamic = (offset, filesz)
        if dynamic is None:
            return [], []
        f.seek(dynamic[0])
        data = f.read(dynamic[1])
        entries = [struct.unpack_from("<qQ", data, i) for i in range(0, len(data) - 15, 16)]
        strtab = next((value for tag, value in entries if tag == DT_STRTAB), None)
        base = next((offset + strtab - vaddr for vaddr, offset, size in loads if vaddr <= strtab < vaddr + size), None)
        if base is None:
            raise ValueError("no string table")

        def string(at):
            f.seek(base + at)
            return f.read(4096).split(b"\0", 1)[0].decode("utf-8", "replace")

        needed = [string(value) for tag, value in entries if tag == DT_NEEDED]
        paths = [string(value) for tag, value in entries if tag in (DT_RUNPATH, DT_RPATH)]
    return needed, [p for text in paths for p in text.split(":") if p]
