"""Golden parity: for every case recorded from sagemaker-training 5.1.4 (tests/recorders/record_golden.py), the
pyz's --print-env gives the same variables, argv, cwd and install steps, or the same error.

Machine-dependent values are normalised here and only here:
- the base dir becomes <base>, the interpreter path <python>;
- the recording machine's CPU count (the golden file's "cpus"), in SM_NUM_CPUS and in SM_TRAINING_ENV's
  num_cpus, becomes this machine's os.cpu_count(): sm-train must report the CPUs it runs on, never a constant;
- PYTHONPATH is a deliberate difference (README, difference 2): the toolkit exports its own sys.path after the code
  dir; sm-train exports the code dir followed by the PYTHONPATH it was given;
- PYTHONUNBUFFERED=1 is a deliberate addition for Python programs only (README, "PID 1 and signals"): it must
  be there when the toolkit ran <python>, and must not be there for a shell or command entry point.

The toolkit errors that are tracebacks ("Framework Error": an illegal variable name, a bad AWS profile or config
file, a value nested past the toolkit's limit) are compared through FRAMEWORK_ERRORS: the traceback's last line, the
toolkit's reason, maps to the one line sm-train says instead.
"""

import glob
import json
import os
import sys

import pytest
from conftest import clean_env, run_pyz
from record_golden import case_environ, materialize

from launcher import jsonc

CASES = sorted(glob.glob(os.path.join(os.path.dirname(os.path.abspath(__file__)), "golden", "*.json")))


def load(path):
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def normalise(env, base, python):
    return {name: value.replace(base, "<base>").replace(python, "<python>") for name, value in env.items()}


def cpus_of_this_machine(env, recorded):
    """The toolkit's env with the recording machine's CPU count replaced by the count of the machine running this."""
    here = os.cpu_count()
    assert env["SM_NUM_CPUS"] == str(recorded)
    assert env["SM_TRAINING_ENV"].count('"num_cpus":%d,' % recorded) == 1
    return dict(env, SM_NUM_CPUS=str(here),
                SM_TRAINING_ENV=env["SM_TRAINING_ENV"].replace('"num_cpus":%d,' % recorded, '"num_cpus":%d,' % here))


def bad_variable_name(spec):
    names = [name for name in json.loads(spec["hyperparameters"]) if "=" in name]
    return ("variable name 'SM_HP_%s' cannot be set in an environment (it is empty or holds '=' or NUL)"
            % names[0].upper())


def missing_profile(spec):
    """boto3.Session() raised ProfileNotFound: sm-train names the profile, where it came from and both files."""
    var = "AWS_DEFAULT_PROFILE" if "AWS_DEFAULT_PROFILE" in spec["env"] else "AWS_PROFILE"
    name = spec["env"][var]
    text = ("AWS profile '%s' (from %s) is not in <root>/.aws/config or <root>/.aws/credentials, so boto3 cannot "
            "start" % (name, var))
    if "[%s]" % name in spec.get("files", {}).get(".aws/config", ""):
        text += "; the config file's section [%s] is not a profile, botocore reads [profile %s]" % (name, name)
    return text


def unparsable_config(spec):
    """boto3.Session() raised ConfigParseError: sm-train names the file and what botocore could not read (the
    line's number, never its text); a prefix, since the reason is sm-train's own words."""
    return "<root>/.aws/config: ", "botocore cannot parse it"


# The toolkit's limit for a hyperparameter's nesting on CPython 3.11, recorded by deep_list_987 / deep_list_988 and
# deep_dict_987 / deep_dict_988: sm-train accepts what it runs and refuses the rest in one line.
TOOLKIT_DEPTH = 987


def too_deep(spec):
    """json.dumps of SM_TRAINING_ENV ran out of recursion: sm-train names the hyperparameter nested past the limit."""
    values = json.loads(spec["hyperparameters"])
    name = max(values, key=lambda key: max(values[key].count("["), values[key].count("{")))
    return 'hyperparameter "%s": JSON nested more than %d levels deep' % (name, TOOLKIT_DEPTH)


# the start of the last line of the toolkit's traceback -> what sm-train says instead, from the case's input:
# the exact line, or (its start, words it holds)
FRAMEWORK_ERRORS = (("illegal environment variable name", bad_variable_name),
                    ("The config profile (", missing_profile),
                    ("Unable to parse config file: <root>/.aws/config", unparsable_config),
                    ("maximum recursion depth exceeded", too_deep))


def framework_error(reason, spec):
    for start, says in FRAMEWORK_ERRORS:
        if reason.startswith(start):
            return says(spec)
    raise AssertionError("no sm-train message known for the toolkit's " + repr(reason))


def case_env(spec, tmp_path):
    base = str(tmp_path / "opt" / "ml")
    bin_dir = str(tmp_path / "bin")
    materialize(spec, base, bin_dir)
    env = clean_env(PATH=bin_dir + ":/usr/bin:/bin", HOME=str(tmp_path), LANG="C.UTF-8", SAGEMAKER_BASE_DIR=base)
    env.update(case_environ(spec, str(tmp_path), base))  # as record_golden.record does
    return base, env


