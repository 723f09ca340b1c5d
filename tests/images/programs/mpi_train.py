"""The MPI test's train.py: every rank says where it runs, an allreduce sums rank + 1, rank 0 writes it all
into the model. The rank named in a ``fail_rank`` file beside it exits with 3 instead."""

import json
import os
import socket
import sys

from mpi4py import MPI

comm = MPI.COMM_WORLD
rank = comm.Get_rank()
if os.path.exists("fail_rank") and int(open("fail_rank").read()) == rank:
    sys.exit(3)
total = comm.allreduce(rank + 1)
where = comm.gather({"rank": rank, "hostname": socket.gethostname(), "current_host": os.environ.get("CURRENT_HOST"),
                     "local_rank": os.environ.get("OMPI_COMM_WORLD_LOCAL_RANK")}, root=0)
if rank == 0:
    with open(os.path.join(os.environ["SM_MODEL_DIR"], "mpi.json"), "w") as f:
        json.dump({"size": comm.Get_size(), "sum": total, "ranks": where, "hosts": json.loads(os.environ["SM_HOSTS"])},
                  f)
