"""Broken trees, variables and command lines: the documented status, one ERROR line naming the cause, no
traceback, the failure file written in a real run and never in a dry run, a user's failure file kept, and
nothing else in the tree changed."""

import hashlib
import json
import os

import pytest
from conftest import clean_env, error_lines, make_tree, run_pyz

PROGRAM = {"sagemaker_program": '"train.py"'}
TRAIN = {"train.py": "print('ran')\n"}
RC = {"current_host": "algo-1", "hosts": ["algo-1"]}


def tree(hps=None, idc=None, rc=None, code=None):
    def build(root):
        make_tree(root, PROGRAM if hps is None else hps, {} if idc is None else idc, RC if rc is None else rc,
                  TRAIN if code is None else code)
        os.makedirs(os.path.join(root, "output"))  # as SageMaker provides it, so the failure file has a home
    return build


def replace_config(name, how):
    def build(root):
        tree()(root)
        path = os.path.join(root, "input", "config", name)
        os.remove(path)
        how(path)
    return build


def drop_code_dir(root):
    tree()(root)
    os.remove(os.path.join(root, "code", "train.py"))
    os.rmdir(os.path.join(root, "code"))


def escaping_symlink(root):
    tree(code={})(root)
    outside = os.path.join(root, "outside.py")
    with open(outside, "w") as f:
        f.write("print('escaped')\n")
    os.symlink(outside, os.path.join(root, "code", "train.py"))


def symlink_chain(root):
    tree(code={"real.py": "print('ran')\n"})(root)
    code = os.path.join(root, "code")
    for i in range(1100):  # the kernel follows 40; Python's realpath recursed once per link
        os.symlink("real.py" if i == 0 else "l%d" % (i - 1), os.path.join(code, "l%d" % i))
    os.symlink("l1099", os.path.join(code, "train.py"))


def data_file(root):
    tree(code={"train.py": "print()\n", "data.txt": "not a program\n"})(root)


def ten_megabytes(path):
    with open(path, "w") as f:
        f.write('{"sagemaker_program": "\\"train.py\\"", "pad": "%s"}' % ("x" * 10 * 1024 * 1024))


