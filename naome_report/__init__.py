"""naome-report: the annual outputs of the National Audit of Metastatic Breast Cancer."""

__version__ = "0.1.0"
