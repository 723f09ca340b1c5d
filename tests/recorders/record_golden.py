"""Record what the official toolkit, sagemaker-training 5.1.4, does for each case of CASES.

Usage: python3 tests/recorders/record_golden.py /path/to/venv-with-sagemaker-training-5.1.4/bin/python [NAME_PREFIX...]
(with prefixes, only the cases whose names start with one of them are recorded again)

Each case is an /opt/ml tree (config files as raw text, code files, variables, a GPU count served by a
fake nvidia-smi). The toolkit's `train` runs against it with subprocess.Popen patched: every command it
would start in the code dir (pip, the program) is recorded (argv, environment, cwd) and replaced by
`true`. What it sets or changes in the environment, its argv, its exit status and its failure file go
to tests/golden/<case>.json. The toolkit is only ever used here, never by the tests.
"""

import json
import os
import shutil
import subprocess
import sys
import tempfile

GOLDEN = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "golden")

RC1 = {"current_host": "algo-1", "current_instance_type": "ml.m5.xlarge", "current_group_name": "homogeneousCluster",
       "hosts": ["algo-1"], "instance_groups": [{"instance_group_name": "homogeneousCluster",
                                                 "instance_type": "ml.m5.xlarge", "hosts": ["algo-1"]}],
       "network_interface_name": "eth0"}
CHANNEL = {"TrainingInputMode": "File", "S3DistributionType": "FullyReplicated", "RecordWrapperType": "None"}
PY = "import sys\nprint(sys.argv)\n"
SH = "#!/bin/sh\necho \"$@\"\n"


def hps(**values):
    return {k: json.dumps(v) for k, v in values.items()}


def case(name, hyperparameters, inputdataconfig=None, resourceconfig=None, code=None, env=None, gpus=0, files=None):
    """``files``: more files (path relative to the case's root, which is also HOME) -> text; "<root>" in a
    value of ``env`` stands for that root."""
    def text(value):
        return value if isinstance(value, str) else json.dumps(value)

    spec = {
        "hyperparameters": text(hyperparameters),
        "inputdataconfig": text({} if inputdataconfig is None else inputdataconfig),
        "resourceconfig": text(RC1 if resourceconfig is None else resourceconfig),
        "code": {"train.py": PY} if code is None else code,
        "env": env or {},
        "gpus": gpus,
    }
    if files:
        spec["files"] = files
    return name, spec


def case_environ(spec, root, base):
    """A case's variables, "<root>" standing for its scratch root and "<base>" for its /opt/ml tree."""
    return {k: v.replace("<root>", root).replace("<base>", base) for k, v in spec["env"].items()}


def hosts_rc(current, hosts, itype="ml.p3.2xlarge"):
    return {"current_host": current, "current_instance_type": itype, "current_group_name": "homogeneousCluster",
            "hosts": hosts, "instance_groups": [{"instance_group_name": "homogeneousCluster", "instance_type": itype,
                                                 "hosts": hosts}], "network_interface_name": "eth0"}


