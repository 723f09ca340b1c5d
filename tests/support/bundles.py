"""Source bundles for the extraction tests: gzip tars described as lists of members, built the same way by
the recorder (tests/recorders/record_extract_golden.py, under the real toolkit) and by the tests, so both see the
same bytes.

A member is a dict: ``name``, ``type`` (file, dir, symlink, hardlink, fifo, chr, blk), ``data`` (text, files),
``link`` (links), ``mode``. Deterministic: fixed mtimes, owners and gzip header.
"""

import gzip
import io
import tarfile

PY = "print('hello from the bundle')\n"

TYPES = {"file": tarfile.REGTYPE, "dir": tarfile.DIRTYPE, "symlink": tarfile.SYMTYPE, "hardlink": tarfile.LNKTYPE,
         "fifo": tarfile.FIFOTYPE, "chr": tarfile.CHRTYPE, "blk": tarfile.BLKTYPE}


def m(name, type="file", data="", link="", mode=None):
    return {"name": name, "type": type, "data": data, "link": link,
            "mode": mode if mode is not None else (0o755 if type == "dir" else 0o644)}


CASES = {
    "sdk_layout": [m("train.py", data=PY), m("requirements.txt", data="six\n"), m("pkg", "dir"),
                   m("pkg/__init__.py"), m("pkg/model.py", data="W = 1\n"),
                   m("run.sh", data="#!/bin/sh\n", mode=0o755)],
    "traversal": [m("train.py", data=PY), m("../evil.txt", data="x"), m("/abs/evil2.txt", data="y"),
                  m("../../../../tmp/deep.txt", data="z"), m("./a/./b/../c.txt", data="c"), m("./x.txt", data="x"),
                  m("C:\\win\\path.txt", data="w"), m("a\\..\\b.txt", data="b")],
    "empty_names": [m("train.py", data=PY), m("..", "dir"), m("./", "dir"), m("/", "dir"), m("../..", "file")],
    "links": [m("train.py", data=PY), m("sub", "dir"), m("sub/data.txt", data="d"),
              m("passwd", "symlink", link="/etc/passwd"), m("root", "symlink", link="/"),
              m("up", "symlink", link=".."), m("etc_link", "symlink", link="../../../../etc"),
              m("link_ok", "symlink", link="train.py"), m("sub_link", "symlink", link="sub"),
              m("sub/back", "symlink", link="../train.py"), m("sub/escape", "symlink", link="../../x"),
              m("hl_out", "hardlink", link="../../etc/passwd"), m("hl_ok", "hardlink", link="train.py"),
              m("hl_sub", "hardlink", link="sub/data.txt")],
    "through_links": [m("train.py", data=PY), m("sub", "dir"), m("sub_link", "symlink", link="sub"),
                      m("sub_link/f.txt", data="through"), m("up", "symlink", link=".."), m("up/x.txt", data="x")],
    "special": [m("train.py", data=PY), m("fifo", "fifo"), m("dev", "chr"), m("disk", "blk"),
                m("sub/fifo2", "fifo")],
    "modes": [m("train.py", data=PY, mode=0o644), m("setuid.sh", data="#!/bin/sh\n", mode=0o4755),
              m("setgid.sh", data="#!/bin/sh\n", mode=0o2755), m("sticky", "dir", mode=0o1777),
              m("world.txt", data="w", mode=0o666), m("all.sh", data="#!/bin/sh\n", mode=0o777),
              m("readonly.txt", data="r", mode=0o400), m("grpx.txt", data="g", mode=0o654),
              m("private", "dir", mode=0o700), m("private/key.txt", data="k", mode=0o600)],
    "duplicates": [m("train.py", data="print(1)\n"), m("train.py", data=PY), m("d", "dir"), m("d", "dir"),
                   m("d/f.txt", data="1"), m("d/f.txt", data="2")],
}


def build(members):
    """The gzip tar of ``members``, byte for byte the same at every call."""
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.GNU_FORMAT) as tar:
        for member in members:
            info = tarfile.TarInfo(member["name"])
            info.type = TYPES[member["type"]]
            info.mode = member["mode"]
            info.mtime = 1700000000
            info.uid = info.gid = 1234
            info.uname = info.gname = "builder"
            data = member["data"].encode("utf-8")
            if member["type"] in ("symlink", "hardlink"):
                info.linkname = member["link"]
            if member["type"] == "file":
                info.size = len(data)
                tar.addfile(info, io.BytesIO(data))
            else:
                tar.addfile(info)
    out = io.BytesIO()
    with gzip.GzipFile(fileobj=out, mode="wb", mtime=0, filename="") as gz:
        gz.write(raw.getvalue())
    return out.getvalue()


def snapshot(top):
    """What a directory holds: {relative path: [type, mode, link or sha256]}, links not followed."""
    import hashlib
    import os
    import stat

    found = {}
    for folder, dirs, files in os.walk(top):
        for name in sorted(dirs + files):
            path = os.path.join(folder, name)
            rel = os.path.relpath(path, top)
            st = os.lstat(path)
            if stat.S_ISLNK(st.st_mode):
                found[rel] = ["symlink", None, os.readlink(path)]
            elif stat.S_ISDIR(st.st_mode):
                found[rel] = ["dir", oct(stat.S_IMODE(st.st_mode)), None]
            elif stat.S_ISREG(st.st_mode):
                with open(path, "rb") as f:
                    found[rel] = ["file", oct(stat.S_IMODE(st.st_mode)), hashlib.sha256(f.read()).hexdigest()[:16]]
            else:
                found[rel] = ["special", oct(stat.S_IMODE(st.st_mode)), None]
    return found
