"""The pure pipeline of one start: the tree, the job files, hyperparameters, probes, the environment,
the program and the plan, and --print-env. Uses only the shared pieces above it (errors, log, jsonc, options)."""
