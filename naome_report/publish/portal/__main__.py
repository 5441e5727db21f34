"""python -m naome_report.publish.portal [data_dir] [out_dir]: rebuild the portal from published results."""

from naome_report.publish.portal.site import main

main()
