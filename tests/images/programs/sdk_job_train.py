"""The SDK job tests' train.py (the estimator's source_dir): writes what it was started with (its arguments, every
SM_* variable, TRAINING_JOB_NAME, its working directory, its channels' files and hyperparameters.json as the
platform wrote it) into seen.json in its model dir."""

import json
import os
import sys

env = {k: v for k, v in os.environ.items() if k.startswith("SM_")}


def listing(folder):
    return sorted(os.path.relpath(os.path.join(where, name), folder)
                  for where, _, names in os.walk(folder) for name in names)


channels = {name: listing(env["SM_CHANNEL_" + name.upper()]) for name in json.loads(env["SM_CHANNELS"])}
with open(os.path.join(env.get("SM_INPUT_CONFIG_DIR", "/opt/ml/input/config"), "hyperparameters.json")) as f:
    stored = json.load(f)
seen = {"argv": sys.argv[1:], "env": env, "training_job_name": os.environ.get("TRAINING_JOB_NAME"),
        "cwd": os.getcwd(), "channels": channels, "hyperparameters.json": stored}
with open(os.path.join(env["SM_MODEL_DIR"], "seen.json"), "w") as f:
    json.dump(seen, f, indent=1, sort_keys=True)
