"""Hide the values of secret-looking hyperparameters in what sm-train logs."""

MASK = "********"
_SECRET_WORDS = {"password", "passwd", "secret", "token", "credential", "credentials", "apikey", "accesskey"}
_SEPARATORS = dict.fromkeys(i for i in range(128) if not chr(i).isalnum())  # str.translate drops these


def words(name):
    """``wandbApiKey`` -> wandb, api, key; ``AWS_SECRET_ACCESS_KEY`` -> aws, secret, access, key."""
    found, word = [], ""
    for i, c in enumerate(name):
        if not c.isalnum():
            found.append(word)
            word = ""
            continue
        follows_lower = word and (word[-1].islower() or word[-1].isdigit())
        ends_acronym = word and word[-1].isupper() and i + 1 < len(name) and name[i + 1].islower()
        if c.isupper() and (follows_lower or ends_acronym):
            found.append(word)
            word = ""
        word += c
    found.append(word)
    return [w.lower() for w in found if w]


def is_secret(name):
    """Whole words only, so ``hf_token`` and ``apiKey`` are secret but ``max_tokens`` is not."""
    if name.isascii():  # nearly always: one C call drops the separators
        squeezed = name.lower().translate(_SEPARATORS)
    else:
        squeezed = "".join(c for c in name.lower() if c.isalnum())
    if not any(word in squeezed for word in _SECRET_WORDS):  # the quick no: a word, or two joined, is in it
        return False
    parts = words(name)
    pairs = {a + b for a, b in zip(parts, parts[1:])}
    return bool(_SECRET_WORDS.intersection(parts) or _SECRET_WORDS.intersection(pairs))


def mask(decoded):
    """A copy with every secret value replaced, or None when nothing needs hiding."""
    secret = [key for key in decoded if is_secret(key)]
    if not secret:
        return None
    masked = dict(decoded)
    for key in secret:
        masked[key] = MASK
    return masked


def scrub(text, *secrets):
    """``text`` with each secret (a key, a token) that is long enough to be a real one replaced by the mask; a
    short test value such as "x" would mangle the text instead."""
    for secret in secrets:
        if secret and len(secret) >= 8:
            text = text.replace(secret, MASK)
    return text
