"""python -m naome_report"""

import sys

from naome_report.cli import main

sys.exit(main())
