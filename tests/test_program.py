"""launcher.core.program's check of entry-point names against the toolkit's, recorded from it: the same pattern
on 50,000 random names, the same verdict on every recorded name ('.' and '..' segments included), and the
message that says why."""

import json
import os
import random
import re

import pytest

from launcher.core import program
from launcher.errors import JobError

with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "golden_toolkit", "toolkit.json"),
          encoding="utf-8") as f:
    TOOLKIT = json.load(f)  # recorded from sagemaker-training 5.1.4 by tests/recorders/record_toolkit_golden.py


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
