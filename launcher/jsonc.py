"""JSON through the interpreter's C accelerator (``_json``), without importing the json package.

``import json`` pulls in ``re`` and ``enum``: about 5 ms, a fifth of a whole launch. ``json`` itself
parses and encodes with these same C functions, so the results are identical. Where ``_json`` is
missing (an interpreter other than CPython), or a document is malformed, the json package does the
work, so every error reads exactly as json's.
"""

from . import jsonvalid

try:
    import _json
except ImportError:  # pragma: no cover - CPython always has it
    _json = None

_SPACE = " \t\n\r"
_CONTAINERS = (dict, list, tuple)
_ENCODERS = {}  # (sort_keys, ensure_ascii) -> the C encoder

# The deepest nesting of lists and objects that loads and parse accept: the toolkit's own limit for a
# hyperparameter. sagemaker-training 5.1.4 on CPython 3.11 runs a value nested 987 levels deep and fails from 988
# on, with a RecursionError in its json.dumps of SM_TRAINING_ENV, where the value sits two levels further in
# (environment > hyperparameters > value) on top of the toolkit's own frames (tests/golden/deep_*_987, _988).
MAX_DEPTH = 987
# The C decoder, the C encoder and repr() recurse once a level. On Python 3.7 to 3.11 that counts against
# sys.getrecursionlimit(), 1000 by default, together with the frames below: 987 levels and the launcher's frames
# overflow it. On 3.12 and later it counts against a C limit of its own (1500 on 3.12, 10000 on 3.13), which they
# fit. So a document with more brackets than _SHALLOW (one with fewer fits 1000 beside any frames the launcher has)
# first gets _ROOM (_make_room): 1000 for the launcher's frames, and the levels of the deepest value it encodes.
_SHALLOW = 500
_ROOM = 1000 + MAX_DEPTH + 2
_CONSTANTS = {"-Infinity": float("-inf"), "Infinity": float("inf"), "NaN": float("nan")}


class _Decoding(object):
    """The settings json.JSONDecoder() hands the C scanner."""

    strict = True
    object_hook = None
    object_pairs_hook = None
    parse_float = float
    parse_int = int
    parse_constant = _CONSTANTS.__getitem__


def _unserializable(value):
    raise TypeError("Object of type %s is not JSON serializable" % type(value).__name__)


def _encoder(sort_keys, ensure_ascii):
    """One C encoder per setting, made once: the start record encodes hundreds of values."""
    key = (sort_keys, ensure_ascii)
    if key not in _ENCODERS:
        strings = _json.encode_basestring_ascii if ensure_ascii else _json.encode_basestring
        # No markers dict (json.dumps check_circular=False): values read from JSON cannot be circular.
        _ENCODERS[key] = _json.make_encoder(None, _unserializable, strings, None, ":", ",", sort_keys, False, True)
    return _ENCODERS[key]


try:  # a future CPython may change these private signatures: then the json package does all the work
    _scan = _json.make_scanner(_Decoding())
    _encoder(True, True)
except Exception:  # noqa: BLE001
    _json = _scan = None


def loads(text):
    """json.loads(text), but RecursionError for a document nested more than MAX_DEPTH levels."""
    brackets = 0  # how many "[" and "{": the deepest the text can nest, counted by two C calls before it is decoded
    if isinstance(text, (str, bytes, bytearray)):
        opening = "[{" if isinstance(text, str) else b"[{"
        brackets = text.count(opening[:1]) + text.count(opening[1:])
        if brackets > _SHALLOW:
            _make_room()
    value = _loads(text)
    if brackets > MAX_DEPTH and _deeper_than(value, MAX_DEPTH):
        raise jsonvalid.too_deep(MAX_DEPTH)  # the counts are cheap; only a document with that many brackets is walked
    return value


def _make_room():
    """The recursion limit raised to _ROOM before a deep text is decoded, and kept so: the value is encoded, printed
    and turned into arguments long after, and then the launcher execs the program or only waits for it."""
    import sys  # here, on the slow path: a plain start never needs it

    if sys.getrecursionlimit() < _ROOM:
        sys.setrecursionlimit(_ROOM)


def _loads(text):
    if not isinstance(text, str):
        if isinstance(text, (bytes, bytearray)):
            return _json_package().loads(text)
        raise TypeError("the JSON object must be str, bytes or bytearray, not %s" % type(text).__name__)
    if _scan is None or text.startswith("\ufeff"):
        return _json_package().loads(text)
    start = len(text) - len(text.lstrip(_SPACE))
    try:
        value, end = _scan(text, start)
    except RecursionError:
        raise jsonvalid.too_deep(MAX_DEPTH)
    except Exception:  # StopIteration or a decode error: let json say what is wrong
        return _json_package().loads(text)
    if text[end:].strip(_SPACE):
        return _json_package().loads(text)  # raises "Extra data"
    return value