CASES = [
    case("minimal", hps(sagemaker_program="train.py")),
    case("no_instance_groups", hps(sagemaker_program="train.py"), resourceconfig={"current_host": "algo-1",
                                                                                  "hosts": ["algo-1"]}),
    case("typical", dict(hps(sagemaker_program="train.py", sagemaker_submit_directory="s3://bucket/job/source/"
                             "sourcedir.tar.gz", sagemaker_region="us-west-2", sagemaker_job_name="job-1",
                             sagemaker_container_log_level=20), lr="0.1", epochs="10", **{"batch-size": "64"}),
         inputdataconfig={"training": dict(CHANNEL, ContentType="text/csv"), "validation": CHANNEL}),
    case("sdk_values", hps(sagemaker_program="train.py", s="abc", n=3, f=0.5, t=True, fl=False, none=None,
                           lst=[1, 2, "a"], d={"b": 1, "a": [True, None, "x y"]}, quoted="3", e="", u="é",
                           lu=["é"])),
    case("odd_names", {"sagemaker_program": "\"train.py\"", "learning-rate": "0.1", "Flag": "\"True\"", "e": "5",
                       "with space": "\"a b\"", "größe": "1", "straße": "2", "lr": "0.1", "LR": "0.2", "": "42",
                       "x.y": "1", "_under": "1", "ÿ": "\"y\""}),
    case("value_types", {"sagemaker_program": "\"train.py\"", "null": "null", "true": "true", "nan": "NaN",
                         "inf": "1e400", "ninf": "-Infinity", "e3": "1e3", "E3": "1E3", "f150": "1.50", "neg0": "-0",
                         "precise": "1.0000000000000001", "spaced": " 7 ", "zero1": "01", "plus1": "+1",
                         "hex": "0x10", "huge": "12345678901234567890", "empty": "", "emptyq": "\"\"",
                         "nested": "[\"1\",[\"2\",\"3\",[[\"6\"]]]]", "emptyd": "{}", "emptyl": "[]",
                         "dict": "{\"b\":1,\"a\":[true,null,\"x y\"]}", "big": "1e16", "small": "1e-7"}),
    case("not_json", '{"sagemaker_program": "\\"train.py\\"", "word": "not json", "q": "abc\\"", "cap": "True",'
                     ' "num": 3, "flt": 2.5, "lst": [1, "a"], "obj": {"k": "v"}, "bool": true, "nul": null}'),
    case("internal_names", dict(hps(sagemaker_program="train.py", sagemaker_submit_directory="/srv/src",
                                    sagemaker_enable_cloudwatch_metrics=False, sagemaker_region="eu-west-1",
                                    sagemaker_container_log_level=20, sagemaker_job_name="j",
                                    default_user_module_name="m", _tuning_objective_metric="loss",
                                    sagemaker_mpi_enabled=False, sagemaker_custom_thing="x",
                                    sagemaker_instance_type="ml.c5.xlarge", SageMaker_Upper="kept",
                                    sagemaker_network_interface_name="eth1",
                                    sagemaker_s3_output="s3://bucket/intermediate"), lr="0.1")),
    case("odd_channels", hps(sagemaker_program="train.py"),
         inputdataconfig={"training": CHANNEL, "Eval-1": CHANNEL, "train.data": CHANNEL, "UPPER_case": CHANNEL,
                          "x": CHANNEL, "ß": CHANNEL}),
    case("three_hosts", hps(sagemaker_program="train.py", epochs=2),
         resourceconfig=hosts_rc("algo-2", ["algo-1", "algo-2", "algo-3"])),
    case("hetero_outside", hps(sagemaker_program="train.py", sagemaker_mpi_enabled=True,
                               sagemaker_distribution_instance_groups=["gpu_group"]),
         resourceconfig={"current_host": "algo-3", "current_instance_type": "ml.c5.xlarge",
                         "current_group_name": "cpu_group", "hosts": ["algo-1", "algo-2", "algo-3"],
                         "instance_groups": [{"instance_group_name": "gpu_group", "instance_type": "ml.p3.2xlarge",
                                              "hosts": ["algo-2", "algo-1"]},
                                             {"instance_group_name": "cpu_group", "instance_type": "ml.c5.xlarge",
                                              "hosts": ["algo-3"]}], "network_interface_name": "eth0"}),
    case("gpus4", hps(sagemaker_program="train.py"), resourceconfig=hosts_rc("algo-1", ["algo-1"], "ml.g5.12xlarge"),
         gpus=4),
    case("topology", hps(sagemaker_program="train.py"),
         resourceconfig=dict(RC1, topology=[{"hostName": "algo-1", "capacityUnitId": "cu-1"}])),
    case("env_program_wins", hps(sagemaker_program="other.py", lr=0.1),
         code={"train.py": PY, "other.py": PY}, env={"SAGEMAKER_PROGRAM": "train.py"}),
    case("environment_inputs", hps(sagemaker_program="train.py"),
         env={"TRAINING_JOB_NAME": "my-job", "AWS_DEFAULT_REGION": "ap-south-1", "SM_HP_MP_PARAMETERS": "{\"a\":1}",
              "PYTHONPATH": "/opt/extra"}),
    case("log_level_debug", hps(sagemaker_program="train.py", sagemaker_container_log_level=10, lr="x")),
    case("shell_entry", hps(sagemaker_program="train.sh", b="x y", c="it's", d="$HOME", e=True),
         code={"train.sh": SH}),
    case("shell_no_args", hps(sagemaker_program="train.sh"), code={"train.sh": SH}),
    case("command_entry", hps(sagemaker_program="train", lr=0.1), code={"train": SH}),
    case("subfolder_py", hps(sagemaker_program="src/train.py", lr=0.1), code={"src/train.py": PY}),
    case("subfolder_sh", hps(sagemaker_program="bin/run.sh", lr=0.1), code={"bin/run.sh": SH}),
    case("requirements", hps(sagemaker_program="train.py", lr=0.1),
         code={"train.py": PY, "requirements.txt": "six\n"}),
    case("setup_py_package", hps(sagemaker_program="trainer.py", lr=0.1),
         code={"setup.py": "from setuptools import setup\nsetup(name='trainer', py_modules=['trainer'])\n",
               "trainer.py": PY, "requirements.txt": "six\n"}),
    case("setup_py_extensionless", hps(sagemaker_program="trainer"),
         code={"setup.py": "from setuptools import setup\nsetup(name='trainer', py_modules=['trainer'])\n",
               "trainer.py": PY}),
    case("error_no_program", hps(lr=0.1)),
    case("error_equals_in_name", dict(hps(sagemaker_program="train.py"), **{"a=b": "1"})),
    case("error_dotdot", hps(sagemaker_program="../t.py")),
    case("error_dash", hps(sagemaker_program="-c")),
    case("error_space", hps(sagemaker_program="a b.py")),
    case("error_absolute", hps(sagemaker_program="/abs.py")),
    case("error_dot_segment", hps(sagemaker_program="./t.py")),
] + [  # where the toolkit crashes or differs: deep values, base dirs as given, a final newline, non-strings
    case("deep_list_900", dict(hps(sagemaker_program="train.py"), d="[" * 900 + "]" * 900)),
    case("deep_list_950", dict(hps(sagemaker_program="train.py"), d="[" * 950 + "]" * 950)),
    case("deep_dict_900", dict(hps(sagemaker_program="train.py"), d='{"a":' * 899 + "{}" + "}" * 899,
                               sagemaker_custom="[" * 900 + "1" + "]" * 900)),
    # the toolkit's limit (CPython 3.11): 987 levels run, 988 die encoding SM_TRAINING_ENV, two levels further in
    case("deep_list_987", dict(hps(sagemaker_program="train.py"), d="[" * 987 + "]" * 987)),
    case("deep_list_988", dict(hps(sagemaker_program="train.py"), d="[" * 988 + "]" * 988)),
    case("deep_dict_987", dict(hps(sagemaker_program="train.py"), d='{"a":' * 986 + "{}" + "}" * 986,
                               sagemaker_custom="[" * 987 + "1" + "]" * 987)),
    case("deep_dict_988", dict(hps(sagemaker_program="train.py"), d='{"a":' * 987 + "{}" + "}" * 987)),
    case("deep_resourceconfig_900", hps(sagemaker_program="train.py"),
         resourceconfig='{"current_host": "algo-1", "hosts": ["algo-1"], "x": %s}' % ("[" * 898 + "]" * 898)),
    case("newline_setup_py", hps(sagemaker_program="train.py\n"),
         code={"setup.py": "from setuptools import setup\nsetup(name='train', py_modules=['train'])\n",
               "train.py": PY}),
] + [case("basedir_" + name, hps(sagemaker_program="train.py", lr=0.1), inputdataconfig={"training": CHANNEL},
          env={"SAGEMAKER_BASE_DIR": value})  # "<base>" is the tree's absolute path
     for name, value in (("trailing_slash", "<base>/"), ("dot", "<base>/./"), ("double_slash", "<base>//"),
                         ("dotdot", "<base>/../ml"), ("all", "<base>/.//../ml/"))
] + [case("nonstring_" + name, hps(sagemaker_program="train.py", **{key: value}))
     for name, key, value in (("region_null", "sagemaker_region", None),
                              ("region_false", "sagemaker_region", False),
                              ("region_zero", "sagemaker_region", 0),
                              ("region_empty_list", "sagemaker_region", []),
                              ("log_level_true", "sagemaker_container_log_level", True))
]

