"""Publishers: one subpackage or module per output, each reading the results hub and nothing else."""

PDF_VARIANT = "pdf/ua-1"  # every PDF the toolkit prints (documents and packs) is tagged PDF/UA-1
