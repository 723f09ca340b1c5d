"""Unit tests of the pure stages: JSON through _json, hyperparameter rendering, entry-point names,
masking, the region lookup."""

import collections
import json
import os
import random
import re
import subprocess

import pytest
import pythons
from conftest import ROOT

from launcher import jsonc, masking
from launcher.core import hyperparameters, probes, program
from launcher.errors import JobError

VALUES = ["x", "é", "\u2028\x00\"\\", 1, -0.0, 1e400, -1e400, float("nan"), 1.5, 1e16, 1e-7, 12345678901234567890,
          True, False, None, [], {}, {"b": 1, "a": [True, None, "x y", "é"]}, [1, [2, [3]]], {"z": {"y": {}}}]
TEXTS = ["1", " 7 ", "NaN", "-Infinity", "1e400", '"a"', '[1, "a", {"b": null}]', "01", 'abc"', "", '{"a":1} x',
         "\ufeff1", "1.0000000000000001", '"\\ud800"', "+1", "0x10", "[1,", "{\"a\" 1}", "tru", "  "]
with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "golden_toolkit", "toolkit.json"),
          encoding="utf-8") as f:
    TOOLKIT = json.load(f)  # recorded from sagemaker-training 5.1.4 by tests/recorders/record_toolkit_golden.py



def literal(value):
    """Python source for value; nan and the infinities have no literal."""
    if isinstance(value, float) and (value != value or value in (float("inf"), float("-inf"))):
        return "float(%r)" % repr(value)
    return repr(value)


PARITY_SCRIPT = r"""
import json, sys
sys.path.insert(0, sys.argv[1])
from launcher import jsonc
values = [%s]
texts = %r
for v in values:
    assert jsonc.dumps(v) == json.dumps(v, sort_keys=True, separators=(",", ":"), ensure_ascii=True), v
    assert jsonc.dumps(v, False, False) == json.dumps(v, separators=(",", ":"), ensure_ascii=False), v
    d = {"k": v, "a": [v, {"q": v}]}
    assert jsonc.pretty(d) == json.dumps(d, indent=4), v
for t in texts:
    def run(f):
        try:
            return ("ok", repr(f(t)))
        except Exception as e:
            return ("err", type(e).__name__, str(e))
    assert run(json.loads) == run(jsonc.loads), t
print("ok")
""" % (", ".join(literal(v) for v in VALUES), TEXTS)


def outcome(func, text):
    try:
        return "ok", repr(func(text))
    except Exception as e:  # noqa: BLE001 - comparing whatever each raises
        return "err", type(e).__name__, str(e)


@pytest.mark.parametrize("value", VALUES, ids=range(len(VALUES)))
def test_jsonc_encodes_as_json(value):
    assert jsonc.dumps(value) == json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    doc = {"k": value, "a": [value, {"q": value}]}
    assert jsonc.pretty(doc) == json.dumps(doc, indent=4)
    assert jsonc.pretty(doc, 2) == json.dumps(doc, indent=2)
    ordered = collections.OrderedDict([("z", (value, [value])), ("a", collections.OrderedDict(k=value))])
    assert jsonc.pretty(ordered) == json.dumps(ordered, indent=4)  # subclasses and tuples, as json writes them


@pytest.mark.parametrize("text", TEXTS)
def test_jsonc_decodes_as_json(text):
    assert outcome(jsonc.loads, text) == outcome(json.loads, text)


def test_jsonc_type_error_for_non_strings():
    for value in (3, None, [1]):
        with pytest.raises(TypeError):
            jsonc.loads(value)


