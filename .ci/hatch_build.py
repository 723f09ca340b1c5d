"""A build hook of hatchling (pyproject.toml): no wheel or sdist without launcher/sm-train.pyz, which `make release`
copies from dist/. Without it the package's `sm-train pyz` would have nothing to write."""

import os

from hatchling.builders.hooks.plugin.interface import BuildHookInterface


class NeedsThePyz(BuildHookInterface):
    def initialize(self, version, build_data):
        if not os.path.isfile(os.path.join(self.root, "launcher", "sm-train.pyz")):
            raise SystemExit("sm-train: launcher/sm-train.pyz is missing: build the package with `make release`, "
                             "which copies dist/sm-train.pyz there")
