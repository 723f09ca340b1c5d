"""Hide the values of secret-looking hyperparameters in what sm-train logs."""

import re

MASK = "********"
_WORD = re.compile(r"[A-Z]?[a-z0-9]+|[A-Z]+(?![a-z])")
_SECRET_WORDS = {"password", "passwd", "secret", "token", "credential", "credentials", "apikey", "accesskey"}


def is_secret(name):
    """Whole words only, so ``hf_token`` and ``apiKey`` are secret but ``max_tokens`` is not."""
    words = [w.lower() for w in _WORD.findall(name)]
    pairs = {a + b for a, b in zip(words, words[1:])}
    return bool(_SECRET_WORDS.intersection(words) or _SECRET_WORDS.intersection(pairs))


def mask(decoded):
    """A copy with every secret value replaced, or None when nothing needs hiding."""
    secret = [key for key in decoded if is_secret(key)]
    if not secret:
        return None
    masked = dict(decoded)
    for key in secret:
        masked[key] = MASK
    return masked