# The region boto3 finds, from AWS_DEFAULT_REGION and the shared files under HOME.
TRAIN = hps(sagemaker_program="train.py")
CFG = ".aws/config"


def region_case(name, files, env=None, hyperparameters=TRAIN):
    return case("region_" + name, hyperparameters, env=env, files=files)


CASES += [
    region_case("empty_default_region", {CFG: "[default]\nregion=us-east-1\n"}, {"AWS_DEFAULT_REGION": ""}),
    region_case("default_profile_before_profile", {CFG: "[profile dev]\nregion=eu-west-1\n[profile prod]\n"
                                                        "region=ap-northeast-1\n"},
                {"AWS_PROFILE": "dev", "AWS_DEFAULT_PROFILE": "prod"}),
    region_case("profile_two_spaces", {CFG: "[profile  dev]\nregion=eu-west-1\n"}, {"AWS_PROFILE": "dev"}),
    region_case("profile_quoted", {CFG: '[profile "dev"]\nregion=eu-west-1\n'}, {"AWS_PROFILE": "dev"}),
    region_case("profile_quoted_space", {CFG: '[profile "my dev"]\nregion=eu-west-1\n'}, {"AWS_PROFILE": "my dev"}),
    region_case("credentials_file", {"creds": "[default]\nregion=eu-north-1\n"},
                {"AWS_SHARED_CREDENTIALS_FILE": "<root>/creds"}),
    region_case("credentials_over_config", {".aws/credentials": "[default]\nregion=eu-north-1\n",
                                            CFG: "[default]\nregion=us-east-2\n"}),
    region_case("credentials_profile_only", {".aws/credentials": "[dev]\nregion=ca-central-1\n"},
                {"AWS_PROFILE": "dev"}),
    region_case("config_file_var", {"cfg/config": "[default]\nregion=sa-east-1\n"},
                {"AWS_CONFIG_FILE": "$CFG_DIR/${CFG_NAME}", "CFG_DIR": "<root>/cfg", "CFG_NAME": "config"}),
    region_case("config_file_tilde", {"alt/config": "[default]\nregion=sa-east-1\n"},
                {"AWS_CONFIG_FILE": "~/alt/config"}),
    region_case("config_file_empty", {CFG: "[default]\nregion=me-south-1\n"}, {"AWS_CONFIG_FILE": ""}),
    region_case("later_default_wins", {CFG: "[profile default]\nregion=us-west-1\n[default]\nregion=us-west-2\n"}),
    region_case("later_profile_default_wins", {CFG: "[default]\nregion=us-west-2\n[profile default]\noutput=json\n"}),
    region_case("ini_default_section", {CFG: "[DEFAULT]\nregion=af-south-1\n[profile dev]\noutput=json\n"},
                {"AWS_PROFILE": "dev"}),
    region_case("no_default_profile", {CFG: "[profile dev]\nregion=eu-west-1\n"}),
    region_case("aws_region_ignored", {CFG: "[default]\nregion=us-east-2\n"}, {"AWS_REGION": "eu-west-3"}),
    region_case("hyperparameter_wins", {CFG: "[default]\nregion=us-east-2\n"},
                hyperparameters=hps(sagemaker_program="train.py", sagemaker_region="eu-south-1")),
    # Where botocore fails, boto3.Session() raises and the toolkit crashes, even with sagemaker_region set.
    # (A region continued on an indented line, "us-east-1\n  eu-west-1", the toolkit exports with its newline;
    # sm-train refuses it on purpose, so it is a bad-input row in test_awsfiles.py, not a golden case.)
    region_case("continued_empty_first_line", {CFG: "[default]\nregion =\n  us-east-1\n"}),
    region_case("unknown_profile", {CFG: "[default]\nregion=us-east-1\n"}, {"AWS_PROFILE": "nope"},
                hyperparameters=hps(sagemaker_program="train.py", sagemaker_region="us-west-2")),
    region_case("empty_profile", {CFG: "[default]\nregion=us-east-1\n"}, {"AWS_PROFILE": ""}),
    region_case("bare_section", {CFG: "[dev]\nregion=eu-west-1\n"}, {"AWS_PROFILE": "dev"}),
    region_case("credentials_profile_prefix", {".aws/credentials": "[profile dev]\nregion=eu-west-1\n"},
                {"AWS_PROFILE": "dev"}),
    region_case("unparsable", {CFG: "region=us-east-1\n[default\n"},
                hyperparameters=hps(sagemaker_program="train.py", sagemaker_region="us-west-2")),
    region_case("duplicate_section", {CFG: "[default]\nregion=us-east-1\n[default]\nregion=us-east-2\n"}),
]

