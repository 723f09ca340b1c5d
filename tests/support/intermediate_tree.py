"""The program of the intermediate-output tests and of their golden recording: it writes a tree under the
directory given as argv[1] as a training job would (nested files of 0 B, 1 KiB, 9 MiB and 40 MiB, one file
written twice, a directory made later, a file renamed in), then prints the sha256 of every file's last
version as JSON. Run by sm-train's tests as the job's program and by record_intermediate_golden.py under the
toolkit 5.1.4. Optional argv[2]: a file to wait for before the 40 MiB file (the SIGTERM test)."""

import hashlib
import json
import os
import random
import sys
import time

SIZES = {"empty.txt": 0, "top.txt": 1024, "sub/deeper/nine.bin": 9 << 20, "big/forty.bin": 40 << 20}


def write(path, data):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data)


def main(root, gate=None):
    for n, (rel, size) in enumerate(sorted(SIZES.items())):
        write(os.path.join(root, rel), random.Random(n).randbytes(size))
        time.sleep(0.2)  # the toolkit's watcher adds a new directory's watch on its own time
    write(os.path.join(root, "rewritten.txt"), b"the first version\n")
    time.sleep(0.2)
    write(os.path.join(root, "rewritten.txt"), b"the second, last version\n")
    os.mkdir(os.path.join(root, "later"))
    time.sleep(0.2)
    write(os.path.join(root, "later", "made-later.txt"), b"in a directory made while the job ran\n")
    staged = os.path.join(os.path.dirname(os.path.abspath(root)), "staged.bin")
    write(staged, random.Random(99).randbytes(3000))
    os.rename(staged, os.path.join(root, "sub", "renamed-in.bin"))
    time.sleep(0.5)
    digests = {}
    for folder, dirs, files in os.walk(root):
        dirs[:] = [d for d in dirs if not d.startswith(".tmp.")]
        for name in files:
            path = os.path.join(folder, name)
            with open(path, "rb") as f:
                digests[os.path.relpath(path, root)] = hashlib.sha256(f.read()).hexdigest()
    print(json.dumps(digests, sort_keys=True))


if __name__ == "__main__":
    main(*sys.argv[1:])
