"""Record, from sagemaker-training 5.1.4 itself, the facts tests/test_hyperparameters.py and tests/test_program.py
check sm-train's pure stages against: the internal hyperparameter names, the entry-point pattern, and the
toolkit's verdict on a sample of entry-point names (validate_entry_point, which adds the '.'/'..' segment rule to
the pattern).

    python3 -m venv /tmp/tk && /tmp/tk/bin/pip install sagemaker-training==5.1.4
    /tmp/tk/bin/python tests/recorders/record_toolkit_golden.py

Writes tests/golden_toolkit/toolkit.json. Never imported by the tests.
"""

import json
import os
import random
from importlib.metadata import version

from sagemaker_training import errors, params, process

GOLDEN = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "golden_toolkit", "toolkit.json")
ALPHABET = "aZ9._+-/ \n\té$"


def names():
    rng = random.Random(7)
    sample = ["", ".", "..", "./t.py", "a/./b", "a/../b.py", "-c", "/abs.py", "train.py", "bin/run.sh", "a//b"]
    return sample + ["".join(rng.choice(ALPHABET) for _ in range(rng.randint(0, 6))) for _ in range(3000)]


def accepted(name):
    try:
        process.validate_entry_point(name)
        return True
    except errors.ClientError:
        return False


def main():
    doc = {"toolkit": "sagemaker-training " + version("sagemaker-training"),
           "internal_names": list(params.SAGEMAKER_HYPERPARAMETERS),
           "entry_point_pattern": process._SAFE_ENTRY_POINT.pattern,
           "entry_points": [[name, accepted(name)] for name in names()]}  # last: written one entry a line
    head = json.dumps(doc, indent=1, ensure_ascii=False).split('\n "entry_points"')[0]
    entries = ",\n".join("  " + json.dumps(entry, ensure_ascii=False) for entry in doc["entry_points"])
    with open(GOLDEN, "w", encoding="utf-8") as f:
        f.write(head + '\n "entry_points": [\n' + entries + "\n ]\n}\n")  # one name a line


if __name__ == "__main__":
    main()