RECORDER = r"""
import json, os, socket, subprocess, sys
baseline = dict(os.environ)
out = baseline.pop("RECORD_TO")
del os.environ["RECORD_TO"]
code_dir = os.path.join(os.environ["SAGEMAKER_BASE_DIR"], "code")
calls = []
real_popen = subprocess.Popen

class Recording(real_popen):
    def __init__(self, args, *a, **kw):
        if kw.get("cwd") == code_dir:
            env = kw.get("env") or os.environ
            calls.append({"argv": list(args), "cwd": kw["cwd"],
                          "env": {k: v for k, v in env.items() if baseline.get(k) != v}})
            args = ["true"]
        super().__init__(args, *a, **kw)

subprocess.Popen = Recording
socket.gethostbyname = lambda host: "127.0.0.1"
status = 0
try:
    from sagemaker_training.cli.train import main
    main()
except SystemExit as e:
    status = e.code if isinstance(e.code, int) else (0 if e.code is None else 1)
with open(out, "w") as f:
    json.dump({"calls": calls, "status": status}, f)
"""


def fake_nvidia_smi(folder, gpus):
    path = os.path.join(folder, "nvidia-smi")
    lines = "".join("GPU %d: NVIDIA A10G (UUID: GPU-%04d)\\n  MIG 1g.10gb Device 0: (UUID: MIG-x)\\n" % (i, i)
                    for i in range(gpus))
    with open(path, "w") as f:
        f.write("#!/bin/sh\nprintf '%s'\n" % lines)
    os.chmod(path, 0o755)


