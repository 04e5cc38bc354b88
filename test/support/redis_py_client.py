"""A redis-py client in Sentinel mode, driven line by line from stdin, for the client tests.

Usage: python redis_py_client.py SENTINEL_PORT MASTER_NAME
Each input line is `KEY VALUE DEADLINE_SECONDS`: the client writes KEY through the master that the
Sentinel names, retrying (as an application would) until the write succeeds or the deadline passes, and
prints `ok HOST:PORT` (the master it used) or `fail ERROR`. The same Sentinel client and master pool
serve every line, so what is tested is redis-py following failovers on its own.
"""

import sys
import time

from redis.sentinel import Sentinel

port = int(sys.argv[1])
name = sys.argv[2]
sentinel = Sentinel([("127.0.0.1", port)], socket_timeout=1.0)
master = sentinel.master_for(name, socket_timeout=1.0)
print("ready", flush=True)

for line in sys.stdin:
    key, value, deadline_s = line.split()
    deadline = time.monotonic() + float(deadline_s)
    last = None
    while True:
        try:
            master.set(key, value)
            host, used_port = master.connection_pool.get_master_address()
            print(f"ok {host}:{used_port}", flush=True)
            break
        except Exception as error:  # any failure: retry until the deadline, as an application would
            last = error
            if time.monotonic() >= deadline:
                print(f"fail {type(last).__name__}: {last}".replace("\n", " "), flush=True)
                break
            time.sleep(0.1)
