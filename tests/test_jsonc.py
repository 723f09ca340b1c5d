"""launcher.jsonc, JSON without `import json`, against the json package: the same text for every value
(compact, sorted, pretty), the same value or error for every text, on every Python here; parse decides as json
does without importing it; nesting is bounded at the toolkit's 987 levels, not width, and a value that deep is
decoded, encoded and printed on every Python here; pretty needs no recursion."""

import collections
import json
import random
import subprocess
import sys

import pytest
import pythons
from conftest import ROOT

from launcher import jsonc

VALUES = ["x", "é", "\u2028\x00\"\\", 1, -0.0, 1e400, -1e400, float("nan"), 1.5, 1e16, 1e-7, 12345678901234567890,
          True, False, None, [], {}, {"b": 1, "a": [True, None, "x y", "é"]}, [1, [2, [3]]], {"z": {"y": {}}}]
TEXTS = ["1", " 7 ", "NaN", "-Infinity", "1e400", '"a"', '[1, "a", {"b": null}]', "01", 'abc"', "", '{"a":1} x',
         "\ufeff1", "1.0000000000000001", '"\\ud800"', "+1", "0x10", "[1,", "{\"a\" 1}", "tru", "  "]


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
    python = pythons.required(version)
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
    python = pythons.required(version)
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


def deep_list(depth):
    return "[" * depth + "]" * depth


def deep_dict(depth):
    return '{"a":' * (depth - 1) + "{}" + "}" * (depth - 1)


@pytest.fixture(autouse=True)
def recursion_limit():
    """A deep document raises the process's recursion limit (jsonc._brackets): put back what the test found."""
    limit = sys.getrecursionlimit()
    yield
    sys.setrecursionlimit(limit)


def test_loads_bounds_nesting_not_width():
    for text in (deep_list(987), deep_dict(987), "[" * 986 + "[1]" + "]" * 986):
        for decode in (jsonc.loads, jsonc.parse):
            assert jsonc.dumps(decode(text)) == text  # the texts are compact JSON
    # 988 levels: an empty innermost list or object passes parse's validator, whose count is one short; the walk
    # after decoding refuses it
    for text in (deep_list(988), deep_dict(988), "[" * 987 + "[1]" + "]" * 987, "[" * 100000, deep_list(100000),
                 deep_dict(5000)):
        for decode in (jsonc.loads, jsonc.parse):
            with pytest.raises(RecursionError, match="^nested more than 987 levels deep$"):
                decode(text)
    wide = json.dumps([[[1]]] * 2000 + [{"a": [{}]}] * 2000)  # thousands of brackets, three levels
    assert jsonc.loads(wide) == json.loads(wide)
    assert jsonc.loads(json.dumps("[" * 5000)) == "[" * 5000  # brackets inside a string nest nothing


# On Python 3.7 to 3.11 the C decoder, the C encoder and repr() recurse within sys.getrecursionlimit(), frames
# included; on 3.12 and later within a C limit. Here the value is handled under 100 frames, more than the launcher's.
DEEP_SCRIPT = r"""
import sys
sys.path.insert(0, sys.argv[1])
from launcher import jsonc

def under_frames(count, work):
    return under_frames(count - 1, work) if count else work()

shallow = "[" * 500 + "]" * 500
assert jsonc.dumps(under_frames(100, lambda: jsonc.loads(shallow))) == shallow
assert sys.getrecursionlimit() == 1000, "500 brackets changed the recursion limit"
for depth in (987, 988):
    for text in ("[" * depth + "]" * depth, '{"a":' * (depth - 1) + "{}" + "}" * (depth - 1)):
        for decode in (jsonc.loads, jsonc.parse):
            try:
                value = under_frames(100, lambda: decode(text))
            except RecursionError as e:
                assert depth == 988 and str(e) == "nested more than 987 levels deep", (depth, e)
                continue
            assert depth == 987, "988 levels decoded"
            env = {"hyperparameters": {"d": value}}  # SM_TRAINING_ENV: two levels further in
            compact = under_frames(100, lambda: jsonc.dumps(env))
            assert compact == '{"hyperparameters":{"d":%s}}' % text
            assert under_frames(100, lambda: str(value)).count("[") == text.count("[")  # the argument
            assert len(under_frames(100, lambda: jsonc.pretty(env))) > len(text)  # the start record
print("ok")
"""


@pytest.mark.parametrize("version", pythons.WANTED)
def test_a_value_at_the_limit_is_decoded_encoded_and_printed_on_every_python(version):
    python = pythons.required(version)
    result = subprocess.run([python, "-c", DEEP_SCRIPT, ROOT], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert result.returncode == 0 and result.stdout == b"ok\n", result.stderr.decode()[-2000:]


def test_pretty_is_json_indent_and_needs_no_recursion():
    value = json.loads(deep_list(300))
    mixed = {"a": [1, {"b": [], "c": {}}, (2, 3)], "e": {"f": {"g": [None, True, "x", value]}}}
    for indent in (0, 2, 4):
        assert jsonc.pretty(mixed, indent) == json.dumps(mixed, indent=indent)
    depth = 20000  # far beyond any recursion limit; indent 0 keeps the text small
    very = []
    for _ in range(depth - 1):
        very = [very]
    assert jsonc.pretty(very, 0) == "[\n" * (depth - 1) + "[]" + "\n]" * (depth - 1)
