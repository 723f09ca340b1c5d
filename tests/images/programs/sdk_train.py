"""The SDK tests' train.py (the estimator's source_dir): writes what it was started with into its host's model
file, then waits until every host has done so, so that --abort-on-container-exit stops nobody early. A
``status`` file beside it makes it exit with that status."""

import json
import os
import sys
import time

env = {k: v for k, v in os.environ.items() if k.startswith("SM_")}
host = env["SM_CURRENT_HOST"]
channels = {name: sorted(os.listdir(env["SM_CHANNEL_" + name.upper()])) for name in json.loads(env["SM_CHANNELS"])}
with open(os.path.join(env["SM_MODEL_DIR"], host + ".json"), "w") as f:
    json.dump({"argv": sys.argv[1:], "env": env, "channels": channels, "cwd": os.getcwd()}, f)

shared = "/opt/ml/shared"  # the SDK mounts it in every container when the code is local
open(os.path.join(shared, host), "w").close()
deadline = time.time() + 120
while not all(os.path.exists(os.path.join(shared, h)) for h in json.loads(env["SM_HOSTS"])):
    if time.time() > deadline:
        sys.exit("the other hosts never wrote their model")
    time.sleep(0.1)
sys.exit(int(open("status").read()) if os.path.exists("status") else 0)