def root_args(spec, base):
    """--root base, but for a case about $SAGEMAKER_BASE_DIR itself, which --root would override."""
    return [] if "SAGEMAKER_BASE_DIR" in spec["env"] else ["--root", base]


@pytest.mark.parametrize("path", CASES, ids=[os.path.basename(p)[:-5] for p in CASES])
def test_matches_toolkit(pyz, tmp_path, path):
    golden = load(path)
    expected = golden["expected"]
    base, env = case_env(golden["input"], tmp_path)
    root = root_args(golden["input"], base)
    result = run_pyz(pyz, *(root + ["--print-env", "--format", "json"]), env=env)
    status, doc, stderr = result.returncode, json.loads(result.stdout.decode()), result.stderr.decode()
    assert "Traceback" not in stderr

    if expected["status"] != 0:
        assert status == expected["status"]
        if expected["failure"].startswith("Framework Error"):
            says = framework_error(expected["failure"].rstrip().splitlines()[-1], golden["input"])
            error = doc["error"].replace(str(tmp_path), "<root>")
            if isinstance(says, tuple):
                assert error.startswith(says[0]) and says[1] in error, error
            else:
                assert error == says
        else:
            assert doc["error"] == expected["failure"]  # 5.1.4's own messages for entry-point names
        return

    assert status == 0, doc["error"]
    ours = normalise(doc["env"], base, sys.executable)
    assert "cpus" in golden, ("recorded without the machine's CPU count: record it again "
                              "(tests/recorders/record_golden.py)")
    theirs = cpus_of_this_machine(normalise(expected["env"], "<base>", "<python>"), golden["cpus"])
    code_dir = os.path.join(base, "code")
    code = os.path.join(env["SAGEMAKER_BASE_DIR"], "code").replace(base, "<base>")  # "<base>/code" but basedir_
    assert ours.pop("PYTHONPATH") == code + (":" + env["PYTHONPATH"] if "PYTHONPATH" in env else "")
    assert theirs.pop("PYTHONPATH").startswith(code + ":")
    if expected["argv"][0] == "<python>":
        assert ours.pop("PYTHONUNBUFFERED") == "1"
    assert sorted(ours) == sorted(theirs)
    for name in theirs:
        assert ours[name] == theirs[name], name
    assert [a.replace(sys.executable, "<python>") for a in doc["argv"]] == expected["argv"]
    assert doc["cwd"].replace(base, "<base>") == expected["cwd"]
    if root:  # the tree as given to --root; a basedir_ case's cwd is the variable's spelling, checked above
        assert doc["cwd"] == code_dir

    shell = run_pyz(pyz, *(root + ["--print-env"]), env=env).stdout.decode()
    before = [json.loads(line[len("# before: "):]) for line in shell.splitlines() if line.startswith("# before: [")]
    assert [[a.replace(sys.executable, "<python>") for a in step] for step in before] == expected["install"]


def test_the_common_job_shapes_are_recorded():
    names = {os.path.basename(p)[:-5] for p in CASES}
    assert len(names) >= 15
    for required in ("minimal", "sdk_values", "odd_names", "value_types", "not_json", "internal_names",
                     "odd_channels", "three_hosts", "hetero_outside", "gpus4", "shell_entry", "subfolder_py",
                     "setup_py_package", "error_no_program", "error_equals_in_name", "error_dotdot"):
        assert required in names


def test_the_cases_where_the_toolkit_crashes_or_differs_are_recorded():
    names = {os.path.basename(p)[:-5] for p in CASES}
    for required in ("deep_list_900", "deep_list_950", "deep_list_987", "deep_list_988", "deep_dict_900",
                     "deep_dict_987", "deep_dict_988", "deep_resourceconfig_900", "newline_setup_py",
                     "basedir_trailing_slash", "basedir_dot", "basedir_double_slash", "basedir_dotdot",
                     "nonstring_region_null", "nonstring_log_level_true"):
        assert required in names


@pytest.mark.parametrize("kind", ["list", "dict"])
def test_the_toolkit_limit_is_recorded_either_side_and_is_sm_trains(kind):
    folder = os.path.dirname(CASES[0])
    runs = load(os.path.join(folder, "deep_%s_%d.json" % (kind, TOOLKIT_DEPTH)))["expected"]
    dies = load(os.path.join(folder, "deep_%s_%d.json" % (kind, TOOLKIT_DEPTH + 1)))["expected"]
    assert runs["status"] == 0
    assert dies["status"] == 1 and dies["failure"].startswith("Framework Error")
    assert dies["failure"].rstrip().endswith("maximum recursion depth exceeded while encoding a JSON object")
    assert jsonc.MAX_DEPTH == TOOLKIT_DEPTH
