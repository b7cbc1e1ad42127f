#!/usr/bin/env python3
"""Run tests/integration/moto/moto_sigfix.py with reproducible IAM keys.

Why: moto keeps its state in memory, so a restarted moto hands out new IAM
access keys, and a daemon started before the outage would be locked out
for good. Here moto's IAM id helpers (moto.iam.utils: access key ids, secret
keys) draw from a private random.Random(E2E_MOTO_SEED) instead of moto's
shared generator, which request ids and everything else also consume. So
moto-up.sh, making the same IAM calls in the same order, re-creates the
restricted user with the very same access key, and test_daemon_lifecycle.sh
can stop and restart the emulator under a running daemon. Nothing else of
moto or of the sigfix changes. Test-only.
Usage: moto_seeded.py SIGFIX_PY [moto_server flags...]
"""
import os
import random
import runpy
import sys

import moto.iam.utils as iam_utils

iam_utils.random = random.Random(int(os.environ.get("E2E_MOTO_SEED", "4242")))
sigfix = sys.argv[1]
sys.argv = [sigfix] + sys.argv[2:]
runpy.run_path(sigfix, run_name="__main__")
