"""The start of the pyz on Python 3.7+, run by its __main__.py (main.py) from the bytecode file of the running
Python, where the build compiled it, or from sources.marshal. The build appends the call that starts the launcher:
boot(_modules, __loader__, the bytecode file's name or None, build_pyz.START)."""

import sys
from _frozen_importlib import ModuleSpec


def boot(modules, loader, bytecode_file, start):
    """Serve the launcher's imports from ``modules`` (``loader``: the archive's, ``bytecode_file``: None for the
    sources), run the modules of ``start``, then the launcher.

    ``modules``: {module: (is package, archive name, form, data)}, form "code" (the code object, unmarshalled with
    the file), "zlib" (the marshalled code, compressed) or "source" (data: the source, or None: it is in
    sources.marshal)."""

    # Defined here, the finder reads boot's arguments as closure cells: no lookup of its attributes per import
    # (callgrind: about 20,000 instructions a start on 3.7). And the start stays one function: each one more
    # costs every start its unmarshalling.
    class Bytecode:
        """Finds and loads the launcher's modules from ``modules``: one read of the archive for all of them."""

        archive = sys.path[0]
        bundle = bytecode_file  # what --version shows

        def find_spec(self, name, path=None, target=None):
            entry = modules.get(name)
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
            package, arcname, form, data = modules[name]
            if form == "code":
                return data
            if form == "zlib":
                from marshal import loads
                from zlib import decompress

                return loads(decompress(data))
            return compile(data or self.source(name), arcname, "exec", dont_inherit=True)

        def source(self, name):
            from marshal import loads

            return loads(loader.get_data(self.archive + "/sources.marshal"))[1][name][3]

        def get_source(self, name):  # for tracebacks
            return self.source(name).decode("utf-8")

    finder = Bytecode()
    sys.meta_path.insert(0, finder)
    # START's modules, each after those it imports, run as the import system would run them but without its
    # work per module (about 35 us each).
    for name in start:
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
    from launcher.cli import main

    sys.exit(main())