# (id, tree builder, extra args, extra env, status, words the error line must contain)
CASES = [
    ("truncated_json", tree(hps='{"sagemaker_program": "\\"train.py\\""'), [], {}, 1,
     ["hyperparameters.json", "malformed JSON", "line 1"]),
    ("hps_not_object", tree(hps="[1, 2]"), [], {}, 1, ["hyperparameters.json", "JSON object", "a list"]),
    ("idc_not_object", tree(idc='"training"'), [], {}, 1, ["inputdataconfig.json", "JSON object"]),
    ("hosts_not_list", tree(rc={"current_host": "algo-1", "hosts": "algo-1"}), [], {}, 1,
     ["resourceconfig.json", "'hosts'"]),
    ("hosts_not_strings", tree(rc={"current_host": "algo-1", "hosts": ["algo-1", 2]}), [], {}, 1,
     ["resourceconfig.json", "'hosts'"]),
    ("current_host_not_in_hosts", tree(rc={"current_host": "algo-9", "hosts": ["algo-1"]}), [], {}, 1,
     ["resourceconfig.json", "algo-9", "not among hosts"]),
    ("empty_host_name", tree(rc={"current_host": "algo-1", "hosts": ["algo-1", ""]}), [], {}, 1,
     ["resourceconfig.json", "host name \"\""]),
    ("host_name_with_space", tree(rc={"current_host": "algo 1", "hosts": ["algo 1"]}), [], {}, 1,
     ["resourceconfig.json", "algo 1"]),
    ("current_host_missing", tree(rc={"hosts": ["algo-1"]}), [], {}, 1, ["resourceconfig.json", "current_host"]),
    ("instance_groups_not_list", tree(rc=dict(RC, instance_groups={"a": 1})), [], {}, 1,
     ["resourceconfig.json", "instance_groups"]),
    ("group_without_name", tree(rc=dict(RC, instance_groups=[{"hosts": ["algo-1"]}])), [], {}, 1,
     ["instance_groups[0]", "instance_group_name"]),
    ("non_utf8", replace_config("hyperparameters.json", lambda p: open(p, "wb").write(b'{"a": "\xff\xfe"}')),
     [], {}, 1, ["hyperparameters.json", "UTF-8"]),
    ("directory_for_file", replace_config("resourceconfig.json", os.mkdir), [], {}, 1,
     ["resourceconfig.json", "directory"]),
    ("unreadable_symlink_loop", replace_config("inputdataconfig.json", lambda p: os.symlink(p, p)), [], {}, 1,
     ["inputdataconfig.json", "cannot be read"]),
    ("fifo_for_file", replace_config("hyperparameters.json", os.mkfifo), [], {}, 1,
     ["hyperparameters.json", "not a regular file"]),
    ("broken_symlink", replace_config("inputdataconfig.json", lambda p: os.symlink(p + ".gone", p)), [], {}, 1,
     ["inputdataconfig.json", "broken symbolic link"]),
    ("nul_in_value", tree(hps=dict(PROGRAM, x='"a\\u0000b"')), [], {}, 1, ["SM_HP_X", "NUL"]),
    ("lone_surrogate", tree(hps=dict(PROGRAM, x='"\\ud800"')), [], {}, 1, ["SM_HP_X", "encoded"]),
    ("equals_in_name", tree(hps=dict(PROGRAM, **{"a=b": "1"})), [], {}, 1, ["SM_HP_A=B", "'='"]),
    ("ten_megabyte_file", replace_config("hyperparameters.json", ten_megabytes), [], {}, 1,
     ["hyperparameters.json", "limit"]),
    ("value_too_long_for_exec", tree(hps=dict(PROGRAM, big='"%s"' % ("v" * 200000))), [], {}, 1,
     ["SM_HPS", "131072 bytes"]),
    ("deep_json", tree(hps='{"a": %s1%s}' % ("[" * 100000, "]" * 100000)), [], {}, 1, ["hyperparameters.json"]),
    # a value nested too deep: the toolkit dies of a RecursionError (or, for a list as the program, an AttributeError)
    ("deep_value_5000", tree(hps=dict(PROGRAM, d="[" * 5000 + "]" * 5000)), [], {}, 1,
     ['hyperparameter "d"', "more than 987 levels"]),
    ("deep_dict_5000", tree(hps=dict(PROGRAM, d='{"a":' * 4999 + "{}" + "}" * 4999)), [], {}, 1,
     ['hyperparameter "d"', "more than 987 levels"]),
    ("deep_value_988", tree(hps=dict(PROGRAM, d="[" * 988 + "]" * 988)), [], {}, 1,
     ['hyperparameter "d"', "more than 987 levels"]),
    ("deep_value_1500", tree(hps=dict(PROGRAM, d="[" * 1500 + "]" * 1500)), [], {}, 1,
     ['hyperparameter "d"', "more than 987 levels"]),
    ("deep_unclosed_5000", tree(hps=dict(PROGRAM, d="[" * 5000)), [], {}, 1, ['hyperparameter "d"', "987"]),
    ("deep_job_name_5000", tree(hps=dict(PROGRAM, sagemaker_job_name="[" * 5000 + "]" * 5000)), [], {}, 1,
     ['hyperparameter "sagemaker_job_name"', "987"]),
    ("deep_program_5000", tree(hps={"sagemaker_program": "[" * 5000 + "]" * 5000}), [], {}, 1,
     ['hyperparameter "sagemaker_program"', "987"]),
    ("deep_program_900", tree(hps={"sagemaker_program": "[" * 900 + "]" * 900}), [], {}, 1,
     ["entry point must be a name", "[[[", "..."]),
    ("deep_file_988", tree(idc='{"training": %s}' % ("[" * 987 + "]" * 987)), [], {}, 1,
     ["inputdataconfig.json", "more than 987 levels"]),
    ("deep_raw_value_5000", tree(hps='{"sagemaker_program": "\\"train.py\\"", "d": %s}' % ("[" * 5000 + "]" * 5000)),
     [], {}, 1, ["hyperparameters.json", "987"]),
    ("program_not_string", tree(hps={"sagemaker_program": "3"}), [], {}, 1, ["entry point", "3"]),
    ("no_program", tree(hps={"lr": "0.1"}), [], {}, 1, ["entry point name is empty"]),
    ("bad_program_name", tree(hps={"sagemaker_program": '"../t.py"'}), [], {}, 1, ["'../t.py'", "'..'"]),
    ("dist_groups_not_list", tree(hps=dict(PROGRAM, sagemaker_distribution_instance_groups='"gpu"')), [], {}, 1,
     ["sagemaker_distribution_instance_groups"]),
    ("no_code_dir", drop_code_dir, [], {}, 1, ["code directory", "does not exist"]),
    ("program_not_found", tree(code={"other.py": "\n"}), [], {}, 127, ["train.py", "not found"]),
    ("program_is_directory", tree(code={"train.py/x": "\n"}), [], {}, 126, ["train.py", "directory"]),
    ("escape_through_symlink", escaping_symlink, [], {}, 1, ["outside your source directory"]),
    ("program_symlink_chain", symlink_chain, [], {}, 126, ["'train.py'", "too many levels of symbolic links"]),
    ("command_not_found", tree(), ["--", "no-such-command-xyz"], {}, 127, ["no-such-command-xyz", "not found"]),
    ("command_not_executable", data_file, ["--", "./data.txt"], {}, 126, ["data.txt", "not executable"]),
    ("unknown_option", tree(), ["--frobnicate"], {}, 2, ["--frobnicate"]),
    ("mistyped_option", tree(), ["--print-evn"], {}, 2, ["'--print-evn'", "did you mean --print-env?"]),
    ("zero_probe_timeout", tree(), ["--probe-timeout", "0"], {}, 2, ["--probe-timeout must", "more than 0", "'0'"]),
    ("negative_grace_period", tree(), ["--grace-period", "-5"], {}, 2, ["--grace-period must", "0 or more", "'-5'"]),
    ("zero_probe_timeout_variable", tree(), [], {"SM_TRAIN_PROBE_TIMEOUT": "0"}, 2, ["SM_TRAIN_PROBE_TIMEOUT must"]),
    ("bad_format", tree(), ["--format", "yaml"], {}, 2, ["yaml"]),
    ("bad_probe_timeout", tree(), [], {"SM_TRAIN_PROBE_TIMEOUT": "soon"}, 2, ["soon"]),
    ("infinite_probe_timeout", tree(), ["--probe-timeout", "inf"], {}, 2, ["--probe-timeout", "'inf'"]),
    ("huge_grace_period", tree(), ["--supervise", "--grace-period=1e300"], {}, 2, ["--grace-period", "'1e300'"]),
    ("bad_supervise_switch", tree(), [], {"SM_TRAIN_SUPERVISE": "maybe"}, 2, ["SM_TRAIN_SUPERVISE", "maybe"]),
    ("bad_hp_style", tree(), ["--hp-style", "yaml"], {}, 2, ["yaml"]),
    ("option_without_value", tree(), ["--probe-timeout"], {}, 2, ["--probe-timeout", "needs a value"]),
    ("empty_command", tree(), ["--"], {}, 2, ["'--'"]),
]


