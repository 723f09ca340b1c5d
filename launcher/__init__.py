"""sm-train: make any container image a SageMaker-compatible training image."""

__version__ = "0.2.0"
