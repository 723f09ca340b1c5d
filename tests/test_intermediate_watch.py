"""The change sources of launcher/intermediate/watcher.py on real directories: which events count, new directories
watched, the snapshot directory skipped; polling reports a file once it has stopped changing."""

import os
import threading

import pytest

from launcher.intermediate import watcher


def write(path, data=b"x"):
    with open(path, "wb") as f:
        f.write(data)


def drain(source, rounds=3):
    seen = []
    for _ in range(rounds):
        seen += source.wait(0.2)
    return seen


def test_inotify_closes_renames_and_new_directories(tmp_path):
    root = str(tmp_path / "intermediate")
    os.makedirs(os.path.join(root, ".tmp.sync"))
    source = watcher.Inotify(root, ".tmp.sync")
    write(os.path.join(root, "closed.txt"))
    write(os.path.join(root, ".tmp.sync", "copy.txt"))  # the snapshots' own directory: never reported
    os.symlink("closed.txt", os.path.join(root, "link"))  # created, never closed after writing
    write(str(tmp_path / "outside.bin"))
    os.rename(str(tmp_path / "outside.bin"), os.path.join(root, "moved-in.bin"))
    os.mkdir(os.path.join(root, "new"))
    assert drain(source) == [("modified", "closed.txt"), ("file", "closed.txt"), ("file", "moved-in.bin"),
                             ("dir", "new")]
    assert source.watch("new")  # as the caller does on ("dir", ...)
    write(os.path.join(root, "new", "deep.txt"))
    os.makedirs(str(tmp_path / "tree" / "inner"))
    os.rename(str(tmp_path / "tree"), os.path.join(root, "new", "tree"))
    deep = os.path.join("new", "deep.txt")
    assert drain(source) == [("modified", deep), ("file", deep), ("dir", os.path.join("new", "tree"))]


def test_inotify_tells_a_file_written_after_the_events_given(tmp_path):
    """written(): a write since the last wait() (a program rewriting the file after its close); the events it
    read come with the next wait(), in order."""
    root = str(tmp_path)
    source = watcher.Inotify(root, ".tmp")
    write(os.path.join(root, "ckpt"))
    assert drain(source) == [("modified", "ckpt"), ("file", "ckpt")]
    assert not source.written("ckpt")
    with open(os.path.join(root, "ckpt"), "r+b") as f:
        f.write(b"y")
        f.flush()
        assert source.written("ckpt") and not source.written("other")
    assert source.wait(0) == [("modified", "ckpt"), ("file", "ckpt")]
    assert not source.written("ckpt")
    assert not watcher.Poll(root, ".tmp", 3600).written("ckpt")  # polling has no such sign


@pytest.mark.parametrize("kind", ["inotify", "poll"])
def test_wake_ends_a_wait(tmp_path, kind):
    source = watcher.Inotify(str(tmp_path), ".tmp") if kind == "inotify" else watcher.Poll(str(tmp_path), ".tmp", 3600)
    answers = []
    waiter = threading.Thread(target=lambda: answers.append(source.wait(3600)), daemon=True)
    waiter.start()
    source.wake()
    waiter.join(120)  # an hour's wait, unless the wake ends it
    assert answers == [[]]


def test_inotify_on_a_missing_root_is_an_oserror_so_the_caller_polls(tmp_path):
    with pytest.raises(OSError):
        watcher.Inotify(str(tmp_path / "missing"), ".tmp")
    assert watcher.open_source(str(tmp_path / "missing"), ".tmp").mode == "polling"


def test_polling_reports_a_file_once_it_stopped_changing(tmp_path):
    root = str(tmp_path)
    source = watcher.Poll(root, ".tmp", 0.05)
    os.mkdir(os.path.join(root, ".tmp"))
    write(os.path.join(root, ".tmp", "copy"))
    write(os.path.join(root, "a"), b"1")
    assert source.wait(1) == []          # changed during this interval: maybe still being written
    assert source.wait(1) == [("file", "a")]
    assert source.wait(1) == []          # reported once
    write(os.path.join(root, "a"), b"22")
    assert source.wait(1) == []
    assert source.wait(1) == [("file", "a")]
