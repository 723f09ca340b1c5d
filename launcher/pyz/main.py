import sys
from marshal import loads

if sys.version_info < (3, 7):
    from launcher.too_old import refuse

    sys.exit(refuse())
try:  # the launcher compiled for this Python at build time, else its sources (build_pyz.py)
    from _frozen_importlib_external import MAGIC_NUMBER

    _boot, _modules = loads(__loader__.get_data("%s/pyc/%s-%s.marshal" % (
        sys.path[0], sys.implementation.cache_tag, MAGIC_NUMBER.hex())))
except (ImportError, OSError):
    _boot, _modules = loads(__loader__.get_data(sys.path[0] + "/sources.marshal"))
exec(_boot)
