#!/usr/bin/env bash
# Prints the Python that `make` builds .venv from: the operating system's own python3 where it is 3.11 or
# newer and can make a virtual environment, else the first python3 on PATH.
#
# Why the system one first: Debian and Ubuntu build CPython with profile-guided and link-time optimisation;
# pyenv's (and a plain `./configure`) build has neither. On the build machine the same packs took 0.54 CPU s
# each on Debian's 3.11.2 against 0.60-0.67 on pyenv's 3.11.7, and the full build + audit 73 s against 81 s,
# with byte-identical outputs. Override with `make PYTHON=/path/to/python3 ...`.
set -u
usable() { "$1" -c 'import sys, venv, ensurepip; sys.exit(sys.version_info < (3, 11))' >/dev/null 2>&1; }
for candidate in /usr/bin/python3 /usr/local/bin/python3; do
  if [ -x "$candidate" ] && usable "$candidate"; then echo "$candidate"; exit 0; fi
done
command -v python3 || echo python3
