"""The start of the pyz on Python 3.7+, run by its __main__.py (main.py) from the bytecode file of the running
Python, where the build compiled it, or from sources.marshal. The build appends the call that starts the launcher:
boot(_modules, __loader__, the bytecode file's name or None, build_pyz.START)."""

import sys
from _frozen_importlib import ModuleSpec


class Bytecode(object):
    """Finds and loads the launcher's modules from ``modules``: one read of the archive for all of them.

    ``modules``: {module: (is package, archive name, form, data)}, form "code" (the code object, unmarshalled with
    the file), "zlib" (the marshalled code, compressed) or "source" (data: the source, or None: it is in
    sources.marshal). ``loader``: the archive's; ``bundle``: the bytecode file's name, None for the sources."""

    def __init__(self, modules, loader, bundle):
        self.modules, self.loader, self.archive = modules, loader, sys.path[0]
        self.bundle = bundle  # what --version shows

    def find_spec(self, name, path=None, target=None):
        entry = self.modules.get(name)
        if entry is None:
            return None
        spec = ModuleSpec(name, self, origin=self.archive + "/" + entry[1], is_package=entry[0])
        spec.has_location = True
        if entry[0]:
            spec.submodule_search_locations = [spec.origin.rpartition("/")[0]]
        return spec

    def create_module(self, spec):
        return None

    def exec_module(self, module):
        exec(self.code(module.__name__), module.__dict__)

    def code(self, name):
        package, arcname, form, data = self.modules[name]
        if form == "code":
            return data
        if form == "zlib":
            from marshal import loads
            from zlib import decompress

            return loads(decompress(data))
        return compile(data or self.source(name), arcname, "exec", dont_inherit=True)

    def source(self, name):
        from marshal import loads

        return loads(self.loader.get_data(self.archive + "/sources.marshal"))[1][name][3]

    def get_source(self, name):  # for tracebacks
        return self.source(name).decode("utf-8")


def run_modules(finder, names):
    """Run the modules ``names``, each after those it imports, as the import system would run them but without
    its work per module (about 35 us each)."""
    for name in names:
        spec = finder.find_spec(name)
        module = type(sys)(name)
        module.__spec__, module.__loader__, module.__file__ = spec, finder, spec.origin
        package = spec.submodule_search_locations is not None
        if package:
            module.__path__ = spec.submodule_search_locations
        module.__package__ = name if package else name.rpartition(".")[0]
        sys.modules[name] = module
        finder.exec_module(module)
        parent, _, child = name.rpartition(".")
        if parent:
            setattr(sys.modules[parent], child, module)


def boot(modules, loader, bytecode_file, start):
    """Serve the launcher's imports from ``modules``, run the modules of ``start``, then the launcher."""
    finder = Bytecode(modules, loader, bytecode_file)
    sys.meta_path.insert(0, finder)
    run_modules(finder, start)
    from launcher.cli import main

    sys.exit(main())
