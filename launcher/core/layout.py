"""Every path under the SageMaker base directory, derived from one root."""

import os


class Layout(object):
    """The /opt/ml tree: paths only, nothing is read or created here."""

    def __init__(self, base):
        self.base = base
        self.code = os.path.join(base, "code")
        self.model = os.path.join(base, "model")
        self.input = os.path.join(base, "input")
        self.input_config = os.path.join(self.input, "config")
        self.input_data = os.path.join(self.input, "data")
        self.output = os.path.join(base, "output")
        self.output_data = os.path.join(self.output, "data")
        self.output_intermediate = os.path.join(self.output, "intermediate")
        self.failure = os.path.join(self.output, "failure")
        self.success = os.path.join(self.output, "success")

    def config_file(self, name):
        return os.path.join(self.input_config, name)

    def channel(self, name):
        return os.path.join(self.input_data, name)
