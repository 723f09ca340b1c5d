"""Record what the SageMaker Python SDK writes into hyperparameters.json, for tests/test_local.py.

Runs a real ``sagemaker.pytorch.PyTorch`` estimator in local mode (``instance_type="local"``) with the
hyperparameters of CASES, up to the moment the SDK has written each host's config files; only the
docker-compose step is stubbed out, so nothing needs Docker or AWS. Never imported by the tests.

    python3 -m venv /tmp/sdkvenv && /tmp/sdkvenv/bin/pip install sagemaker==2.257.6
    /tmp/sdkvenv/bin/python tests/recorders/record_sdk_golden.py

Writes, into tests/golden_sdk/:
  cases.json           [[key, value, the --hp token that gives that value], ...] (token null: --hps only)
  hyperparameters.json the file the SDK wrote, byte for byte
  sdk.json             the SDK version and the functions the values went through
"""

import json
import os
import sys
import tempfile

GOLDEN = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "golden_sdk")

# (key, value as the user writes it in Python / in an --hps file, the --hp token that means the same)
CASES = [
    ("epochs", 3, "epochs=3"),
    ("negative", -7, "negative=-7"),
    ("big", 12345678901234567890, "big=12345678901234567890"),
    ("lr", 0.001, "lr=0.001"),
    ("tiny", 1e-05, "tiny=1e-5"),
    ("whole-float", 3.0, "whole-float=3.0"),
    ("optimizer", "adam", "optimizer=adam"),
    ("empty", "", "empty="),
    ("spaced", "a b  c", "spaced=a b  c"),
    ("quoted", 'say "hi" \\ bye', 'quoted=say "hi" \\ bye'),
    ("unicode", "h\u00e9llo \u2713", "unicode=h\u00e9llo \u2713"),
    ("newline", "line1\nline2", "newline=line1\nline2"),
    ("flag", True, "flag=true"),
    ("off", False, "off=false"),
    ("nothing", None, "nothing=null"),
    ("layers", [64, 32, 16], "layers=[64, 32, 16]"),
    ("names", ["a", "b c"], 'names=["a", "b c"]'),
    ("empty-list", [], "empty-list=[]"),
    ("opts", {"beta": 0.9, "alpha": [1, True, None]}, 'opts={"beta": 0.9, "alpha": [1, true, null]}'),
    ("empty-dict", {}, "empty-dict={}"),
    ("str-int", "3", 'str-int="3"'),
    ("str-float", "1e-3", 'str-float="1e-3"'),
    ("str-true", "true", 'str-true="true"'),
    ("str-null", "null", 'str-null="null"'),
    ("str-list", "[1, 2]", 'str-list="[1, 2]"'),
    ("version", "1.10", 'version="1.10"'),
    ("a", 1, "a=1"),
    ("UPPER_case", "x", "UPPER_case=x"),
    ("dotted.key", 2, "dotted.key=2"),
]


class Stop(Exception):
    """Raised where the SDK would start docker compose: the config files are written by then."""


def record():
    import sagemaker
    from sagemaker.local import image
    from sagemaker.local.local_session import LocalSession
    from sagemaker.pytorch import PyTorch
    from sagemaker.telemetry import telemetry_logging

    work = tempfile.mkdtemp(prefix="sdk-golden-")
    src = os.path.join(work, "src")
    data = os.path.join(work, "data")
    for d in (src, data):
        os.makedirs(d)
    with open(os.path.join(src, "train.py"), "w") as f:
        f.write("print('never run')\n")

    telemetry_logging._send_telemetry_request = lambda *args, **kwargs: None  # offline: no S3 telemetry call
    image._SageMakerContainer._get_compose_cmd_prefix = staticmethod(lambda: ["docker", "compose"])

    def stop(self, *args, **kwargs):
        raise Stop(self.container_root)

    image._SageMakerContainer._generate_compose_file = stop

    session = LocalSession()
    session.config = {"local": {"local_code": True, "container_root": work}}
    estimator = PyTorch(entry_point="train.py", source_dir=src, framework_version="2.1", py_version="py310",
                        instance_type="local", instance_count=1, role="arn:aws:iam::111111111111:role/golden",
                        image_uri="sm-train-golden:latest", sagemaker_session=session,
                        hyperparameters={key: value for key, value, _ in CASES})
    try:
        estimator.fit({"train": "file://" + data}, wait=True, logs=False, job_name="golden-job")
    except Stop as e:
        root = e.args[0]
    else:
        sys.exit("the SDK did not reach docker compose; nothing recorded")
    (host,) = [h for h in os.listdir(root) if h.startswith("algo-")]
    with open(os.path.join(root, host, "input", "config", "hyperparameters.json"), "rb") as f:
        written = f.read()

    with open(os.path.join(GOLDEN, "hyperparameters.json"), "wb") as f:
        f.write(written)
    with open(os.path.join(GOLDEN, "cases.json"), "w") as f:
        json.dump([list(case) for case in CASES], f, indent=1)
        f.write("\n")
    with open(os.path.join(GOLDEN, "sdk.json"), "w") as f:
        json.dump({"sagemaker": sagemaker.__version__, "python": sys.version.split()[0],
                   "estimator": "sagemaker.pytorch.PyTorch, instance_type=local",
                   "path": ["sagemaker.estimator.EstimatorBase._json_encode_hyperparameters (json.dumps per value)",
                            "sagemaker.job._Job._load_config / _get_train_args: sagemaker.utils.to_string",
                            "sagemaker.local.image._SageMakerContainer.write_config_files",
                            "sagemaker.local.image._write_json_file (json.dump, default separators)"]},
                  f, indent=1)
        f.write("\n")
    print("recorded %d cases from sagemaker %s into %s" % (len(CASES), sagemaker.__version__, GOLDEN))


if __name__ == "__main__":
    record()
