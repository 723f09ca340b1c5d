"""What each Python runs at build time (build_pyz.py): compiles the start and the launcher's modules into the file
named by argv[1], marshalled as main.py reads it, and prints the file's name in the pyz: the cache tag and magic
number, which zipimport also checks, computed as main.py computes them.

stdin: marshal (format 4) of (boot.py's source, the call that follows it with %r for that name, {module: (is
package, archive name, form, source)}), the forms being those that boot.py's finder reads.
"""

import marshal
import sys
import zlib
from _frozen_importlib_external import MAGIC_NUMBER


def main():
    boot, call, modules = marshal.loads(sys.stdin.buffer.read())
    bundle = "pyc/%s-%s.marshal" % (sys.implementation.cache_tag, MAGIC_NUMBER.hex())
    compiled = {}
    for module, (package, arcname, form, source) in modules.items():
        code = None
        if form != "source":  # optimize=2, no docstrings: launcher/ reads none (a test checks it)
            code = compile(source, arcname, "exec", dont_inherit=True, optimize=2)
            if form == "zlib":
                code = zlib.compress(marshal.dumps(code), 9)
        compiled[module] = (package, arcname, form, code)
    start = compile(boot + call % (bundle,), "launcher/pyz/boot.py", "exec", dont_inherit=True, optimize=2)
    with open(sys.argv[1], "wb") as f:
        f.write(marshal.dumps((start, compiled)))
    print(bundle)


if __name__ == "__main__":
    main()