@pytest.mark.parametrize("version", pythons.WANTED)
def test_jsonc_matches_json_on_every_python_here(version):
    python = pythons.interpreter(version)
    if not python:
        pytest.skip(pythons.missing_reason(version))
    result = subprocess.run([python, "-c", PARITY_SCRIPT, ROOT], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert result.returncode == 0, result.stderr.decode()


# Values as the SDK writes them: framework estimators with json.dumps, the generic Estimator with str().
NOT_JSON_OR_JSON = ["adam", "True", "None", "[64, 32]", "['a', 'b']", "{'lr': 0.1}", '"unterminated', '"a\\qb"',
                    '"\\u12g4"', "1.2.3", "[1, 2", '{"a": 1,}', "01", "1.", "-", '"tab\there"', "NaN", "-Infinity",
                    '{"a": [1, {"b": null}]}', "1e5", "s3://bucket/key", "", " ", "\ufeff1", '"x"   ', "[[[]]]"]

# Reads NUL-separated texts on stdin, prints each one's value as compact JSON or NOT JSON.
PARSE_SCRIPT = r"""
import sys
assert not {"json", "re", "enum"} & set(sys.modules), "loaded before the test"
sys.path.insert(0, sys.argv[1])
from launcher import jsonc
for t in sys.stdin.buffer.read().decode("utf-8", "surrogatepass").split("\0"):
    try:
        print(jsonc.dumps(jsonc.parse(t)))
    except (ValueError, TypeError, RecursionError):
        print("NOT JSON")
assert not {"json", "re", "enum"} & set(sys.modules), "jsonc.parse imported json"
"""


@pytest.mark.parametrize("version", pythons.WANTED)
def test_jsonc_parse_decides_as_json_without_importing_it(version):
    python = pythons.interpreter(version)
    if not python:
        pytest.skip(pythons.missing_reason(version))
    rand = random.Random(7)
    alphabet = '[]{},:"\\ 01-.eE+tfnuNIalsrx\t'
    texts = NOT_JSON_OR_JSON + ["".join(rand.choice(alphabet) for _ in range(rand.randint(1, 9))) for _ in range(20000)]
    result = subprocess.run([python, "-I", "-S", "-c", PARSE_SCRIPT, ROOT], input="\0".join(texts).encode(),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert result.returncode == 0, result.stderr.decode()[-2000:]
    expected = []
    for text in texts:
        try:
            expected.append(json.dumps(json.loads(text), sort_keys=True, separators=(",", ":")))
        except ValueError:
            expected.append("NOT JSON")
    assert result.stdout.decode().splitlines() == expected


def test_args_as_the_toolkits_unit_tests_expect():
    # sagemaker-training test/unit/test_mapping.py::test_to_cmd_args (bytes values aside: JSON has none)
    assert hyperparameters.to_args({"U": "1", "b": "2", "T": "", "": "42"}) == ["", "42", "-T", "", "-U", "1",
                                                                               "-b", "2"]
    assert hyperparameters.to_args({"nested": ["1", ["2", "3", [["6"]]]]}) == ["--nested",
                                                                              "['1', ['2', '3', [['6']]]]"]
    assert hyperparameters.to_args({"truthy": True, "falsy": False}) == ["--falsy", "False", "--truthy", "True"]
    assert hyperparameters.to_args({"d": {"z": {"a": 1}, "b": None}}) == ["-d", "b=None,z={'a': 1}"]


def test_split_is_case_sensitive_and_knows_the_nine_names():
    names = TOOLKIT["internal_names"]  # params.SAGEMAKER_HYPERPARAMETERS, recorded
    assert len(names) == 9
    user, internal = hyperparameters.split(dict({name: 1 for name in names}, sagemaker_x=1, SageMaker_Upper=2, lr=4))
    assert sorted(internal) == sorted(names + ["sagemaker_x"])
    assert user == {"SageMaker_Upper": 2, "lr": 4}
    near = [variant for name in names for variant in (name.upper(), name + "_", "x" + name)
            if not variant.startswith("sagemaker_")]
    user, internal = hyperparameters.split({name: 1 for name in near})
    assert internal == {} and sorted(user) == sorted(near)


def test_entry_point_check_equals_the_toolkits_pattern():
    pattern = re.compile(TOOLKIT["entry_point_pattern"])  # process._SAFE_ENTRY_POINT, recorded
    rng = random.Random(7)
    for _ in range(50000):
        name = "".join(rng.choice("aZ9._+-/ \n\té$") for _ in range(rng.randint(0, 6)))
        assert bool(pattern.match(name)) == program._safe(name), repr(name)


def test_entry_point_verdicts_equal_the_toolkits():
    """validate_entry_point's verdict on each recorded name: the pattern and the '.'/'..' segment rule."""
    assert sum(ok for _, ok in TOOLKIT["entry_points"]) > 100  # the sample holds names of both kinds
    for name, accepted in TOOLKIT["entry_points"]:
        try:
            program.validate_name(name)
            ours = True
        except JobError:
            ours = False
        assert ours == accepted, repr(name)


@pytest.mark.parametrize("name,fragment", [("", "is empty"), ("a b.py", "' '"), ("-c", "leading '-'"),
                                           ("/x.py", "leading '/'"), ("+x", "unsupported character at the start"),
                                           ("a/../b.py", "'..' path segments"), ("./t.py", "'..' path segments")])
def test_entry_point_messages(name, fragment):
    with pytest.raises(JobError) as error:
        program.validate_name(name)
    assert fragment in str(error.value)


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


@pytest.mark.parametrize("name,secret", [("hf_token", True), ("wandbApiKey", True), ("AWS_SECRET_ACCESS_KEY", True),
                                         ("db_password", True), ("client-secret", True), ("Credentials", True),
                                         ("max_tokens", False), ("tokenizer_name", False), ("lr", False),
                                         ("passes", False), ("keyword", False)])
def test_secret_names(name, secret):
    assert masking.is_secret(name) is secret


def test_mask_leaves_the_original_alone():
    decoded = {"hf_token": "abc", "lr": 0.1}
    assert masking.mask(decoded) == {"hf_token": masking.MASK, "lr": 0.1}
    assert decoded["hf_token"] == "abc"
    assert masking.mask({"lr": 0.1}) is None


def test_build_is_reproducible(tmp_path):
    import build_pyz

    a = build_pyz.build(str(tmp_path / "a.pyz"))
    b = build_pyz.build(str(tmp_path / "b.pyz"))
    with open(a, "rb") as fa, open(b, "rb") as fb:
        data = fa.read()
        assert data == fb.read()
    assert data.startswith(b"#!/usr/bin/env python3\n")
    assert os.stat(a).st_mode & 0o111
    assert len(data) < 1000 * 1000  # the pyz stays under 1 MB, bytecode included (README, "Performance")
