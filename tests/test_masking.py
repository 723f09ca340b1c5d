"""launcher.masking: which hyperparameter names hold secrets, and their values masked in a copy."""

import pytest

from launcher import masking


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
