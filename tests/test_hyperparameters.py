"""launcher.core.hyperparameters, the pure stage: the program's arguments as the toolkit's own unit tests
expect them, the split into the user's and the nine internal names the toolkit knows (recorded from it), and a
value nested too deep as one error naming it."""

import json
import os

import pytest

from launcher.core import hyperparameters
from launcher.errors import JobError

with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "golden_toolkit", "toolkit.json"),
          encoding="utf-8") as f:
    TOOLKIT = json.load(f)  # recorded from sagemaker-training 5.1.4 by tests/recorders/record_toolkit_golden.py


def deep_list(depth):
    return "[" * depth + "]" * depth


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


def test_a_deep_hyperparameter_is_one_error_naming_it():
    with pytest.raises(JobError, match='hyperparameter "lr": JSON nested more than 987 levels deep'):
        hyperparameters.decode({"ok": "1", "lr": deep_list(5000)})
