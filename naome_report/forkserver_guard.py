"""Imported only by the build's fork server (as a preload): its children ignore Ctrl-C and end with it.

The fork server gives each child the signal handlers it had after its preloads, so ignoring SIGINT
here makes every pack worker and stage process it forks leave Ctrl-C to the builder. Never import
this module anywhere else: it changes the importing process's signal handling.
"""

import signal

from naome_report.machine import install_child_guard

signal.signal(signal.SIGINT, signal.SIG_IGN)
install_child_guard()
