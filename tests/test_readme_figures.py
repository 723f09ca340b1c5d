"""The README's figures about the pyz itself, checked against a fresh build: its size, its entries, the Pythons
it has bytecode for, and no made-up sha256 where a user would take it for the real one.

The README's whole-file figures are for a build that found the Pythons of its example build line (3.7 to 3.13);
on a machine with another set they are skipped, and the per-part figures (the sources, each Python's bytecode)
still hold them in check."""

import hashlib
import os
import re
import subprocess
import zipfile

import pytest

import build_pyz

README = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "README.md")
TOLERANCE = 0.10
WORDS = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9,
         "ten": 10, "eleven": 11, "twelve": 12}


@pytest.fixture(scope="module")
def readme():
    with open(README, encoding="utf-8") as f:
        return f.read()


def flat(text):
    """The text with every run of white space one space, so that a phrase may wrap anywhere."""
    return " ".join(text.split())


def find(pattern, text):
    found = re.search(pattern, flat(text))
    assert found, "the README no longer says %r: update it and this test together" % pattern
    return found


def first_screen(text):
    return text.split("\n## Contents", 1)[0]


def near(stated, actual):
    return abs(stated - actual) <= TOLERANCE * actual


def version(tag):
    """cpython-311 -> 3.11"""
    digits = tag.split("-")[1]
    return digits[0] + "." + digits[1:]


def versions_between(first, last):
    return ["3.%d" % minor for minor in range(int(first.split(".")[1]), int(last.split(".")[1]) + 1)]


def built_versions(pyz):
    return [version(folder) for folder in build_pyz.bytecode_folders(pyz)]


def example_versions(text):
    """The Pythons of the README's example build line, checked against the range its preface names."""
    first, last = find(r"for example, on a machine with Python (3\.\d+) to (3\.\d+):", text).groups()
    listed = find(r"wrote dist/sm-train\.pyz: \d+ bytes, bytecode for Python ((?:3\.\d+, )*3\.\d+)", text).group(1)
    assert listed.split(", ") == versions_between(first, last), listed
    return listed.split(", ")


@pytest.fixture(scope="module")
def sizes(pyz, tmp_path_factory):
    """Bytes: the whole pyz, the pyz of the sources alone, and what each Python's bytecode adds ({version: bytes})."""
    alone = build_pyz.build(str(tmp_path_factory.mktemp("alone") / "sm-train.pyz"), pythons=[])
    added = {}
    with zipfile.ZipFile(pyz) as z:
        for info in z.infolist():
            if info.filename.startswith("pyc/"):
                name = len(info.filename.encode())
                # the data, its local header (30 bytes and the name) and its central directory record (46 and the name)
                added[version(info.filename[4:])] = info.compress_size + 30 + name + 46 + name
    return os.path.getsize(pyz), os.path.getsize(alone), added


def test_the_build_has_bytecode_for_every_python_it_finds(pyz, readme):
    find(r"The build compiles bytecode with every Python 3\.7\+ it finds", readme)
    found = set()
    for python in build_pyz.find_pythons():
        if build_pyz._is_supported(python):
            out = subprocess.run([python, "-c", "import sys; print(sys.implementation.cache_tag)"],
                                 stdout=subprocess.PIPE, timeout=30)
            found.add(out.stdout.decode().strip())
    folders = {folder.rsplit("-", 1)[0] for folder in build_pyz.bytecode_folders(pyz)}
    assert folders == found


WHOLE_FILE = [
    ("first screen", r"one file of about (\d+) KB", 1000),
    ("example build line", r"wrote dist/sm-train\.pyz: (\d+) bytes", 1),
    ("Python versions", r"all (?:\w+), (\d+) KB\.", 1000),
    ("Performance", r"→ \*\*(\d+) KB\*\* \(\w+ Pythons", 1000),
]


@pytest.mark.parametrize("where, pattern, unit", WHOLE_FILE, ids=[w[0] for w in WHOLE_FILE])
def test_the_size_of_the_whole_pyz(pyz, readme, sizes, where, pattern, unit):
    stated = int(find(pattern, readme).group(1)) * unit
    if built_versions(pyz) != example_versions(readme):
        pytest.skip("the README's size is for bytecode for Python %s; this build has %s"
                    % (", ".join(example_versions(readme)), ", ".join(built_versions(pyz)) or "none"))
    assert near(stated, sizes[0]), "%s: the README says %d bytes, the pyz has %d" % (where, stated, sizes[0])


def test_the_example_build_line_names_the_pythons_of_a_full_build(pyz, readme):
    listed = example_versions(readme)
    seven = find(r"all (\w+), \d+ KB\.", readme).group(1)
    assert WORDS[seven] == len(listed)
    built = built_versions(pyz)
    if set(listed) <= set(built):
        assert [v for v in built if v in listed] == listed


def test_the_size_of_each_part(pyz, readme, sizes):
    whole, alone, added = sizes
    stated = int(find(r"the sources alone make an? (\d+) KB pyz", readme).group(1)) * 1000
    assert near(stated, alone), "the README says the sources alone make %d bytes, they make %d" % (stated, alone)
    spans = re.findall(r"(\d+) to (\d+) KB \((3\.\d+) to (3\.\d+)", flat(find(r"each Python adds [^;]*;", readme)
                                                                             .group(0)))
    assert len(spans) == 2, spans
    for low, high, first, last in spans:
        low, high = int(low) * 1000, int(high) * 1000
        span = versions_between(first, last)
        here = {v: size for v, size in added.items() if v in span}
        for v, size in here.items():
            assert low * (1 - TOLERANCE) <= size <= high * (1 + TOLERANCE), (v, size, low, high)
        if set(here) == set(span):  # the whole span was built: its ends are the README's ends
            assert near(low, min(here.values())) and near(high, max(here.values())), (span, here, low, high)
    assert whole == alone + sum(added.values())


def test_the_number_of_entries(pyz, readme):
    fixed, per_python, total, pythons = find(
        r"The archive holds (\w+) entries and (\w+) per Python \((\w+) with (\w+) Pythons\)", readme).groups()
    with zipfile.ZipFile(pyz) as z:
        entries = len(z.infolist())
    assert WORDS[per_python] == 1
    assert entries == WORDS[fixed] + len(build_pyz.bytecode_folders(pyz))
    assert WORDS[total] == WORDS[fixed] + WORDS[pythons]
    assert WORDS[pythons] == len(example_versions(readme))


def test_the_version_example_names_the_bytecode_that_python_gets(pyz, readme):
    shown = find(r"bytecode pyc/(cpython-\d+)-([0-9a-f]{8})\.marshal", readme).groups()
    built = dict(folder.rsplit("-", 1) for folder in build_pyz.bytecode_folders(pyz))
    if shown[0] not in built:
        pytest.skip("this build has no bytecode for %s" % version(shown[0]))
    assert built[shown[0]] == shown[1]


def test_no_sha256_on_the_first_screen_pretends_to_be_the_real_one(pyz, readme):
    with open(pyz, "rb") as f:
        real = hashlib.sha256(f.read()).hexdigest()
    shown = re.findall(r"(?<![0-9a-fA-F])[0-9a-fA-F]{64}(?![0-9a-fA-F])", first_screen(readme))
    assert all(digest.lower() == real for digest in shown), shown