def materialize(spec, base, bin_dir):
    """Write a case's tree under ``base``; the same function the tests use."""
    config = os.path.join(base, "input", "config")
    os.makedirs(config)
    for key, name in (("hyperparameters", "hyperparameters.json"), ("inputdataconfig", "inputdataconfig.json"),
                      ("resourceconfig", "resourceconfig.json")):
        with open(os.path.join(config, name), "w", encoding="utf-8") as f:
            f.write(spec[key])
    for rel, body in spec["code"].items():
        path = os.path.join(base, "code", rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w") as f:
            f.write(body)
        os.chmod(path, 0o755 if body.startswith("#!") else 0o644)
    os.makedirs(os.path.join(base, "code"), exist_ok=True)
    os.makedirs(os.path.join(base, "output"), exist_ok=True)
    os.makedirs(bin_dir, exist_ok=True)
    for rel, body in spec.get("files", {}).items():
        path = os.path.join(os.path.dirname(os.path.dirname(base)), rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w", encoding="utf-8") as f:
            f.write(body)
    if spec["gpus"]:
        fake_nvidia_smi(bin_dir, spec["gpus"])


def record(python, name, spec, scratch):
    base = os.path.join(scratch, name, "opt", "ml")
    bin_dir = os.path.join(scratch, name, "bin")
    materialize(spec, base, bin_dir)
    out = os.path.join(scratch, name, "record.json")
    env = {"PATH": bin_dir + ":/usr/bin:/bin", "HOME": os.path.join(scratch, name), "LANG": "C.UTF-8",
           "SAGEMAKER_BASE_DIR": base, "RECORD_TO": out}
    env.update(case_environ(spec, os.path.join(scratch, name), base))
    proc = subprocess.run([python, "-c", RECORDER], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    with open(out) as f:
        rec = json.load(f)
    failure = os.path.join(base, "output", "failure")
    program = rec["calls"][-1] if rec["calls"] and rec["status"] == 0 else None

    def norm(text):
        return text.replace(base, "<base>").replace(python, "<python>").replace(os.path.join(scratch, name), "<root>")

    expected = {
        "status": rec["status"],
        "failure": norm(open(failure).read()) if os.path.exists(failure) else None,
        "argv": [norm(a) for a in program["argv"]] if program else None,
        "cwd": norm(program["cwd"]) if program else None,
        "env": {k: norm(v) for k, v in program["env"].items()} if program else None,
        "install": [[norm(a) for a in call["argv"]] for call in rec["calls"][:-1]] if program else [],
    }
    if rec["status"] != 0 and expected["failure"] is None:
        sys.stderr.write(proc.stdout.decode(errors="replace"))
    return {"case": name, "recorded_with": "sagemaker-training 5.1.4", "input": spec, "expected": expected,
            "cpus": os.cpu_count()}  # the recording machine's, as the toolkit's SM_NUM_CPUS saw it


def main():
    python = sys.argv[1]
    scratch = tempfile.mkdtemp(prefix="sm-golden-")
    only = tuple(sys.argv[2:])
    try:
        for name, spec in CASES:
            if only and not name.startswith(only):
                continue
            result = record(python, name, spec, scratch)
            with open(os.path.join(GOLDEN, name + ".json"), "w", encoding="utf-8") as f:
                json.dump(result, f, indent=2, ensure_ascii=False, sort_keys=True)
                f.write("\n")
            print("%-24s status %s" % (name, result["expected"]["status"]))
    finally:
        shutil.rmtree(scratch)


if __name__ == "__main__":
    main()
