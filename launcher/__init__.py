"""sm-train: make any container image a SageMaker-compatible training image."""

__version__ = "0.1.0"
