"""Whether a text is one JSON value as the C scanner (``_json``) would parse it, without parsing it: the scanner's
own error path imports the json package on Python 3.7 and 3.13, which a start must not pay for (jsonc.parse). A loop
over the text, never recursion, since how deep a value nests is the user's choice."""

_CLOSE = {"[": "]", "{": "}"}
_LITERALS = ("true", "false", "null", "NaN", "Infinity", "-Infinity")


def too_deep(limit):
    """The error for a document nested more than ``limit`` levels deep, from this validator and from jsonc."""
    return RecursionError("nested more than %d levels deep" % limit)


def valid(text, i, limit):
    """Whether the JSON value at ``i`` spans the text (up to white space), as the C scanner would parse it.
    A loop, as the depth is the user's; past ``limit`` open lists and objects it raises too_deep(limit), as the
    decoder does: too deep is an error, not "not JSON"."""
    n = len(text)
    stack = []  # the open "[" and "{"
    while True:  # a value starts at i (after an object's key)
        c = text[i:i + 1]
        if c in _CLOSE:
            i = _skip(text, i + 1)
            if text[i:i + 1] == _CLOSE[c]:
                i += 1
            else:
                stack.append(c)
                if len(stack) > limit:
                    raise too_deep(limit)
                if c == "{":
                    i = _key(text, i)
                    if i < 0:
                        return False
                continue
        elif c == '"':
            i = _string(text, i)
        else:
            i = _literal_or_number(text, i)
        if i < 0:
            return False
        while True:  # after a value: a comma, a closing bracket, or the end
            i = _skip(text, i)
            if not stack:
                return i == n
            c = text[i:i + 1]
            if c == ",":
                i = _skip(text, i + 1)
                if stack[-1] == "{":
                    i = _key(text, i)
                    if i < 0:
                        return False
                break
            if c != _CLOSE[stack[-1]]:
                return False
            stack.pop()
            i += 1


def _skip(text, i):
    while text[i:i + 1] in (" ", "\t", "\n", "\r"):
        i += 1
    return i


def _key(text, i):
    """Past an object's ``"key" :`` and the white space after it; -1 when there is none."""
    if text[i:i + 1] != '"':
        return -1
    i = _string(text, i)
    i = _skip(text, i) if i > 0 else i
    if i < 0 or text[i:i + 1] != ":":
        return -1
    return _skip(text, i + 1)


def _string(text, i):
    """Past the string whose quote is at ``i``; -1 when it is unterminated or has a bad escape or a raw
    control character (json's strict mode)."""
    i += 1
    while True:
        quote = text.find('"', i)
        if quote < 0:
            return -1
        backslash = text.find("\\", i, quote)
        end = quote if backslash < 0 else backslash
        chunk = text[i:end]
        if not chunk.isprintable() and any(ch < " " for ch in chunk):
            return -1
        if backslash < 0:
            return quote + 1
        escape = text[backslash + 1:backslash + 2]
        if escape == "u":
            digits = text[backslash + 2:backslash + 6]
            if len(digits) != 4 or not all(ch in "0123456789abcdefABCDEF" for ch in digits):
                return -1
            i = backslash + 6
        elif escape and escape in '"\\/bfnrt':
            i = backslash + 2
        else:
            return -1


def _literal_or_number(text, i):
    """Past the constant or number at ``i`` (-?(0|[1-9][0-9]*)(.[0-9]+)?([eE][-+]?[0-9]+)?); -1 if none."""
    for word in _LITERALS:
        if text.startswith(word, i):
            return i + len(word)
    start = i + 1 if text[i:i + 1] == "-" else i
    i = _digits(text, start)
    if i == start or (text[start] == "0" and i > start + 1):
        return -1 if i == start else start + 1
    if text[i:i + 1] == "." and _digits(text, i + 1) > i + 1:
        i = _digits(text, i + 1)
    if text[i:i + 1] in ("e", "E"):
        j = i + 2 if text[i + 1:i + 2] in ("+", "-") else i + 1
        if _digits(text, j) > j:
            i = _digits(text, j)
    return i


def _digits(text, i):
    while "0" <= text[i:i + 1] <= "9":
        i += 1
    return i
