"""Distributed jobs: the engines a node runs (pure), the waits and sshd of this node, the MPI master's outcome."""
