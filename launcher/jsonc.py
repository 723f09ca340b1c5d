"""JSON through the interpreter's C accelerator (``_json``), without importing the json package.

``import json`` pulls in ``re`` and ``enum``: about 5 ms, a fifth of a whole launch. ``json`` itself
parses and encodes with these same C functions, so the results are identical. Where ``_json`` is
missing (an interpreter other than CPython), or a document is malformed, the json package does the
work, so every error reads exactly as json's.
"""

try:
    import _json
except ImportError:  # pragma: no cover - CPython always has it
    _json = None

_SPACE = " \t\n\r"
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
    strings = _json.encode_basestring_ascii if ensure_ascii else _json.encode_basestring
    return _json.make_encoder({}, _unserializable, strings, None, ":", ",", sort_keys, False, True)


try:  # a future CPython may change these private signatures: then the json package does all the work
    _scan = _json.make_scanner(_Decoding())
    _encoder(True, True)
except Exception:  # noqa: BLE001
    _json = _scan = None


def loads(text):
    """json.loads(text)."""
    if not isinstance(text, str):
        if isinstance(text, (bytes, bytearray)):
            return _json_package().loads(text)
        raise TypeError("the JSON object must be str, bytes or bytearray, not %s" % type(text).__name__)
    if _scan is None or text.startswith("\ufeff"):
        return _json_package().loads(text)
    start = len(text) - len(text.lstrip(_SPACE))
    try:
        value, end = _scan(text, start)
    except Exception:  # StopIteration or a decode error: let json say what is wrong
        return _json_package().loads(text)
    if text[end:].strip(_SPACE):
        return _json_package().loads(text)  # raises "Extra data"
    return value


def dumps(value, sort_keys=True, ensure_ascii=True):
    """json.dumps(value, sort_keys=sort_keys, separators=(",", ":"), ensure_ascii=ensure_ascii)."""
    if _json is None:
        return _json_package().dumps(value, sort_keys=sort_keys, separators=(",", ":"), ensure_ascii=ensure_ascii)
    return "".join(_encoder(sort_keys, ensure_ascii)(value, 0))


def quote(text):
    """json.dumps(text) for a string."""
    return _json.encode_basestring_ascii(text) if _json else _json_package().dumps(text)


def pretty(value, indent=4, level=0):
    """json.dumps(value, indent=indent): keys in insertion order, ", "-free separators as json writes them."""
    if isinstance(value, dict) and value:
        pad = "\n" + " " * indent * (level + 1)
        items = [pad + quote(k) + ": " + pretty(v, indent, level + 1) for k, v in value.items()]
        return "{" + ",".join(items) + "\n" + " " * indent * level + "}"
    if isinstance(value, (list, tuple)) and value:
        pad = "\n" + " " * indent * (level + 1)
        items = [pad + pretty(v, indent, level + 1) for v in value]
        return "[" + ",".join(items) + "\n" + " " * indent * level + "]"
    return dumps(value)


def _json_package():
    import json

    return json
