"""The pyz's own start, not a module of the launcher: build_pyz.py reads these files and packs none of them.
main.py becomes the archive's __main__.py (Python 2.7 must parse it, to refuse it); boot.py (the finder of the
launcher's modules, and the run of START's) is compiled into each bytecode file; compile.py is what each Python
runs at build time."""