def _deeper_than(value, limit):
    """Whether lists and objects nest more than ``limit`` levels in value; a loop, as the depth is the user's."""
    todo = [(value, 1)] if isinstance(value, (dict, list)) else []
    while todo:
        item, level = todo.pop()
        children = item.values() if isinstance(item, dict) else item
        if level > limit:
            return True
        todo.extend((child, level + 1) for child in children if isinstance(child, (dict, list)))
    return False


def parse(text):
    """loads(text) for a text that may well not be JSON (a hyperparameter the generic Estimator wrote with
    str(): ``adam``, ``['a', 'b']``): ValueError or TypeError when it is not, without importing json.
    The C scanner's own error path imports json (3.7, 3.13), so a text that starts like a string, list or
    object is checked first; any other start fails in the scanner with a plain StopIteration."""
    if not isinstance(text, str) or _scan is None:
        return loads(text)
    if text.isdigit() and text.isascii() and (text[0] != "0" or len(text) == 1):  # the commonest value
        return int(text)
    if text.startswith("\ufeff"):
        raise ValueError("not JSON: a byte order mark")  # as json.loads(str) says
    start = len(text) - len(text.lstrip(_SPACE))
    if text[start:start + 1] in ('"', "[", "{") and not jsonvalid.valid(text, start, MAX_DEPTH):
        raise ValueError("not JSON")
    brackets = text.count("[") + text.count("{")  # as loads
    if brackets > _SHALLOW:
        _make_room()
    try:
        value, end = _scan(text, start)
    except StopIteration:
        raise ValueError("not JSON")
    except RecursionError:
        raise jsonvalid.too_deep(MAX_DEPTH)
    if text[end:].strip(_SPACE):
        raise ValueError("not JSON: extra data")
    if brackets > MAX_DEPTH and _deeper_than(value, MAX_DEPTH):  # as loads: the validator counts no empty innermost
        raise jsonvalid.too_deep(MAX_DEPTH)  # list or object, so MAX_DEPTH + 1 levels can pass it
    return value


def dumps(value, sort_keys=True, ensure_ascii=True):
    """json.dumps(value, sort_keys=sort_keys, separators=(",", ":"), ensure_ascii=ensure_ascii)."""
    if _json is None:
        return _json_package().dumps(value, sort_keys=sort_keys, separators=(",", ":"), ensure_ascii=ensure_ascii)
    return "".join(_encoder(sort_keys, ensure_ascii)(value, 0))


def quote(text):
    """json.dumps(text) for a string."""
    return _json.encode_basestring_ascii(text) if _json else _json_package().dumps(text)


def pretty(value, indent=4):
    """json.dumps(value, indent=indent): keys in insertion order, ", "-free separators as json writes them.
    A loop over a stack of pieces to write, not recursion: how deep the value nests is the user's choice."""
    if not (value and isinstance(value, _CONTAINERS)):
        return dumps(value)
    text_of = _json.encode_basestring_ascii if _json else quote
    pieces, todo = [], [(value, 0)]
    while todo:
        item = todo.pop()
        if item.__class__ is str:
            pieces.append(item)
            continue
        value, level = item
        if isinstance(value, dict):
            entries, opening, closing = [(text_of(k) + ": ", v) for k, v in value.items()], "{", "}"
        else:
            entries, opening, closing = [("", v) for v in value], "[", "]"
        pad = "\n" + " " * indent * (level + 1)
        pieces.append(opening)
        todo.append("\n" + " " * indent * level + closing)
        for i in range(len(entries) - 1, -1, -1):  # pushed last to first, so written first to last
            key, child = entries[i]
            kind = child.__class__
            if kind is str:  # a leaf is written with its key
                todo.append(("," if i else "") + pad + key + text_of(child))
            elif kind is int:
                todo.append(("," if i else "") + pad + key + int.__repr__(child))
            elif child and isinstance(child, _CONTAINERS):
                todo.append((child, level + 1))
                todo.append(("," if i else "") + pad + key)
            else:
                todo.append(("," if i else "") + pad + key + dumps(child))
    return "".join(pieces)


def short(value, limit=80):
    """A value in an error message: compact JSON, cut to ``limit`` characters."""
    text = dumps(value, sort_keys=False)
    return text if len(text) <= limit else text[:limit - 3] + "..."


def _json_package():
    import json

    return json
