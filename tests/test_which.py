"""launcher.core.probes.which: the program the shell would find on PATH."""

import os

from launcher.core import probes


def test_which_finds_what_the_shell_finds_and_names_it_as_os_path_join(tmp_path, monkeypatch):
    """The first executable regular file of that name on PATH, in PATH's order; folders given with a trailing
    "/" or left empty (the current directory) name the file as os.path.join writes it."""
    first, second, here = tmp_path / "first", tmp_path / "second", tmp_path / "here"
    for folder in (first, second, here):
        folder.mkdir()
    (first / "tool").write_text("not executable")
    (first / "dir-tool").mkdir()
    for folder in (second, here):
        (folder / "tool").write_text("#!/bin/sh\n")
        (folder / "tool").chmod(0o755)
    (second / "dir-tool").write_text("#!/bin/sh\n")
    (second / "dir-tool").chmod(0o755)
    path = os.pathsep.join([str(first), str(second) + "/"])
    assert probes.which("tool", path) == os.path.join(str(second) + "/", "tool")
    assert probes.which("dir-tool", path) == os.path.join(str(second) + "/", "dir-tool")  # a folder is no program
    assert probes.which("tool", path, executable=False) == os.path.join(str(first), "tool")
    assert probes.which("missing", path) is None
    monkeypatch.chdir(here)
    assert probes.which("tool", os.pathsep.join(["", str(second)])) == os.path.join(".", "tool")