def snapshot(root):
    """Every path under root with its type and content hash, except the failure file."""
    seen = {}
    for folder, dirs, files in os.walk(root):
        for name in dirs + files:
            path = os.path.join(folder, name)
            rel = os.path.relpath(path, root)
            if rel == os.path.join("output", "failure"):
                continue
            if os.path.islink(path):
                seen[rel] = "link:" + os.readlink(path)
            elif os.path.isfile(path):
                with open(path, "rb") as f:
                    seen[rel] = hashlib.sha256(f.read()).hexdigest() + oct(os.stat(path).st_mode)
            else:
                seen[rel] = "dir"
    return seen


@pytest.mark.parametrize("build,args,extra,status,words", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_input(pyz, tmp_path, build, args, extra, status, words):
    root = str(tmp_path / "ml")
    build(root)
    env = clean_env(**extra)
    before = snapshot(root)
    failure = os.path.join(root, "output", "failure")

    # A dry run: same status and error, reported in the JSON, and nothing written.
    dry = run_pyz(pyz, "--root", root, "--print-env", "--format", "json", *args, env=env)
    assert dry.returncode == status
    out = dry.stdout.decode()
    assert json.loads(out)["error"] if out.startswith("{") else out.startswith("# error: ")
    assert not os.path.exists(failure)

    # A real run: one ERROR line naming the cause, no traceback, the failure file holds the cause.
    real = run_pyz(pyz, "--root", root, *args, env=env)
    stderr = real.stderr.decode()
    assert real.returncode == status, stderr
    assert "Traceback" not in stderr
    lines = error_lines(stderr)
    assert len(lines) == 1, stderr
    for word in words:
        assert word in lines[0]
    with open(failure, encoding="utf-8") as f:
        text = f.read()
    assert 0 < len(text) <= 1024
    assert lines[0].endswith(text[:200]) or text in lines[0]
    assert snapshot(root) == before

    # The program's (or the user's) own failure file is never overwritten.
    with open(failure, "w") as f:
        f.write("USER REASON")
    again = run_pyz(pyz, "--root", root, *args, env=env)
    assert again.returncode == status
    with open(failure) as f:
        assert f.read() == "USER REASON"


def test_empty_option_value_is_a_usage_error(pyz, tmp_path):
    result = run_pyz(pyz, "--root=", "--print-env", env=clean_env())
    assert result.returncode == 2
    lines = error_lines(result.stderr.decode())
    assert len(lines) == 1 and "--root" in lines[0] and "empty" in lines[0]


def test_at_least_twenty_cases_each_a_failure_of_its_own(pyz, tmp_path):
    """The cases are twenty or more different failures, not a few repeated: their errors differ."""
    errors = {}
    for i, (name, build, args, extra, _, _) in enumerate(CASES):
        root = str(tmp_path / str(i))
        build(root)
        result = run_pyz(pyz, "--root", root, "--print-env", "--format", "json", *args, env=clean_env(**extra))
        lines = error_lines(result.stderr.decode())
        assert len(lines) == 1, name
        errors.setdefault(lines[0].split(" ERROR ", 1)[1].strip(), []).append(name)
    assert len(errors) >= 20, errors


def test_failure_file_holds_the_first_1024_characters_of_a_longer_error(pyz, tmp_path):
    """SageMaker shows 1024 characters of the failure file; a longer error is cut there, not anywhere else."""
    root = str(tmp_path / "ml")
    tree(hps={"sagemaker_program": json.dumps("bad name %s.py" % ("x" * 3000))})(root)
    result = run_pyz(pyz, "--root", root)
    assert result.returncode == 1
    message = error_lines(result.stderr.decode())[0].split(" ERROR ", 1)[1].strip()
    assert len(message) > 3000
    with open(os.path.join(root, "output", "failure"), encoding="utf-8") as f:
        assert f.read() == message[:1024]


def test_hung_gpu_probe_costs_a_warning_not_the_job(pyz, tmp_path):
    root = make_tree(tmp_path / "ml", PROGRAM, {}, RC, TRAIN)
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    fake = bin_dir / "nvidia-smi"
    fake.write_text("#!/bin/sh\necho 'GPU 0: hung'\nsleep 300\n")
    fake.chmod(0o755)
    env = clean_env(PATH="%s:%s" % (bin_dir, os.environ["PATH"]), SM_TRAIN_PROBE_TIMEOUT="1")
    result = run_pyz(pyz, "--root", root, "--print-env", "--format", "json", env=env, timeout=30)
    assert result.returncode == 0
    assert json.loads(result.stdout.decode())["env"]["SM_NUM_GPUS"] == "0"
    assert "nvidia-smi did not answer within 1 s" in result.stderr.decode()
