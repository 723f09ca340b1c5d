"""A tiny training job: fit y = w*x + b to the CSV files of the "training" channel by gradient descent.

Everything comes from the SageMaker environment, as in a real job: the channel's directory
(SM_CHANNEL_TRAINING), the hyperparameters (as arguments, and as SM_HP_* variables), and where the
model goes (SM_MODEL_DIR). Standard library only.
"""

import argparse
import csv
import glob
import json
import os


def read_points(folder):
    points = []
    for path in sorted(glob.glob(os.path.join(folder, "*.csv"))):
        with open(path, newline="") as f:
            for row in csv.DictReader(f):
                points.append((float(row["x"]), float(row["y"])))
    if not points:
        raise SystemExit("no CSV rows found in %s" % folder)
    return points


def fit(points, epochs, lr):
    w = b = 0.0
    n = len(points)
    for _ in range(epochs):
        gw = sum((w * x + b - y) * x for x, y in points) * 2 / n
        gb = sum((w * x + b - y) for x, y in points) * 2 / n
        w, b = w - lr * gw, b - lr * gb
    loss = sum((w * x + b - y) ** 2 for x, y in points) / n
    return w, b, loss


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--epochs", type=int, default=100)
    parser.add_argument("--learning-rate", type=float, default=0.01)
    args = parser.parse_args()

    points = read_points(os.environ["SM_CHANNEL_TRAINING"])
    w, b, loss = fit(points, args.epochs, args.learning_rate)
    print("host %s: %d points, %d epochs -> w=%.4f b=%.4f loss=%.6f"
          % (os.environ["SM_CURRENT_HOST"], len(points), args.epochs, w, b, loss))

    model = os.path.join(os.environ["SM_MODEL_DIR"], "model.json")
    with open(model, "w") as f:
        json.dump({"w": w, "b": b, "loss": loss, "hyperparameters": json.loads(os.environ["SM_HPS"])}, f, indent=2)
    print("model written to %s" % model)


if __name__ == "__main__":
    main()
